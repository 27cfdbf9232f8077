import { useEffect } from 'react';
import { ApprovalButtons } from '../approval-decision';
import { RelativeTime } from '../time';
import { useApiQuery } from '../../hooks/use-api';
import { taskApprovalQuery } from '../../lib/api/operations/approvals';
import { queryKeys } from '../../lib/api/query-keys';
import type { PanelTask } from '../../lib/run-events';

/**
 * The open task's approval, for an approval wait step: its message, who may decide and until when,
 * Approve / Reject while it waits (when the viewer may decide), or how it was decided.
 */
export function TaskApproval({ task }: { task: PanelTask }) {
  const isWait = task.capability === 'wait';
  const query = useApiQuery(queryKeys.approvals.ofTask(task.id), taskApprovalQuery, { id: task.id }, { enabled: isWait });
  const { refetch } = query;
  // The approval changes with the task's status (decided elsewhere, timed out): read it again when that moves.
  useEffect(() => {
    if (isWait) void refetch();
  }, [isWait, task.status, refetch]);
  const approval = query.data?.task?.approval;
  if (!isWait || !approval) return null;
  return (
    <section aria-label="Approval" className="rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm">
      <h3 className="text-xs font-semibold uppercase tracking-wide text-amber-800">Approval</h3>
      {approval.message && <p className="mt-1 whitespace-pre-wrap break-words text-slate-800">{approval.message}</p>}
      {approval.status === 'WAITING' ? (
        <div className="mt-2 flex flex-wrap items-center justify-between gap-2">
          <p className="text-xs text-slate-600">
            Waiting since <RelativeTime value={approval.waitingSince} /> for {approval.roles.join(', ')}; at <RelativeTime value={approval.deadline} /> it {approval.onTimeout === 'FAIL' ? 'fails' : approval.onTimeout === 'APPROVE' ? 'is approved' : 'is rejected'}.
          </p>
          {approval.canDecide ? (
            <ApprovalButtons approval={{ taskId: task.id, stepId: task.stepId, message: approval.message ?? null }} onDecided={() => void refetch()} />
          ) : (
            <p className="text-xs text-slate-500">Only {approval.roles.join(', ')} may decide it.</p>
          )}
        </div>
      ) : (
        <p className="mt-1 text-xs text-slate-700">
          {approval.status === 'CANCELLED' ? 'No longer waiting (the run ended).' : `${approval.decision ?? approval.status}`}
          {approval.decidedBy ? ` by ${approval.decidedBy}` : approval.status === 'TIMED_OUT' ? ' by its timeout' : ''}
          {approval.decidedAt && (
            <>
              {' '}
              <RelativeTime value={approval.decidedAt} />
            </>
          )}
          {approval.comment ? `: “${approval.comment}”` : ''}
        </p>
      )}
    </section>
  );
}
