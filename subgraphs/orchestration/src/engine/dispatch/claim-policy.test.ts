import type { SlotCandidate } from '../../store/dispatch';
import type { AttemptRow, RunRow, TaskRow, WorkerRow } from '../../store/rows';
import { admitAttempt, BACKOFF_SLACK_MS, checkPlacement, groupByNeeds, noSlotDelayMs, placeInOrder, poolConcurrency, redelivery, slotNeedsOf, type PlacementRequest } from './claim-policy';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const run = (over: Partial<RunRow> = {}): RunRow => ({ id: 'run-1', orgId: 'org-1', workflowId: 'wf-1', status: 'QUEUED', ...over }) as RunRow;
const attempt = (over: Partial<AttemptRow> = {}): AttemptRow => ({ id: 'att-1', runId: 'run-1', taskId: 'task-1', attempt: 1, status: 'QUEUED', workerId: null, dispatcherId: null, availableAt: new Date(NOW), ...over }) as AttemptRow;
const task = (over: Partial<TaskRow> = {}): TaskRow =>
  ({ id: 'task-1', runId: 'run-1', stepId: 'a', status: 'QUEUED', currentAttemptId: 'att-1', pool: 'default', capability: 'noop', labels: {}, ...over }) as TaskRow;
const slot = (workerId: string, n: number): SlotCandidate => ({ workerId, slot: n, worker: { id: workerId } as WorkerRow });
const request = (attemptId: string, over: Partial<TaskRow> = {}): PlacementRequest => ({ attemptId, task: task(over) });

describe('admitAttempt', () => {
  it('admits a queued attempt that is its task’s current one, of a live run, past its backoff', () => {
    expect(admitAttempt(run(), attempt(), task(), NOW)).toMatchObject({ kind: 'admit', attempt: { id: 'att-1' }, task: { id: 'task-1' } });
    expect(admitAttempt(run({ status: 'RUNNING' }), attempt({ availableAt: new Date(NOW + BACKOFF_SLACK_MS) }), task(), NOW).kind).toBe('admit');
  });

  it('drops what is gone or has moved on, naming why', () => {
    expect(admitAttempt(run(), undefined, task(), NOW)).toEqual({ kind: 'drop', reason: 'attempt not found' });
    expect(admitAttempt(run(), attempt({ status: 'SUCCEEDED' }), task(), NOW)).toEqual({ kind: 'drop', reason: 'attempt is SUCCEEDED' });
    expect(admitAttempt(run(), attempt(), undefined, NOW)).toEqual({ kind: 'drop', reason: 'task moved on' });
    expect(admitAttempt(run(), attempt(), task({ currentAttemptId: 'att-2' }), NOW)).toEqual({ kind: 'drop', reason: 'task moved on' });
    expect(admitAttempt(run(), attempt(), task({ status: 'CANCELLED' }), NOW)).toEqual({ kind: 'drop', reason: 'task moved on' });
    expect(admitAttempt(run({ status: 'CANCELLED' }), attempt(), task(), NOW)).toEqual({ kind: 'drop', reason: 'run is CANCELLED' });
  });

  it('lets an attempt in its retry backoff wait for the rest of it', () => {
    expect(admitAttempt(run(), attempt({ availableAt: new Date(NOW + 1_500) }), task(), NOW)).toEqual({ kind: 'wait', cause: 'backoff', delayMs: 1_500, reason: 'retry backoff' });
  });

  it('sees a RUNNING attempt delivered again as a redelivery, before anything else', () => {
    expect(admitAttempt(run({ status: 'CANCELLED' }), attempt({ status: 'RUNNING' }), undefined, NOW)).toEqual({ kind: 'redelivered' });
  });
});

describe('redelivery', () => {
  it('drops an attempt this process is executing', () => {
    expect(redelivery({ dispatcherId: 'other' }, { dispatcherId: 'me', executingHere: true })).toEqual({ kind: 'drop', reason: 'already executing here' });
  });
  it('asks about another dispatcher that holds it, and recovers one held by nobody or by this one (which no longer runs it)', () => {
    expect(redelivery({ dispatcherId: 'other' }, { dispatcherId: 'me', executingHere: false })).toEqual({ kind: 'check-holder', holder: 'other' });
    expect(redelivery({ dispatcherId: 'me' }, { dispatcherId: 'me', executingHere: false })).toEqual({ kind: 'recover' });
    expect(redelivery({ dispatcherId: null }, { dispatcherId: 'me', executingHere: false })).toEqual({ kind: 'recover' });
  });
});

