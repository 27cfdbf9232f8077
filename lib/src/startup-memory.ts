import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's full collection, as `--expose-gc` would give it, without exposing it to the process's own code. */
function fullCollector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    // A new context made while the flag is on has `gc`; the process's own global never does.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

const MIB = 1024 * 1024;
const SETTLE_TRIES = 3;
let _quietAllocation: unknown;
const youngGenerationBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;

export interface StartupMemoryRelease {
  /** Physical size of V8's young generation before and after, in MiB (for the start's log line). */
  youngBeforeMiB: number;
  cancel(): void;
}

/**
 * Gives back what a process's start left behind, once it is serving (issue 11, lean processes).
 *
 * Starting builds schemas, query planners and module code, and leaves tens of MiB of garbage in the
 * old generation and a young generation grown to its maximum (32 MiB here) by everything that
 * survived; an idle process then allocates too little for V8 to collect again, so it kept all of it
 * (the gateway: 153 MiB resident, 44 MiB of it live heap). One full collection now frees the
 * garbage; V8 shrinks the young generation only in a collection that finds allocation quiet over
 * the last ~5 s, so a second one follows after `settleMs`, again (up to three in all) while the
 * young generation is over a quarter of its size at start (skipped when the process is already busy: then V8 has its own collections, and the young generation is in use). Under load V8 grows the young
 * generation again as it needs; this costs two collections of ~50 ms at start.
 */
export function releaseStartupMemory({ settleMs = 6_000, onSettled }: { settleMs?: number; onSettled?: (youngAfterMiB: number) => void } = {}): StartupMemoryRelease {
  const youngBefore = youngGenerationBytes();
  const youngBeforeMiB = Math.round(youngBefore / MIB);
  const gc = fullCollector();
  if (!gc) return { youngBeforeMiB, cancel: () => undefined };
  gc();
  const usedAfterFirst = process.memoryUsage().heapUsed;
  let timer: NodeJS.Timeout;
  // A busy machine can make V8 read the last seconds as not quiet yet: it tries again, at most SETTLE_TRIES times.
  const settle = (triesLeft: number): void => {
    timer = setTimeout(() => {
      // Busy since (more than a young generation's worth allocated and kept): V8 is collecting by itself.
      if (process.memoryUsage().heapUsed - usedAfterFirst > 16 * MIB) return;
      // V8 shrinks it when allocation since the last collection was low but not zero (it reads zero as
      // "not measured"): a process idle to the byte would keep its young generation without these.
      _quietAllocation = Array.from({ length: 4_096 }, (_, i) => ({ i }));
      _quietAllocation = undefined;
      gc();
      const youngAfter = youngGenerationBytes();
      if (youngAfter > youngBefore / 4 && triesLeft > 1) return settle(triesLeft - 1);
      onSettled?.(Math.round(youngAfter / MIB));
    }, settleMs);
    timer.unref();
  };
  settle(SETTLE_TRIES);
  return { youngBeforeMiB, cancel: () => clearTimeout(timer) };
}
