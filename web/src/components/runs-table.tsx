import { Link } from '@tanstack/react-router';
import type { RunSummaryFieldsFragment } from '../lib/api/__generated__/graphql';
import { formatDuration } from '../lib/format';
import { StatusBadge } from './status-badge';
import { Cell, Table } from './table';
import { RelativeTime } from './time';

export function RunsTable({ runs, showWorkflow = true, label = 'Runs' }: { runs: readonly RunSummaryFieldsFragment[]; showWorkflow?: boolean; label?: string }) {
  return (
    <Table label={label} head={['Run', 'Status', ...(showWorkflow ? ['Workflow'] : []), 'Started by', 'Created', 'Duration']}>
      {runs.map((run) => (
        <tr key={run.id} className="hover:bg-slate-50/70" data-run-id={run.id}>
          <Cell layout="nowrap">
            <Link to="/runs/$runId" params={{ runId: run.id }} className="font-mono text-xs font-medium text-indigo-700 hover:text-indigo-500 hover:underline">
              {run.id.slice(-12)}
            </Link>
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
          <Cell className="max-w-48">{run.startedByName ?? '—'}</Cell>
          <Cell layout="nowrap">
            <RelativeTime value={run.createdAt} />
          </Cell>
          <Cell layout="nowrap" className="tabular-nums">{formatDuration(run.durationMs)}</Cell>
        </tr>
      ))}
    </Table>
  );
}
