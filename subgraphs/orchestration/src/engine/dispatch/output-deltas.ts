import type { RunEventOutputDelta } from '@orchestra/lib';
import type { BufferedEvent } from './event-buffer';

/**
 * Coalesces an attempt's streamed output (a model's tokens, one Execute message each) into
 * TASK_OUTPUT_DELTA events, so a fast model does not mean one row, one Redis entry and one WebSocket
 * frame per token:
 * - time: the first piece after a quiet spell goes out at once (no added latency); what comes after
 *   it is held until `intervalMs` after the last write began and until that write is done, so an
 *   attempt writes at most 1000/intervalMs batches a second and never has two writes in flight;
 * - size: one event holds at most `maxEventChars` characters (a batch splits into several events);
 * - total: an attempt streams at most `maxChars` characters; the rest is dropped and said once in a
 *   WARN log line (the final output still holds the whole answer).
 * Each event carries the attempt's delta seq (1, 2, 3 ...) and the offset of its text, so a client
 * orders, dedupes and joins pieces; `restart` (a fallback, a re-ask) starts the text afresh.
 */

export interface OutputDeltaBatcherOptions {
  /** Takes one event into the attempt's event buffer. */
  push: (event: BufferedEvent) => void;
  /** Writes the event buffer now; resolves when written (or given up). */
  flush: () => Promise<void>;
  intervalMs: number;
  maxChars: number;
  maxEventChars?: number;
  now?: () => number;
}

export interface OutputDeltaBatcher {
  offer(text: string, restart: boolean): void;
  /** The call ended: what is held goes into the buffer now (for the result's transaction), no more is taken. */
  close(): void;
  /** Deltas written so far (for tests and metrics). */
  readonly sent: number;
}

/** Where to cut `text` at most `max` code units in without splitting a surrogate pair. */
const cutAt = (text: string, max: number): number => {
  if (text.length <= max) return text.length;
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff && max > 1 ? max - 1 : max;
};

export function createOutputDeltaBatcher({ push, flush, intervalMs, maxChars, maxEventChars = 16_384, now = Date.now }: OutputDeltaBatcherOptions): OutputDeltaBatcher {
  let pending = '';
  let pendingRestart = false;
  let seq = 0;
  let offset = 0;
  let total = 0;
  let dropped = 0;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let writing = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const pushPending = () => {
    let restart = pendingRestart;
    pendingRestart = false;
    while (pending !== '' || restart) {
      const cut = cutAt(pending, maxEventChars);
      const delta: RunEventOutputDelta = { seq: (seq += 1), offset, text: pending.slice(0, cut), restart };
      pending = pending.slice(cut);
      offset += delta.text.length;
      restart = false;
      push({ kind: 'TASK_OUTPUT_DELTA', delta });
    }
  };

  const release = () => {
    timer = undefined;
    if (closed || (pending === '' && !pendingRestart)) return;
    pushPending();
    writing = true;
    lastWriteAt = now();
    void flush().finally(() => {
      writing = false;
      schedule();
    });
  };

  function schedule() {
    if (closed || writing || timer !== undefined || (pending === '' && !pendingRestart)) return;
    const wait = lastWriteAt + intervalMs - now();
    if (wait <= 0) release();
    else timer = setTimeout(release, wait);
  }

  return {
    offer(text, restart) {
      if (closed) return;
      if (restart) {
        // What is held was never sent: it is abandoned with what was.
        pending = '';
        pendingRestart = true;
        offset = 0;
      }
      const room = Math.max(0, maxChars - total);
      const kept = text.length <= room ? text : text.slice(0, cutAt(text, room));
      dropped += text.length - kept.length;
      total += kept.length;
      pending += kept;
      schedule();
    },
    close() {
      if (closed) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      pushPending();
      closed = true;
      if (dropped > 0) {
        push({ kind: 'TASK_LOG', level: 'WARN', message: `${dropped} characters of streamed output were not sent live (at most ${maxChars} per attempt); the output holds the whole answer` });
      }
    },
    get sent() {
      return seq;
    },
  };
}
