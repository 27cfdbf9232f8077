import { Link } from '@tanstack/react-router';
import type { RunSummaryFieldsFragment } from '../lib/api/__generated__/graphql';
import { formatDuration } from '../lib/format';
import { EmailText } from './email-text';
import { RunAgainButton } from './run-again-button';
import { StatusBadge } from './status-badge';
import { Cell, Table } from './table';
import { RelativeTime } from './time';

type RunRow = RunSummaryFieldsFragment & { idempotencyKey?: string | null };

/** What a bulk action did to one run: done, or why not. */
export type RunActionOutcome = { ok: true; message: string } | { ok: false; message: string };

export interface RunSelection {
  selected: ReadonlySet<string>;
  toggle: (id: string) => void;
  /** Selects every run shown, or none when all are selected. */
  toggleAll: (ids: readonly string[]) => void;
}

export function RunsTable({
  runs,
  showWorkflow = true,
  label = 'Runs',
  selection,
  outcomes,
  runAgain = false,
}: {
  runs: readonly RunRow[];
  showWorkflow?: boolean;
  label?: string;
  /** Checkboxes to choose runs for a bulk action. */
  selection?: RunSelection;
  /** The last bulk action's result, per run id. */
  outcomes?: ReadonlyMap<string, RunActionOutcome>;
  /** A "Run again" button on each run. */
  runAgain?: boolean;
}) {
  const ids = runs.map((r) => r.id);
  const allSelected = selection !== undefined && ids.length > 0 && ids.every((id) => selection.selected.has(id));
  const head = [
    ...(selection
      ? [
          <input
            key="all"
            type="checkbox"
            className="size-4 accent-indigo-600"
            aria-label="Select every run on this page"
            checked={allSelected}
            onChange={() => selection.toggleAll(ids)}
          />,
        ]
      : []),
    'Run',
    'Status',
    ...(showWorkflow ? ['Workflow'] : []),
    'Started by',
    'Created',
    'Duration',
    ...(outcomes && outcomes.size > 0 ? ['Result'] : []),
    ...(runAgain ? [''] : []),
  ];
  return (
    <Table label={label} head={head}>
      {runs.map((run) => {
        const outcome = outcomes?.get(run.id);
        return (
          <tr key={run.id} className={selection?.selected.has(run.id) ? 'bg-indigo-50/60' : 'hover:bg-slate-50/70'} data-run-id={run.id}>
            {selection && (
              <Cell layout="nowrap" className="w-8">
                <input type="checkbox" className="size-4 accent-indigo-600" aria-label={`Select run ${run.id}`} checked={selection.selected.has(run.id)} onChange={() => selection.toggle(run.id)} />
              </Cell>
            )}
            <Cell layout="nowrap">
              <Link to="/runs/$runId" params={{ runId: run.id }} className="font-mono text-xs font-medium text-indigo-700 hover:text-indigo-500 hover:underline" title={run.id}>
                {run.id.slice(-12)}
              </Link>
              {run.idempotencyKey && (
                <span className="block max-w-40 truncate font-mono text-[11px] text-slate-400" title={`Idempotency key: ${run.idempotencyKey}`}>
                  {run.idempotencyKey}
                </span>
              )}
            </Cell>
            <Cell layout="nowrap">
              <StatusBadge status={run.status} />
            </Cell>
            {showWorkflow && (
              <Cell>
                <Link to="/workflows/$workflowId" params={{ workflowId: run.workflow.id }} className="hover:text-indigo-700 hover:underline">
                  {run.workflow.name}
                </Link>
                <span className="ml-1 text-xs text-slate-400">v{run.workflowVersion}</span>
              </Cell>
            )}
            <Cell className="max-w-48">{run.startedByName ? <EmailText value={run.startedByName} /> : '—'}</Cell>
            <Cell layout="nowrap">
              <RelativeTime value={run.createdAt} />
            </Cell>
            <Cell layout="nowrap" className="tabular-nums">
              {formatDuration(run.durationMs)}
            </Cell>
            {outcomes && outcomes.size > 0 && (
              <Cell className="max-w-64 text-xs" >
                {outcome && (
                  <span data-testid="run-action-result" className={outcome.ok ? 'text-emerald-700' : 'text-red-700'}>
                    {outcome.message}
                  </span>
                )}
              </Cell>
            )}
            {runAgain && (
              <Cell layout="actions">
                <RunAgainButton runId={run.id} />
              </Cell>
            )}
          </tr>
        );
      })}
    </Table>
  );
}
