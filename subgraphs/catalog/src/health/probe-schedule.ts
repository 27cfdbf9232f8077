import { createWakeableSleep, idleSleepMs, type Logger } from '@orchestra/lib';

export interface ProbeScheduleDeps {
  /** Claims and starts the probes due now: how many, or undefined when the database failed. */
  round(): Promise<number | undefined>;
  /** Probes started and not yet recorded. */
  inFlight(): number;
  /** Milliseconds until the next probe is due by the database's clock (≤ 0: due now), undefined when none is scheduled. */
  nextDueInMs(): Promise<number | undefined>;
  /** The pace while probes are claimed or in flight, or while the database fails. */
  pollMs: number;
  /**
   * The longest sleep with no probe due or in flight (issue 11: an idle process costs nothing). A
   * probe made due by this process (wake()) is looked at at once; one made due elsewhere (another
   * replica, SQL by hand) within this.
   */
  idleMaxMs: number;
  log: Logger;
}

export interface ProbeSchedule {
  /** Starts the loop (no-op when it runs). */
  start(): void;
  /** Ends the loop; resolves when its round in progress is over (probes in flight are the caller's). */
  stop(): Promise<void>;
  /** A probe may be due sooner than the loop planned (an app created, its URL changed, restored): it looks at once. */
  wake(): void;
}

/**
 * When the health prober looks for due probes: a round at once, then every pollMs while probes are
 * claimed or in flight (or the database fails); with nothing to do, it sleeps until the next probe
 * is due, at most idleMaxMs, unless woken.
 */
export function createProbeSchedule({ round, inFlight, nextDueInMs, pollMs, idleMaxMs, log }: ProbeScheduleDeps): ProbeSchedule {
  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  // A wake-up during a round makes the next sleep return at once: no sleep on an outdated plan.
  const { sleep, wake } = createWakeableSleep(() => running);

  /** pollMs while busy (or failing); else until the next probe is due, never sooner than pollMs nor later than idleMaxMs. */
  const sleepAfter = async (claimed: number | undefined): Promise<number> => {
    if (claimed !== 0 || inFlight() > 0) return pollMs;
    const dueInMs = await nextDueInMs().catch(() => 0);
    const sleepMs = idleSleepMs(dueInMs, pollMs, idleMaxMs);
    if (sleepMs > pollMs) log.debug('health prober idle until the next probe is due', { sleepMs: Math.round(sleepMs), dueInMs: dueInMs === undefined ? null : Math.round(dueInMs) });
    return sleepMs;
  };

  const loop = async (): Promise<void> => {
    while (running) {
      const sleepMs = await sleepAfter(await round());
      await sleep(sleepMs);
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    async stop() {
      running = false;
      wake();
      await loopDone;
    },
    wake,
  };
}
