/**
 * The pause of a poll loop (the outbox relays, the catalog's health prober, the notifications fan-out and
 * e-mail and webhook senders): `sleep(ms)` waits up to
 * `ms`, `wake()` ends the current pause at once (new work arrived) or, when none is under way, makes
 * the next one return at once, and while the loop is stopped (`isRunning()` false) a pause does not wait.
 */
export interface WakeableSleep {
  sleep(ms: number): Promise<void>;
  wake(): void;
}

/**
 * How long a poll loop with nothing to do sleeps (issue 11: an idle process costs nothing): until the
 * next row it handles is due (by the database's clock), never sooner than `pollMs` (what it slept
 * before), and at most `idleMaxMs`. New work wakes it at once (wake(): Publish, a fan-out's commit, an
 * endpoint change), so `idleMaxMs` bounds only what another replica or SQL by hand would make it miss.
 * `nextDueInMs` undefined: nothing waits.
 */
export const idleSleepMs = (nextDueInMs: number | undefined, pollMs: number, idleMaxMs: number): number => Math.max(pollMs, Math.min(idleMaxMs, nextDueInMs ?? Infinity));

export function createWakeableSleep(isRunning: () => boolean): WakeableSleep {
  let wakeUp: (() => void) | undefined;
  let wakeRequested = false;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (wakeRequested || !isRunning()) {
          wakeRequested = false;
          return resolve();
        }
        const done = () => {
          clearTimeout(timer);
          wakeUp = undefined;
          wakeRequested = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wakeUp = done;
      }),
    wake() {
      if (wakeUp) wakeUp();
      else wakeRequested = true;
    },
  };
}
