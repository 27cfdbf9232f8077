import { useState } from 'react';
import { useApiMutation } from '../hooks/use-api';
import { discardDeadLettersMutation, replayDeadLettersMutation } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { Button } from './button';
import type { BulkItemResult } from './bulk-results';
import { ConfirmDialog } from './confirm-dialog';
import { Notice } from './feedback';
import type { RunActionOutcome } from './runs-table';

/** The most dead letters one bulk action takes (the API's bound). */
export const DEAD_LETTER_BULK_MAX = 100;

type Action = 'replay' | 'discard';
type Result = { id: string; error: { message: string } | null };

/**
 * Replay or discard the selected dead letters, after asking. Each is done on its own: the result of
 * every entry shows on its row, and a summary says how many were done.
 */
export interface SelectedDeadLetter {
  id: string;
  runId: string;
  stepId: string;
}

export function DeadLetterBulkActions({ letters, onDone }: { letters: readonly SelectedDeadLetter[]; onDone: (outcomes: Map<string, RunActionOutcome>, summary: string, items: BulkItemResult[]) => void }) {
  const selected = letters.map((l) => l.id);
  const byId = new Map(letters.map((l) => [l.id, l]));
  const [confirming, setConfirming] = useState<Action>();
  const invalidates = [queryKeys.deadLetters.all, queryKeys.runs.all];
  const replay = useApiMutation(replayDeadLettersMutation, { invalidates });
  const discard = useApiMutation(discardDeadLettersMutation, { invalidates });
  const tooMany = selected.length > DEAD_LETTER_BULK_MAX;
  const count = plural(selected.length, 'dead letter');

  const report = (results: readonly Result[], done: string) => {
    const failed = results.filter((r) => r.error).length;
    const items = results.map((r) => {
      const letter = byId.get(r.id);
      return { id: r.id, runId: letter?.runId ?? '', label: letter ? `step ${letter.stepId} of run ${letter.runId}` : r.id, ok: r.error === null, message: r.error ? r.error.message : done };
    });
    const outcomes = new Map<string, RunActionOutcome>(items.map((i) => [i.id, { ok: i.ok, message: i.message }]));
    onDone(outcomes, `${plural(results.length - failed, 'dead letter')} ${done.toLowerCase()}${failed > 0 ? `; ${plural(failed, 'dead letter')} could not be` : ''}.`, items);
    setConfirming(undefined);
  };

  const mutation = confirming === 'discard' ? discard : replay;
  return (
    <div className="flex flex-wrap items-center gap-2 border-b border-indigo-100 bg-indigo-50/70 px-4 py-2" role="region" aria-label="Bulk actions">
      <span className="text-sm font-medium text-indigo-900">{count} selected</span>
      <Button size="sm" variant="primary" disabled={tooMany} onClick={() => { replay.reset(); setConfirming('replay'); }}>
        Replay selected
      </Button>
      <Button size="sm" variant="danger" disabled={tooMany} onClick={() => { discard.reset(); setConfirming('discard'); }}>
        Discard selected
      </Button>
      {tooMany && <span className="text-xs text-red-700">At most {DEAD_LETTER_BULK_MAX} at once.</span>}
      {confirming && (
        <ConfirmDialog
          title={confirming === 'replay' ? `Replay ${count}?` : `Discard ${count}?`}
          confirmLabel={confirming === 'replay' ? `Replay ${count}` : `Discard ${count}`}
          variant={confirming === 'replay' ? 'primary' : 'danger'}
          busy={mutation.isPending}
          error={mutation.error}
          onConfirm={() =>
            confirming === 'replay'
              ? replay.mutate({ ids: [...selected] }, { onSuccess: (data) => report(data.replayDeadLetters, 'Replayed') })
              : discard.mutate({ ids: [...selected] }, { onSuccess: (data) => report(data.discardDeadLetters, 'Discarded') })
          }
          onClose={() => setConfirming(undefined)}
        >
          {confirming === 'replay' ? (
            <p>The runs of these tasks run their failed and cancelled steps again, with a fresh budget of attempts; succeeded steps keep their output.</p>
          ) : (
            <p>They leave the list of open dead letters; their runs stay as they are (a run can still be retried from its page).</p>
          )}
          <Notice>Each is done on its own; the result of each shows on its row.</Notice>
        </ConfirmDialog>
      )}
    </div>
  );
}
