import { createRoute, useNavigate } from '@tanstack/react-router';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, SelectInput, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { RunsTable } from '../components/runs-table';
import { statusLabel } from '../components/status-badge';
import { useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import type { RunStatus } from '../lib/api/__generated__/graphql';
import { runsQuery } from '../lib/api/operations/runs';
import { workflowsQuery } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';

const RUN_STATUSES: readonly RunStatus[] = ['SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 25;

export interface RunsSearch {
  status?: RunStatus[];
  workflowId?: string;
  /** datetime-local values (the user's time zone). */
  from?: string;
  to?: string;
}

const isRunStatus = (value: unknown): value is RunStatus => typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);

export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  const raw = search['status'];
  const status = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(isRunStatus);
  return {
    ...(status.length > 0 ? { status } : {}),
    ...(typeof search['workflowId'] === 'string' && search['workflowId'] ? { workflowId: search['workflowId'] } : {}),
    ...(typeof search['from'] === 'string' && search['from'] ? { from: search['from'] } : {}),
    ...(typeof search['to'] === 'string' && search['to'] ? { to: search['to'] } : {}),
  };
}

const toIso = (local: string | undefined): string | undefined => {
  if (!local) return undefined;
  const time = Date.parse(local);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
};

function RunsPage() {
  const search = runsRoute.useSearch();
  const navigate = useNavigate({ from: '/runs' });
  const filter = { status: search.status, workflowId: search.workflowId, createdAfter: toIso(search.from), createdBefore: toIso(search.to) };
  const pages = useCursorPages(JSON.stringify(filter));
  const runs = useApiQuery(queryKeys.runs.list({ ...filter, after: pages.after, first: PAGE_SIZE }), runsQuery, {
    first: PAGE_SIZE,
    after: pages.after ?? null,
    filter: {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.workflowId ? { workflowId: filter.workflowId } : {}),
      ...(filter.createdAfter ? { createdAfter: filter.createdAfter } : {}),
      ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
    },
  }, { placeholderData: (previous) => previous });
  const workflows = useApiQuery(queryKeys.workflows.list({ search: '' }), workflowsQuery, { first: 100 });
  const update = (patch: Partial<RunsSearch>) => void navigate({ search: (current: RunsSearch) => parseRunsSearch({ ...current, ...patch }) });
  const toggleStatus = (status: RunStatus) => {
    const current = new Set(search.status ?? []);
    if (current.has(status)) current.delete(status);
    else current.add(status);
    update({ status: [...current] });
  };

  return (
    <>
      <PageHeader title="Runs" description="Every run of this organization, newest first. Statuses update live." />
      <Card padded={false}>
        <div className="flex flex-wrap items-end gap-4 border-b border-slate-100 p-4">
          <fieldset>
            <legend className="mb-1 text-sm font-medium text-slate-700">Status</legend>
            <div className="flex flex-wrap gap-1.5">
              {RUN_STATUSES.map((status) => {
                const on = search.status?.includes(status) ?? false;
                return (
                  <button
                    key={status}
                    type="button"
                    aria-pressed={on}
                    onClick={() => toggleStatus(status)}
                    className={`rounded-full px-2.5 py-1 text-xs font-medium ring-1 ring-inset ${on ? 'bg-indigo-600 text-white ring-indigo-600' : 'bg-white text-slate-600 ring-slate-300 hover:bg-slate-50'}`}
                  >
                    {statusLabel(status)}
                  </button>
                );
              })}
            </div>
          </fieldset>
          <Field label="Workflow" className="w-56">
            {(p) => (
              <SelectInput {...p} value={search.workflowId ?? ''} onChange={(e) => update({ workflowId: e.target.value || undefined })}>
                <option value="">All workflows</option>
                {workflows.data?.workflows.edges.map(({ node }) => (
                  <option key={node.id} value={node.id}>
                    {node.name}
                  </option>
                ))}
              </SelectInput>
            )}
          </Field>
          <Field label="Created after" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={search.from ?? ''} onChange={(e) => update({ from: e.target.value || undefined })} />}</Field>
          <Field label="Created before" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={search.to ?? ''} onChange={(e) => update({ to: e.target.value || undefined })} />}</Field>
        </div>
        {runs.isPending ? (
          <LoadingBlock />
        ) : runs.error ? (
          <div className="p-4">
            <ErrorNotice error={runs.error} onRetry={() => void runs.refetch()} />
          </div>
        ) : runs.data.runs.edges.length === 0 ? (
          <EmptyState title="No runs match">Change the filters, or start a run from a workflow.</EmptyState>
        ) : (
          <>
            {/* While another page or filter loads, the current rows stay, dimmed. */}
            <div className={runs.isPlaceholderData ? 'opacity-60 transition-opacity' : ''} aria-busy={runs.isPlaceholderData}>
              <RunsTable runs={runs.data.runs.edges.map((e) => e.node)} />
            </div>
            <Pagination
              hasPrevious={pages.hasPrevious}
              hasNext={runs.data.runs.pageInfo.hasNextPage}
              onPrevious={pages.previous}
              onNext={() => pages.next(runs.data.runs.pageInfo.endCursor)}
              summary={`Page ${pages.page} · ${plural(runs.data.runs.totalCount, 'run')}`}
            />
          </>
        )}
      </Card>
    </>
  );
}

export const runsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/runs', validateSearch: parseRunsSearch, component: RunsPage });
