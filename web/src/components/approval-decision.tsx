import { useState } from 'react';
import { Button } from './button';
import { ConfirmDialog } from './confirm-dialog';
import { Field, TextArea } from './form';
import { useApiMutation } from '../hooks/use-api';
import { approveTaskMutation, rejectTaskMutation } from '../lib/api/operations/approvals';
import { queryKeys } from '../lib/api/query-keys';

/** What deciding an approval needs to say who and what (the Approvals page's row, the task panel's task). */
export interface ApprovalToDecide {
  taskId: string;
  stepId: string;
  message: string | null;
}

export type ApprovalDecision = 'approve' | 'reject';

/**
 * Approve / Reject buttons for a waiting approval, each opening a dialog that takes an optional
 * comment (kept with the decision and given to downstream steps as output.comment). A decision
 * someone else took first comes back as the API's CONFLICT message in the dialog.
 */
export function ApprovalButtons({ approval, onDecided }: { approval: ApprovalToDecide; onDecided?: (decision: ApprovalDecision) => void }) {
  const [deciding, setDeciding] = useState<ApprovalDecision>();
  return (
    <span className="inline-flex gap-2">
      <Button size="sm" variant="primary" onClick={() => setDeciding('approve')} aria-label={`Approve ${approval.stepId}`}>
        Approve
      </Button>
      <Button size="sm" variant="danger" onClick={() => setDeciding('reject')} aria-label={`Reject ${approval.stepId}`}>
        Reject
      </Button>
      {deciding && (
        <DecisionDialog
          approval={approval}
          decision={deciding}
          onClose={() => setDeciding(undefined)}
          onDecided={() => {
            setDeciding(undefined);
            onDecided?.(deciding);
          }}
        />
      )}
    </span>
  );
}

function DecisionDialog({ approval, decision, onClose, onDecided }: { approval: ApprovalToDecide; decision: ApprovalDecision; onClose: () => void; onDecided: () => void }) {
  const [comment, setComment] = useState('');
  const invalidates = [queryKeys.approvals.all, queryKeys.runs.all];
  const approve = useApiMutation(approveTaskMutation, { invalidates });
  const reject = useApiMutation(rejectTaskMutation, { invalidates });
  const mutation = decision === 'approve' ? approve : reject;
  return (
    <ConfirmDialog
      title={`${decision === 'approve' ? 'Approve' : 'Reject'} step ${approval.stepId}?`}
      confirmLabel={decision === 'approve' ? 'Approve' : 'Reject'}
      variant={decision === 'approve' ? 'primary' : 'danger'}
      busy={mutation.isPending}
      error={mutation.error}
      onConfirm={() => mutation.mutate({ taskId: approval.taskId, comment: comment.trim() === '' ? null : comment.trim() }, { onSuccess: onDecided })}
      onClose={onClose}
    >
      {approval.message && <p className="mb-3 whitespace-pre-wrap break-words text-sm text-slate-700">{approval.message}</p>}
      <p className="mb-3 text-sm text-slate-600">
        {decision === 'approve' ? 'The run goes on.' : 'The step is rejected: the run fails, unless the step says to go on after a rejection.'}
      </p>
      <Field label="Comment (optional)" hint="Kept with the decision; downstream steps read it as output.comment.">
        {(props) => <TextArea {...props} rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} className="font-sans" />}
      </Field>
    </ConfirmDialog>
  );
}
