import { useState } from 'react';
import { useApiMutation } from '../hooks/use-api';
import { cancelRunsMutation, retryRunsMutation } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { statusLabel } from './status-badge';
import { Button } from './button';
import { ConfirmDialog } from './confirm-dialog';
import type { BulkItemResult } from './bulk-results';
import { ErrorNotice, Notice } from './feedback';
import type { RunActionOutcome } from './runs-table';

/** The most runs one bulk action takes (the API's bound). */
export const RUN_BULK_MAX = 100;

type Result = { id: string; run: { status: string } | null; error: { message: string } | null };

const outcomeOf = (r: Result, done: string): RunActionOutcome => (r.error ? { ok: false, message: r.error.message } : { ok: true, message: `${done} (${statusLabel(r.run?.status ?? '').toLowerCase()})` });

/**
 * Cancel or retry the selected runs (each on its own: the result of every run is shown on its row,
 * and a summary says how many were done). Cancelling asks first.
 */
export function RunBulkActions({ selected, onDone }: { selected: readonly string[]; onDone: (outcomes: Map<string, RunActionOutcome>, summary: string, items: BulkItemResult[]) => void }) {
  const [confirmingCancel, setConfirmingCancel] = useState(false);
  const cancel = useApiMutation(cancelRunsMutation, { invalidates: [queryKeys.runs.all] });
  const retry = useApiMutation(retryRunsMutation, { invalidates: [queryKeys.runs.all, queryKeys.deadLetters.all] });
  const tooMany = selected.length > RUN_BULK_MAX;

  const report = (results: readonly Result[], verb: string, done: string) => {
    const failed = results.filter((r) => r.error).length;
    const items = results.map((r) => ({ id: r.id, runId: r.id, ...outcomeOf(r, done) }));
    const outcomes = new Map(items.map((i) => [i.id, { ok: i.ok, message: i.message }]));
    onDone(outcomes, `${plural(results.length - failed, 'run')} ${verb}${failed > 0 ? `; ${plural(failed, 'run')} could not be` : ''}.`, items);
  };

  return (
    <div className="flex flex-wrap items-center gap-2 border-b border-indigo-100 bg-indigo-50/70 px-4 py-2" role="region" aria-label="Bulk actions">
      <span className="text-sm font-medium text-indigo-900">{plural(selected.length, 'run')} selected</span>
      <Button size="sm" variant="danger" disabled={tooMany} onClick={() => { cancel.reset(); setConfirmingCancel(true); }}>
        Cancel selected
      </Button>
      <Button
        size="sm"
        variant="primary"
        busy={retry.isPending}
        disabled={tooMany}
        onClick={() => retry.mutate({ ids: [...selected] }, { onSuccess: (data) => report(data.retryRuns, 'retried', 'Retried') })}
      >
        Retry selected
      </Button>
      {tooMany && <span className="text-xs text-red-700">At most {RUN_BULK_MAX} runs at once.</span>}
      {retry.error && <ErrorNotice error={retry.error} title="The runs were not retried" className="w-full" />}
      {confirmingCancel && (
        <ConfirmDialog
          title={`Cancel ${plural(selected.length, 'run')}?`}
          confirmLabel={`Cancel ${plural(selected.length, 'run')}`}
          busy={cancel.isPending}
          error={cancel.error}
          onConfirm={() =>
            cancel.mutate(
              { ids: [...selected], reason: null },
              {
                onSuccess: (data) => {
                  setConfirmingCancel(false);
                  report(data.cancelRuns, 'cancelled', 'Cancelled');
                },
              },
            )
          }
          onClose={() => setConfirmingCancel(false)}
        >
          <p>Their running steps are stopped on their workers at once. Runs that already ended are left as they are.</p>
          <Notice>Each run is cancelled on its own; the result of each shows on its row.</Notice>
        </ConfirmDialog>
      )}
    </div>
  );
}