describe('slot needs', () => {
  const avoided = { workerIds: ['w-sick'], endpoints: ['10.0.0.9:1'] };
  it('are the task’s pool, capability and labels, passing over the avoided workers', () => {
    expect(slotNeedsOf(task({ pool: 'gpu', capability: 'llm', labels: { zone: 'a' } }), avoided)).toEqual({
      pool: 'gpu',
      capability: 'llm',
      labels: { zone: 'a' },
      avoidWorkerIds: ['w-sick'],
      avoidEndpoints: ['10.0.0.9:1'],
    });
  });
  it('group attempts that ask the same, whatever the order of their labels', () => {
    const groups = groupByNeeds(
      [
        { id: 1, task: task({ labels: { a: '1', b: '2' } }) },
        { id: 2, task: task({ capability: 'sleep' }) },
        { id: 3, task: task({ labels: { b: '2', a: '1' } }) },
        { id: 4, task: task({ pool: 'gpu', labels: { a: '1', b: '2' } }) },
      ],
      avoided,
    );
    expect(groups.map((g) => g.startable.map((s) => s.id))).toEqual([[1, 3], [2], [4]]);
    expect(groups[2]!.needs.pool).toBe('gpu');
  });
  it('ask for the worker-local LLM servers of a model step, and group only steps that need the same ones', () => {
    const local = 'http://127.0.0.1:11434/v1';
    expect(slotNeedsOf(task({ capability: 'llm' }), avoided, [local])).toMatchObject({ capability: 'llm', llmEndpoints: [local] });
    expect(slotNeedsOf(task({ capability: 'llm' }), avoided, [])).not.toHaveProperty('llmEndpoints');
    const groups = groupByNeeds(
      [
        { id: 1, task: task({ capability: 'llm' }), llmEndpoints: [local] },
        { id: 2, task: task({ capability: 'llm' }), llmEndpoints: [] },
        { id: 3, task: task({ capability: 'llm' }) },
        { id: 4, task: task({ capability: 'llm' }), llmEndpoints: [local] },
        { id: 5, task: task({ capability: 'llm' }), llmEndpoints: [local, 'http://127.0.0.1:8000/v1'] },
      ],
      avoided,
    );
    expect(groups.map((g) => g.startable.map((s) => s.id))).toEqual([[1, 4], [2, 3], [5]]);
    expect(groups.map((g) => g.needs.llmEndpoints)).toEqual([[local], undefined, [local, 'http://127.0.0.1:8000/v1']]);
  });
});

describe('placement', () => {
  it('by default gives the i-th attempt the i-th candidate, and leaves the rest waiting', () => {
    const placed = placeInOrder([request('a1'), request('a2'), request('a3')], [slot('w1', 0), slot('w2', 3)]);
    expect([...placed].map(([id, s]) => [id, s.workerId, s.slot])).toEqual([
      ['a1', 'w1', 0],
      ['a2', 'w2', 3],
    ]);
  });

  it('refuses an answer that gives a slot twice, a slot not offered, or places an attempt that did not ask', () => {
    const requests = [request('a1'), request('a2')];
    const candidates = [slot('w1', 0), slot('w1', 1)];
    expect(() => checkPlacement(requests, candidates, placeInOrder(requests, candidates))).not.toThrow();
    expect(() => checkPlacement(requests, candidates, new Map([['a1', slot('w1', 0)], ['a2', slot('w1', 0)]]))).toThrow('gave slot w1#0 twice');
    expect(() => checkPlacement(requests, candidates, new Map([['a1', slot('w2', 0)]]))).toThrow('slot w2#0, which was not offered');
    expect(() => checkPlacement(requests, candidates, new Map([['a9', slot('w1', 0)]]))).toThrow('placed attempt a9, which did not ask');
  });
});

describe('waiting for a slot', () => {
  it('goes back to the queue for longer each time, doubling up to the larger of the retry delay and 2 s', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map((looks) => noSlotDelayMs(looks, 100))).toEqual([100, 200, 400, 800, 1_600, 1_600, 1_600]);
    expect([1, 2, 3].map((looks) => noSlotDelayMs(looks, 250))).toEqual([250, 500, 1_000]);
    expect(noSlotDelayMs(5, 250)).toBe(2_000);
    expect(noSlotDelayMs(1, 5_000)).toBe(5_000);
  });

  it('after ~15 s of looking (10 looks), backs off on to 30 s: an attempt no worker can run is not claimed every 2 s for ever', () => {
    expect([10, 11, 12, 13, 14, 20, 1_000].map((looks) => noSlotDelayMs(looks, 250))).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(noSlotDelayMs(11, 60_000)).toBe(60_000);
    // Looks (each a claim and two queue moves) of one attempt that waits 10 minutes for a worker: 303 at 2 s, now 32.
    let looks = 0;
    for (let waited = 0; waited < 600_000; ) {
      looks += 1;
      waited += noSlotDelayMs(looks, 250);
    }
    expect(looks).toBeLessThanOrEqual(32);
    // The first ~15 s look as often as before (a busy pool's slots free up within them).
    let early = 0;
    for (let looks2 = 1; looks2 <= 10; looks2 += 1) early += noSlotDelayMs(looks2, 250);
    expect(early).toBe(250 + 500 + 1_000 + 2_000 * 7);
  });

  it('takes as many jobs of a pool at once as it has live slots, at least one, at most the maximum', () => {
    expect(poolConcurrency(undefined, 32)).toBe(32);
    expect(poolConcurrency(0, 32)).toBe(1);
    expect(poolConcurrency(8, 32)).toBe(8);
    expect(poolConcurrency(100, 32)).toBe(32);
  });
});
