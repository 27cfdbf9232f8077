import { checkAttempts, recoveryOf, type AttemptRecord } from './attempt-records';

/** The fault suite's judge on hand-made attempt records: it must be able to fail. */

const T0 = Date.parse('2026-12-06T22:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const attempt = (id: string, taskId: string, fields: Partial<AttemptRecord>): AttemptRecord => ({
  id,
  taskId,
  runId: 'r',
  attempt: 1,
  status: 'SUCCEEDED',
  workerId: 'w1',
  startedAt: at(0),
  finishedAt: at(1),
  ...fields,
});

describe('checkAttempts', () => {
  it('passes a task that succeeded once after a lost attempt whose worker never finished it', () => {
    const records = [attempt('a1', 't', { status: 'LOST', finishedAt: at(3) }), attempt('a2', 't', { attempt: 2, startedAt: at(4), finishedAt: at(5) })];
    expect(checkAttempts(records, new Map([['a2', T0 + 5_000]]))).toEqual({ succeededTwice: [], startedAfterSuccess: [], executedAfterCompletedResult: [] });
  });

  it('flags a task recorded as succeeded twice, and an attempt started after a success', () => {
    const records = [attempt('a1', 't', {}), attempt('a2', 't', { attempt: 2, startedAt: at(2), finishedAt: at(3) })];
    const verdict = checkAttempts(records, new Map());
    expect(verdict.succeededTwice).toEqual(['t']);
    expect(verdict.startedAfterSuccess).toEqual(['a2']);
  });

  it('flags a task run again after its worker had completed an attempt the platform then settled as lost (issue 9 item 18)', () => {
    // The worker finished a1 at 2 s; its dispatcher died; a1 was settled LOST at 6 s and a2 ran at 7 s.
    const records = [attempt('a1', 't', { status: 'LOST', finishedAt: at(6) }), attempt('a2', 't', { attempt: 2, startedAt: at(7), finishedAt: at(8) })];
    expect(checkAttempts(records, new Map([['a1', T0 + 2_000]])).executedAfterCompletedResult).toHaveLength(1);
  });

  it('does not hold against the platform a completion that came after it had given the attempt up', () => {
    // A frozen worker thawed at 9 s and finished a1, which had been settled LOST at 4 s; a2 waited in the queue until 10 s.
    const records = [attempt('a1', 't', { status: 'LOST', finishedAt: at(4) }), attempt('a2', 't', { attempt: 2, startedAt: at(10), finishedAt: at(11) })];
    expect(checkAttempts(records, new Map([['a1', T0 + 9_000]])).executedAfterCompletedResult).toEqual([]);
  });
});

describe('recoveryOf', () => {
  it('measures from the kill to the retry, to the orphan re-dispatched, or to the orphan recorded with its kept result', () => {
    const kill = T0 + 10_000;
    const all = [
      attempt('lost', 't1', { status: 'LOST', finishedAt: at(13) }),
      attempt('retry', 't1', { attempt: 2, startedAt: at(14), finishedAt: at(15) }),
      attempt('requeued', 't2', { startedAt: at(12), finishedAt: at(13) }),
      attempt('recalled', 't3', { startedAt: at(9), finishedAt: at(16) }),
      attempt('done-before', 't4', { startedAt: at(8), finishedAt: at(9.5) }),
    ];
    const orphans = ['lost', 'requeued', 'recalled', 'done-before'].map((id) => ({ ...all.find((a) => a.id === id)!, status: 'RUNNING' }));
    expect(recoveryOf([{ at: kill, attempts: orphans }], all)).toEqual({ orphaned: 3, maxMs: 6_000, medianMs: 4_000, unrecovered: 0 });
  });

  it('counts an orphan that never came back', () => {
    const all = [attempt('stuck', 't', { status: 'RUNNING', startedAt: at(1), finishedAt: null })];
    expect(recoveryOf([{ at: T0 + 5_000, attempts: all }], all)).toMatchObject({ orphaned: 1, unrecovered: 1 });
  });
});
