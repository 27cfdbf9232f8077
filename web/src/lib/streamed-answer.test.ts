import type { RunEvent } from './run-events';
import { foldStreamedAnswer } from './streamed-answer';

const base = { runStatus: null, stepId: 'ask', taskStatus: null, attempt: 1, progress: null, message: null, level: null, error: null, at: '2026-12-06T10:00:00.000Z' };
const delta = (seq: number, offset: number, text: string, options: { restart?: boolean; attemptId?: string; taskId?: string; deltaSeq?: number } = {}): RunEvent => ({
  ...base,
  seq,
  kind: 'TASK_OUTPUT_DELTA',
  taskId: options.taskId ?? 'task-1',
  attemptId: options.attemptId ?? 'att-1',
  outputDelta: { seq: options.deltaSeq ?? seq, offset, text, restart: options.restart ?? false },
});

describe('foldStreamedAnswer', () => {
  it('joins the deltas of the task in seq order, whatever order they arrived in', () => {
    const answer = foldStreamedAnswer(null, [delta(3, 6, 'world'), delta(2, 0, 'Hello '), delta(4, 0, 'elsewhere', { taskId: 'task-2' })], 'task-1');
    expect(answer).toEqual({ attemptId: 'att-1', text: 'Hello world', gap: false });
  });

  it('continues the fetched text with the deltas after its seq, and a delta seen twice changes nothing', () => {
    const fetched = { attemptId: 'att-1', text: 'Hello ', throughSeq: 5 };
    const answer = foldStreamedAnswer(fetched, [delta(5, 0, 'Hello '), delta(7, 6, 'big '), delta(7, 6, 'big '), delta(8, 10, 'world')], 'task-1');
    expect(answer).toEqual({ attemptId: 'att-1', text: 'Hello big world', gap: false });
  });

  it('starts afresh at a restart and at a new attempt', () => {
    expect(foldStreamedAnswer(null, [delta(1, 0, 'first provider'), delta(2, 0, 'second', { restart: true }), delta(3, 6, ' answer')], 'task-1').text).toBe('second answer');
    expect(foldStreamedAnswer(null, [delta(1, 0, 'attempt one'), delta(2, 0, 'attempt two', { attemptId: 'att-2' })], 'task-1')).toEqual({ attemptId: 'att-2', text: 'attempt two', gap: false });
  });

  it('says when a delta was missed', () => {
    const answer = foldStreamedAnswer({ attemptId: 'att-1', text: 'Hello', throughSeq: 2 }, [delta(4, 9, 'world')], 'task-1');
    expect(answer.gap).toBe(true);
    expect(answer.text).toBe('Hello');
  });
});
