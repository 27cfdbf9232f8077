import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { BulkResults, type BulkItemResult } from '../components/bulk-results';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { DeadLetterBulkActions } from '../components/dead-letter-bulk-actions';
import { DeadLetterGroups } from '../components/dead-letter-groups';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import type { RunActionOutcome } from '../components/runs-table';
import { StatusBadge } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { usePermissions } from '../hooks/use-session';
import { deadLetterGroupsQuery, deadLettersQuery, replayDeadLetterMutation } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';

export interface DeadLettersSearch {
  errorCode?: string;
  stepId?: string;
  workflowId?: string;
  includeReplayed?: boolean;
}

const parseDeadLettersSearch = (search: Record<string, unknown>): DeadLettersSearch => {
  const out: DeadLettersSearch = {};
  for (const key of ['errorCode', 'stepId', 'workflowId'] as const) {
    const value = search[key];
    if (typeof value === 'string' && value.trim() !== '' && value.length <= 200) out[key] = value;
  }
  if (search['includeReplayed'] === true) out.includeReplayed = true;
  return out;
};

interface Replaying {
  id: string;
  runId: string;
  stepId: string;
  workflow: string;
  error: { code: string; message: string; retryable: boolean | null };
}

function DeadLettersPage() {
  const can = usePermissions();
  const search = deadLettersRoute.useSearch();
  const navigate = useNavigate({ from: '/dead-letters' });
  const filter = { includeReplayed: search.includeReplayed ?? false, errorCode: search.errorCode, stepId: search.stepId, workflowId: search.workflowId };
  const filterKey = JSON.stringify(filter);
  const pages = useCursorPages(filterKey);
  const [replayed, setReplayed] = useState<{ runId: string; stepId: string }>();
  const [replaying, setReplaying] = useState<Replaying>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcomes, setOutcomes] = useState<{ byLetter: Map<string, RunActionOutcome>; summary: string; items: BulkItemResult[] }>();
  const [selectionKey, setSelectionKey] = useState(`${filterKey}/${pages.page}`);
  if (selectionKey !== `${filterKey}/${pages.page}`) {
    setSelectionKey(`${filterKey}/${pages.page}`);
    setSelected(new Set());
  }
  const letters = useApiQuery(
    queryKeys.deadLetters.list({ ...filter, after: pages.after }),
    deadLettersQuery,
    {
      first: 25,
      after: pages.after ?? null,
      filter: { includeReplayed: filter.includeReplayed, ...(filter.errorCode ? { errorCode: filter.errorCode } : {}), ...(filter.stepId ? { stepId: filter.stepId } : {}), ...(filter.workflowId ? { workflowId: filter.workflowId } : {}) },
    },
    { placeholderData: (p) => p },
  );
  const groups = useApiQuery(queryKeys.deadLetters.groups, deadLetterGroupsQuery, {});
  const replay = useApiMutation(replayDeadLetterMutation, { invalidates: [queryKeys.deadLetters.all, queryKeys.runs.all] });
  const update = (patch: Partial<DeadLettersSearch>) => void navigate({ search: (current: DeadLettersSearch) => parseDeadLettersSearch({ ...current, ...patch }) });
  const inGroup = filter.errorCode !== undefined || filter.stepId !== undefined || filter.workflowId !== undefined;
  const rows = letters.data?.deadLetters.edges.map((e) => e.node) ?? [];
  const selectable = rows.filter((r) => !r.replayedAt && !r.discardedAt).map((r) => r.id);
  const allSelected = selectable.length > 0 && selectable.every((id) => selected.has(id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <>
      <PageHeader title="Dead letters" description="Tasks that ran out of attempts. Replaying one runs its run's failed and cancelled steps again; succeeded steps keep their output." />
      {replayed && (
        <div className="mb-4">
          <Notice tone="success">
            Step <code className="font-mono">{replayed.stepId}</code> is queued again.{' '}
            <Link to="/runs/$runId" params={{ runId: replayed.runId }} className="font-medium underline">
              Watch the run
            </Link>
          </Notice>
        </div>
      )}
      <div className="mb-4">
        <Card padded={false} title="By error and step">
          {groups.isPending ? (
            <LoadingBlock />
          ) : groups.error ? (
            <div className="p-4"><ErrorNotice error={groups.error} onRetry={() => void groups.refetch()} /></div>
          ) : groups.data.deadLetterGroups.length === 0 ? (
            <EmptyState title="No open dead letters" />
          ) : (
            <DeadLetterGroups groups={groups.data.deadLetterGroups} current={filter} onChoose={(g) => update({ errorCode: g?.errorCode, stepId: g?.stepId, workflowId: g?.workflowId })} />
          )}
        </Card>
      </div>
      <Card
        padded={false}
        actions={
          <div className="flex items-center gap-3">
            {inGroup && <Button size="sm" variant="ghost" onClick={() => update({ errorCode: undefined, stepId: undefined, workflowId: undefined })}>Show every group</Button>}
            <Checkbox label="Include replayed and discarded" checked={filter.includeReplayed} onChange={(e) => update({ includeReplayed: e.target.checked || undefined })} />
          </div>
        }
        title={inGroup ? `Tasks out of attempts: ${filter.errorCode ?? ''} in step ${filter.stepId ?? ''}` : 'Tasks out of attempts'}
      >
        {can.replayDeadLetters && selected.size > 0 && (
          <DeadLetterBulkActions
            letters={rows.filter((r) => selected.has(r.id)).map((r) => ({ id: r.id, runId: r.run.id, stepId: r.stepId }))}
            onDone={(byLetter, summary, items) => {
              setOutcomes({ byLetter, summary, items });
              setSelected(new Set());
            }}
          />
        )}
        {outcomes && (
          <div className="border-b border-slate-100 p-4">
            <BulkResults summary={outcomes.summary} items={outcomes.items} />
          </div>
        )}
        {letters.isPending ? (
          <LoadingBlock />
        ) : letters.error ? (
          <div className="p-4"><ErrorNotice error={letters.error} onRetry={() => void letters.refetch()} /></div>
        ) : rows.length === 0 ? (
          <EmptyState title="No dead letters">Every task that failed for good would be listed here.</EmptyState>
        ) : (
          <>
            <Table
              label="Dead letters"
              head={[
                ...(can.replayDeadLetters
                  ? [<input key="all" type="checkbox" className="size-4 accent-indigo-600" aria-label="Select every open dead letter on this page" checked={allSelected} disabled={selectable.length === 0} onChange={() => setSelected(allSelected ? new Set() : new Set(selectable))} />]
                  : []),
                'Step',
                'Run',
                'Error',
                'Attempts',
                'Failed',
                '',
              ]}
            >
              {rows.map((node) => {
                const outcome = outcomes?.byLetter.get(node.id);
                const open = !node.replayedAt && !node.discardedAt;
                return (
                  <tr key={node.id} data-dead-letter-id={node.id} className={selected.has(node.id) ? 'bg-indigo-50/60' : ''}>
                    {can.replayDeadLetters && (
                      <Cell layout="nowrap" className="w-8">
                        {open && <input type="checkbox" className="size-4 accent-indigo-600" aria-label={`Select dead letter of step ${node.stepId} in run ${node.run.id}`} checked={selected.has(node.id)} onChange={() => toggle(node.id)} />}
                      </Cell>
                    )}
                    <Cell layout="nowrap" className="font-mono text-xs font-semibold">{node.stepId}</Cell>
                    <Cell>
                      <Link to="/runs/$runId" params={{ runId: node.run.id }} search={{ task: node.stepId }} className="text-indigo-700 hover:underline">
                        {node.run.workflow.name}
                      </Link>{' '}
                      <StatusBadge status={node.run.status} />
                      <Link to="/runs/$runId" params={{ runId: node.run.id }} className="block font-mono text-[11px] text-slate-500 hover:underline" title={node.run.id} data-testid="dead-letter-run-id">
                        {node.run.id}
                      </Link>
                    </Cell>
                    <Cell className="max-w-md text-red-700">
                      <code className="font-mono text-xs font-semibold">{node.error.code}</code>: {node.error.message}
                    </Cell>
                    <Cell layout="nowrap" className="tabular-nums">{node.attempts}</Cell>
                    <Cell layout="nowrap">
                      <RelativeTime value={node.createdAt} />
                    </Cell>
                    <Cell layout="actions">
                      {outcome ? (
                        <span data-testid="dead-letter-result" className={`text-xs ${outcome.ok ? 'text-emerald-700' : 'text-red-700'}`}>{outcome.message}</span>
                      ) : node.replayedAt ? (
                        <span className="text-xs text-slate-500">
                          Replayed <RelativeTime value={node.replayedAt} /> {node.replayedBy ? `by ${node.replayedBy}` : ''}
                        </span>
                      ) : node.discardedAt ? (
                        <span className="text-xs text-slate-500">
                          Discarded <RelativeTime value={node.discardedAt} /> {node.discardedBy ? `by ${node.discardedBy}` : ''}
                        </span>
                      ) : (
                        can.replayDeadLetters && (
                          <Button
                            size="sm"
                            onClick={() => {
                              replay.reset();
                              setReplaying({ id: node.id, runId: node.run.id, stepId: node.stepId, workflow: node.run.workflow.name, error: node.error });
                            }}
                          >
                            Replay
                          </Button>
                        )
                      )}
                    </Cell>
                  </tr>
                );
              })}
            </Table>
            <Pagination hasPrevious={pages.hasPrevious} hasNext={letters.data.deadLetters.pageInfo.hasNextPage} onPrevious={pages.previous} onNext={() => pages.next(letters.data.deadLetters.pageInfo.endCursor)} summary={plural(letters.data.deadLetters.totalCount, 'dead letter')} />
          </>
        )}
      </Card>
      {replaying && (
        <ConfirmDialog
          title={`Replay step ${replaying.stepId}?`}
          confirmLabel={replaying.error.retryable === false ? 'Replay anyway' : 'Replay'}
          variant={replaying.error.retryable === false ? 'danger' : 'primary'}
          busy={replay.isPending}
          error={replay.error}
          onConfirm={() =>
            replay.mutate(
              { id: replaying.id },
              {
                onSuccess: () => {
                  setReplayed({ runId: replaying.runId, stepId: replaying.stepId });
                  setReplaying(undefined);
                },
              },
            )
          }
          onClose={() => setReplaying(undefined)}
        >
          <p>
            The run of {replaying.workflow} runs its failed and cancelled steps again, with a fresh budget of attempts; succeeded steps keep their output.
          </p>
          {replaying.error.retryable === false && (
            <Notice tone="warning">
              It failed with <code className="font-mono">{replaying.error.code}</code>, marked not retryable: {replaying.error.message}. Unless you changed what caused it, it will likely fail the same way.
            </Notice>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

export const deadLettersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/dead-letters', validateSearch: parseDeadLettersSearch, component: DeadLettersPage });
