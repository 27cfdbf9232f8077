import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineExecutor, type ExecutorFactory } from './types';

const MAX_SLEEP_MS = 24 * 60 * 60 * 1000;

const sleepInput = z.object({
  ms: z.number({ error: 'expects a number of milliseconds' }).int({ error: 'expects whole milliseconds' }).min(0).max(MAX_SLEEP_MS),
  /** How often progress is reported; default a tenth of the sleep, at least 100 ms. */
  progressEveryMs: z.number().int().min(10).max(MAX_SLEEP_MS).optional(),
});

/** Waits `ms` milliseconds, reporting progress as it goes; an abort ends the wait at once. */
export const createSleepExecutor: ExecutorFactory = () =>
  defineExecutor({
    capability: 'sleep',
    description: 'waits { ms } milliseconds with progress ticks; honours cancellation',
    input: sleepInput,
    async run({ ms, progressEveryMs }, ctx) {
      const tick = progressEveryMs ?? Math.max(100, Math.ceil(ms / 10));
      const started = Date.now();
      ctx.progress(0, `sleeping ${ms} ms`);
      for (let elapsed = 0; elapsed < ms; elapsed = Date.now() - started) {
        // Rejects with an AbortError as soon as the signal aborts: no tick is waited out.
        await delay(Math.min(tick, ms - elapsed), undefined, { signal: ctx.signal });
        const done = Math.min(1, (Date.now() - started) / ms);
        if (done < 1) ctx.progress(done, `slept ${Date.now() - started} of ${ms} ms`);
      }
      ctx.progress(1, `slept ${ms} ms`);
      return { sleptMs: Date.now() - started };
    },
  });
