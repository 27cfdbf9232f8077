import type { RunEventOutputDelta } from '@orchestra/lib';
import type { BufferedEvent } from './event-buffer';
import { createOutputDeltaBatcher } from './output-deltas';

/** A batcher over a buffer whose writes the test releases by hand; `batches` are the writes, in order. */
function harness(options: { intervalMs?: number; maxChars?: number; maxEventChars?: number } = {}) {
  let buffered: BufferedEvent[] = [];
  const batches: BufferedEvent[][] = [];
  const releases: Array<() => void> = [];
  let clock = 0;
  const batcher = createOutputDeltaBatcher({
    push: (event) => buffered.push(event),
    flush: () => {
      batches.push(buffered);
      buffered = [];
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    intervalMs: options.intervalMs ?? 50,
    maxChars: options.maxChars ?? 1_000_000,
    ...(options.maxEventChars === undefined ? {} : { maxEventChars: options.maxEventChars }),
    now: () => clock,
  });
  const deltas = (events: readonly BufferedEvent[]): RunEventOutputDelta[] => events.flatMap((e) => (e.kind === 'TASK_OUTPUT_DELTA' ? [e.delta] : []));
  return {
    batcher,
    batches,
    rest: () => buffered,
    deltas,
    /** Lets the oldest write finish. */
    finishWrite: async () => {
      releases.shift()?.();
      await Promise.resolve();
      await Promise.resolve();
    },
    advance: async (ms: number) => {
      clock += ms;
      await jest.advanceTimersByTimeAsync(ms);
    },
  };
}

const joined = (deltas: readonly RunEventOutputDelta[]): string => deltas.reduce((text, d) => (d.restart ? d.text : text + d.text), '');

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('createOutputDeltaBatcher', () => {
  it('sends the first token at once and coalesces the ones that follow into one event per interval', async () => {
    const h = harness();
    h.batcher.offer('Hello', false);
    expect(h.deltas(h.batches.flat())).toEqual([{ seq: 1, offset: 0, text: 'Hello', restart: false }]);
    for (const token of [' big', ' wide', ' world']) h.batcher.offer(token, false);
    await h.finishWrite();
    // The write is done but the interval is not over: still one batch.
    expect(h.batches).toHaveLength(1);
    await h.advance(50);
    expect(h.batches).toHaveLength(2);
    expect(h.deltas(h.batches[1]!)).toEqual([{ seq: 2, offset: 5, text: ' big wide world', restart: false }]);
  });

  it('never has two writes in flight: tokens wait for a slow write however long it takes', async () => {
    const h = harness();
    h.batcher.offer('a', false);
    for (let i = 0; i < 1_000; i += 1) h.batcher.offer('b', false);
    await h.advance(5_000);
    expect(h.batches).toHaveLength(1);
    await h.finishWrite();
    expect(h.batches).toHaveLength(2);
    expect(h.deltas(h.batches[1]!)).toEqual([{ seq: 2, offset: 1, text: 'b'.repeat(1_000), restart: false }]);
  });

  it('writes at most one batch per interval for a fast stream (2,000 tokens at 1 ms)', async () => {
    const h = harness({ intervalMs: 50 });
    const tokens: string[] = [];
    for (let i = 0; i < 2_000; i += 1) {
      tokens.push(`t${i} `);
      h.batcher.offer(`t${i} `, false);
      await h.advance(1);
      await h.finishWrite();
    }
    h.batcher.close();
    const all = [...h.deltas(h.batches.flat()), ...h.deltas(h.rest())];
    // 2 s of tokens: one batch at the start, then at most one per 50 ms.
    expect(h.batches.length).toBeLessThanOrEqual(41);
    expect(h.batches.length).toBeGreaterThan(1);
    expect(all.map((d) => d.seq)).toEqual(all.map((_, i) => i + 1));
    expect(joined(all)).toBe(tokens.join(''));
    for (const d of all) expect(d.offset).toBe(joined(all.slice(0, d.seq - 1)).length);
  });

  it('splits a big batch into events of at most maxEventChars without cutting a surrogate pair', () => {
    const h = harness({ maxEventChars: 4 });
    h.batcher.offer('x', false);
    h.batcher.offer('abc😀defghij', false);
    h.batcher.close();
    const rest = h.deltas(h.rest());
    expect(rest.map((d) => d.text)).toEqual(['abc', '😀de', 'fghi', 'j']);
    expect(rest.map((d) => d.offset)).toEqual([1, 4, 8, 12]);
  });

  it('starts afresh on a restart, abandoning what it held, with the offset back at 0', async () => {
    const h = harness();
    h.batcher.offer('first provider', false);
    h.batcher.offer(' broke', false);
    h.batcher.offer('second', true);
    h.batcher.offer(' answer', false);
    await h.finishWrite();
    await h.advance(50);
    const all = h.deltas(h.batches.flat());
    expect(all).toEqual([
      { seq: 1, offset: 0, text: 'first provider', restart: false },
      { seq: 2, offset: 0, text: 'second answer', restart: true },
    ]);
    expect(joined(all)).toBe('second answer');
  });

  it('puts what it holds into the buffer when the call ends, and takes nothing after', () => {
    const h = harness();
    h.batcher.offer('one', false);
    h.batcher.offer(' two', false);
    h.batcher.close();
    h.batcher.offer(' three', false);
    expect(h.deltas(h.rest())).toEqual([{ seq: 2, offset: 3, text: ' two', restart: false }]);
    expect(h.batcher.sent).toBe(2);
  });

  it('streams at most maxChars per attempt and says once in a WARN line how much it dropped', () => {
    const h = harness({ maxChars: 10 });
    h.batcher.offer('0123456', false);
    h.batcher.offer('789abc', false);
    h.batcher.offer('def', false);
    h.batcher.close();
    const all = [...h.batches.flat(), ...h.rest()];
    expect(joined(h.deltas(all))).toBe('0123456789');
    expect(all.filter((e) => e.kind === 'TASK_LOG')).toEqual([{ kind: 'TASK_LOG', level: 'WARN', message: expect.stringContaining('6 characters of streamed output were not sent live') as unknown }]);
  });
});
