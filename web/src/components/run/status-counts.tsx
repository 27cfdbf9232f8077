import { useMemo } from 'react';
import { countTasks, describeCounts } from '../../lib/task-counts';

/** "1,820 / 2,000 done, 12 failed, 40 running", with the counts as data for tests and tools. */
export function StatusCounts({ tasks }: { tasks: ReadonlyArray<{ status: Parameters<typeof countTasks>[0][number]['status'] }> }) {
  const counts = useMemo(() => countTasks(tasks), [tasks]);
  return (
    <p
      className="text-sm tabular-nums text-slate-600"
      data-testid="task-counts"
      data-succeeded={counts.SUCCEEDED}
      data-failed={counts.FAILED}
      data-running={counts.RUNNING}
      data-queued={counts.QUEUED}
      data-total={counts.total}
      aria-live="polite"
    >
      {describeCounts(counts)}
    </p>
  );
}
