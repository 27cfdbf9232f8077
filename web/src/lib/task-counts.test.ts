import { countTasks, describeCounts } from './task-counts';

describe('task counts', () => {
  it('counts tasks by status and says how far the run is', () => {
    const tasks = [
      ...Array.from({ length: 1808 }, () => ({ status: 'SUCCEEDED' as const })),
      ...Array.from({ length: 12 }, () => ({ status: 'FAILED' as const })),
      ...Array.from({ length: 30 }, () => ({ status: 'RUNNING' as const })),
      ...Array.from({ length: 150 }, () => ({ status: 'PENDING' as const })),
    ];
    const counts = countTasks(tasks);
    expect(counts).toMatchObject({ total: 2000, SUCCEEDED: 1808, FAILED: 12, RUNNING: 30, PENDING: 150, QUEUED: 0 });
    expect(describeCounts(counts)).toBe('1,820 / 2,000 done, 12 failed, 30 running');
    expect(describeCounts(countTasks([]))).toBe('0 / 0 done');
  });

  it("counts a forEach step's items in place of the step", () => {
    const counts = countTasks([
      { status: 'SUCCEEDED' },
      { status: 'RUNNING', itemCounts: { total: 2000, pending: 100, queued: 16, running: 16, succeeded: 1860, failed: 8, cancelled: 0 } },
      { status: 'PENDING', itemCounts: null },
    ]);
    expect(counts).toMatchObject({ total: 2002, SUCCEEDED: 1861, FAILED: 8, RUNNING: 16, QUEUED: 16, PENDING: 101 });
    expect(describeCounts(counts)).toBe('1,869 / 2,002 done, 8 failed, 16 running, 16 queued');
  });
});
