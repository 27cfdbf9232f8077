import type { BufferedEvent } from './event-buffer';

/**
 * What a task may write into its run's events (issue 9 item 13: a `sleep` with `progressEveryMs: 10`
 * wrote 100 rows a second for a day). Between the Execute stream and the event buffer, per attempt:
 * - progress is coalesced: at most one report per `progressIntervalMs`; a report that comes sooner is
 *   held, replaced by any later one, and written when the interval is over (or when the call ends), so
 *   the last progress is never lost;
 * - log lines pass at most `logPerSecond` a second on average (bursts of `logBurst`) and `maxLogLines`
 *   in all; dropped lines are counted and said once, in a WARN line when the call ends.
 * Whatever a worker sends, an attempt writes at most 1/progressIntervalMs + logPerSecond rows a second.
 */
export interface EventGateOptions {
  sink: (event: BufferedEvent) => void;
  progressIntervalMs: number;
  logPerSecond: number;
  logBurst: number;
  maxLogLines: number;
  now?: () => number;
}

export interface EventGate {
  offer(event: BufferedEvent): void;
  /** The call ended: the held progress and the note of dropped lines go to the sink now. */
  close(): void;
}

export function createEventGate({ sink, progressIntervalMs, logPerSecond, logBurst, maxLogLines, now = Date.now }: EventGateOptions): EventGate {
  let lastProgressAt = Number.NEGATIVE_INFINITY;
  let held: BufferedEvent | undefined;
  let timer: NodeJS.Timeout | undefined;
  let tokens = logBurst;
  let refilledAt = now();
  let logLines = 0;
  let dropped = 0;
  let closed = false;

  const release = () => {
    timer = undefined;
    if (held === undefined) return;
    const event = held;
    held = undefined;
    lastProgressAt = now();
    sink(event);
  };

  return {
    offer(event) {
      if (closed) return;
      if (event.kind === 'TASK_PROGRESS') {
        const at = now();
        if (held === undefined && at - lastProgressAt >= progressIntervalMs) {
          lastProgressAt = at;
          sink(event);
          return;
        }
        held = event;
        timer ??= setTimeout(release, Math.max(0, lastProgressAt + progressIntervalMs - at));
        return;
      }
      const at = now();
      tokens = Math.min(logBurst, tokens + ((at - refilledAt) / 1000) * logPerSecond);
      refilledAt = at;
      if (tokens < 1 || logLines >= maxLogLines) {
        dropped += 1;
        return;
      }
      tokens -= 1;
      logLines += 1;
      sink(event);
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      release();
      if (dropped > 0) {
        sink({ kind: 'TASK_LOG', level: 'WARN', message: `${dropped} log lines of this attempt were dropped (at most ${logPerSecond} a second and ${maxLogLines} in all are kept)` });
      }
    },
  };
}
