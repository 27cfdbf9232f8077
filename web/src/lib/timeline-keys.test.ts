import { anchoredScroll, attemptTargetKey, clampZoom, findTarget, groupTargetKey, moveTimelineCursor, rowTargets } from './timeline-keys';
import { timelineRows, type TimelineAttempt, type TimelineStep } from './timeline';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const attempt = (a: Partial<TimelineAttempt> & Pick<TimelineAttempt, 'id' | 'taskId' | 'stepId'>): TimelineAttempt => ({
  number: 1,
  itemIndex: null,
  status: 'SUCCEEDED',
  workerId: 'w1',
  queuedAt: at(0),
  startedAt: at(10),
  finishedAt: at(100),
  error: null,
  ...a,
});

// fetch (2 attempts: a retry), wait (no attempt yet), each (a forEach step of 2 items), store (1 attempt).
const steps: TimelineStep[] = [
  { id: 't-fetch', stepId: 'fetch', status: 'SUCCEEDED' },
  { id: 't-wait', stepId: 'wait', status: 'PENDING' },
  { id: 't-each', stepId: 'each', status: 'RUNNING', itemCounts: { total: 2, failed: 0 } },
  { id: 't-store', stepId: 'store', status: 'SUCCEEDED' },
];
const attempts = [
  attempt({ id: 'f1', taskId: 't-fetch', stepId: 'fetch', status: 'FAILED', queuedAt: at(0) }),
  attempt({ id: 'f2', taskId: 't-fetch', stepId: 'fetch', number: 2, queuedAt: at(200) }),
  attempt({ id: 'i0', taskId: 't-i0', stepId: 'each', itemIndex: 0, queuedAt: at(300) }),
  attempt({ id: 'i1', taskId: 't-i1', stepId: 'each', itemIndex: 1, queuedAt: at(320) }),
  attempt({ id: 's1', taskId: 't-store', stepId: 'store', queuedAt: at(250) }),
];

describe('timeline keyboard cursor', () => {
  const collapsed = timelineRows(steps, attempts, new Set(), T0 + 1_000);
  const expanded = timelineRows(steps, attempts, new Set(['each']), T0 + 1_000);

  it('makes a forEach step a bar of its own, before its own attempts', () => {
    expect(rowTargets(collapsed[2]!).map((t) => t.key)).toEqual([groupTargetKey('each')]);
    expect(rowTargets(collapsed[0]!).map((t) => t.key)).toEqual([attemptTargetKey('f1'), attemptTargetKey('f2')]);
  });

  it('starts at the first bar, moves along a row and stops at its ends', () => {
    const first = moveTimelineCursor(collapsed, null, 'ArrowDown')!;
    expect(first.target.key).toBe('a:f1');
    const right = moveTimelineCursor(collapsed, first, 'ArrowRight')!;
    expect(right.target.key).toBe('a:f2');
    expect(moveTimelineCursor(collapsed, right, 'ArrowRight')!.target.key).toBe('a:f2');
    expect(moveTimelineCursor(collapsed, right, 'ArrowLeft')!.target.key).toBe('a:f1');
    expect(moveTimelineCursor(collapsed, right, 'Home')!.target.key).toBe('a:f1');
    expect(moveTimelineCursor(collapsed, first, 'End')!.target.key).toBe('a:f2');
    expect(moveTimelineCursor(collapsed, first, 'Enter')).toBeNull();
  });

  it('moves up and down over rows without bars, to the bar nearest in time', () => {
    const f2 = findTarget(collapsed, 'a:f2')!;
    // "wait" has no attempt: skipped.
    const down = moveTimelineCursor(collapsed, f2, 'ArrowDown')!;
    expect(down.target.key).toBe('g:each');
    expect(moveTimelineCursor(collapsed, down, 'ArrowDown')!.target.key).toBe('a:s1');
    // From store (queued at +250 ms) up twice: fetch's bar nearest in time is the retry (+200 ms).
    const s1 = findTarget(collapsed, 'a:s1')!;
    expect(moveTimelineCursor(collapsed, moveTimelineCursor(collapsed, s1, 'ArrowUp'), 'ArrowUp')!.target.key).toBe('a:f2');
    expect(moveTimelineCursor(collapsed, s1, 'ArrowDown')!.target.key).toBe('a:s1');
    expect(moveTimelineCursor(collapsed, s1, 'PageUp')!.target.key).toBe('a:f2');
    expect(moveTimelineCursor(collapsed, f2, 'End', true)!.target.key).toBe('a:s1');
    expect(moveTimelineCursor(collapsed, s1, 'Home', true)!.target.key).toBe('a:f1');
  });

  it('reaches the items of an opened forEach step, and finds a bar again after rows change', () => {
    const group = findTarget(expanded, 'g:each')!;
    const item0 = moveTimelineCursor(expanded, group, 'ArrowDown')!;
    expect(item0.target).toMatchObject({ kind: 'attempt', attemptId: 'i0', itemTask: true, taskId: 't-i0' });
    expect(moveTimelineCursor(expanded, item0, 'ArrowDown')!.target.key).toBe('a:i1');
    expect(findTarget(expanded, 'a:s1')!.row).toBe(5);
    expect(findTarget(collapsed, 'a:i0')).toBeNull();
  });

  it('zooms within bounds and keeps the time under the pointer in place', () => {
    expect(clampZoom(0.5)).toBe(1);
    expect(clampZoom(1_000)).toBe(256);
    // 1,000 px wide, scrolled 0, pointer at 250 px (a quarter in): at 2,000 px the quarter is 500 px in, scrolled 250.
    expect(anchoredScroll(0, 250, 1_000, 2_000)).toBe(250);
    expect(anchoredScroll(250, 250, 2_000, 1_000)).toBe(0);
  });
});
