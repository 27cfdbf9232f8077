import { createRoute, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { BulkResults, type BulkItemResult } from '../components/bulk-results';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, SelectInput, TextInput } from '../components/form';
import { MemberPicker } from '../components/member-picker';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { RunBulkActions } from '../components/run-bulk-actions';
import { RunsTable, type RunActionOutcome } from '../components/runs-table';
import { statusLabel } from '../components/status-badge';
import { useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { RunStatus } from '../lib/api/__generated__/graphql';
import { appsQuery } from '../lib/api/operations/apps';
import { runsQuery } from '../lib/api/operations/runs';
import { workflowsQuery } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { parseRunsSearch, RUN_SEARCH_MAX, RUN_STATUSES, runFilterOf, withFilters, type RunsSearch } from '../lib/runs-search';
import { appLayoutRoute } from './app-layout';

const PAGE_SIZE = 25;

/** Run id / idempotency key search: applied on Enter or the button, not per keystroke. */
function RunSearchBox({ value, onSearch }: { value: string; onSearch: (text: string | undefined) => void }) {
  const [text, setText] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    // The URL changed (Back, Clear): show what it says.
    setShown(value);
    setText(value);
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text.trim() || undefined);
  };
  return (
    <form role="search" onSubmit={submit} className="flex items-end gap-2">
      <Field label="Run id or idempotency key" className="w-80">
        {(p) => <TextInput {...p} type="search" maxLength={RUN_SEARCH_MAX} value={text} onChange={(e) => setText(e.target.value)} placeholder="0193… or order-4711" />}
      </Field>
      <Button type="submit">Search</Button>
    </form>
  );
}

function RunsPage() {
  const search = runsRoute.useSearch();
  const navigate = useNavigate({ from: '/runs' });
  const can = usePermissions();
  const filter = runFilterOf(search);
  const pages = search.pages ?? [];
  const after = pages[pages.length - 1];
  const runs = useApiQuery(queryKeys.runs.list({ ...filter, after, first: PAGE_SIZE }), runsQuery, { first: PAGE_SIZE, after: after ?? null, filter }, { placeholderData: (previous) => previous });
  const workflows = useApiQuery(queryKeys.workflows.list({ search: '' }), workflowsQuery, { first: 100 });
  const apps = useApiQuery(queryKeys.apps.choices, appsQuery, { first: 100 });
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcomes, setOutcomes] = useState<{ key: string; byRun: Map<string, RunActionOutcome>; summary: string; items: BulkItemResult[] }>();
  // Selections and results belong to the page they were made on.
  const pageKey = JSON.stringify(search);
  const [selectionKey, setSelectionKey] = useState(pageKey);
  if (selectionKey !== pageKey) {
    setSelectionKey(pageKey);
    setSelected(new Set());
  }
  const shownOutcomes = outcomes?.key === pageKey ? outcomes : undefined;

  const update = (patch: Partial<RunsSearch>) => void navigate({ search: (current: RunsSearch) => withFilters(current, patch) });
  const goToPages = (next: string[]) => void navigate({ search: (current: RunsSearch) => parseRunsSearch({ ...current, pages: next }) });
  const toggleStatus = (status: RunStatus) => {
    const current = new Set(search.status ?? []);
    if (current.has(status)) current.delete(status);
    else current.add(status);
    update({ status: [...current] });
  };
  const filtered = Object.keys(filter).length > 0;

  return (
    <>
      <PageHeader title="Runs" description="Every run of this organization, newest first. Statuses update live." />
      <Card padded={false}>
        <div className="flex flex-wrap items-end gap-4 border-b border-slate-100 p-4">
          <RunSearchBox value={search.q ?? ''} onSearch={(q) => update({ q })} />
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
                    className={`rounded-full px-2.5 py-1 text-xs font-medium ring-1 ring-inset ${on ? 'bg-indigo-600 text-on-accent ring-indigo-600' : 'bg-white text-slate-600 ring-slate-300 hover:bg-slate-50'}`}
                  >
                    {statusLabel(status)}
                  </button>
                );
              })}
            </div>
          </fieldset>
        </div>
        <div className="flex flex-wrap items-end gap-4 border-b border-slate-100 p-4">
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
          <Field label="App" className="w-56">
            {(p) => (
              <SelectInput {...p} value={search.appId ?? ''} onChange={(e) => update({ appId: e.target.value || undefined })}>
                <option value="">All apps</option>
                {apps.data?.apps.edges.map(({ node }) => (
                  <option key={node.id} value={node.id}>
                    {node.name}
                  </option>
                ))}
              </SelectInput>
            )}
          </Field>
          <MemberPicker
            label="Started by"
            className="w-64"
            value={search.startedBy ? { id: search.startedBy, label: search.startedByLabel ?? search.startedBy } : undefined}
            onChange={(member) => update({ startedBy: member?.id, startedByLabel: member?.label })}
          />
          <Field label="Created after" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={search.from ?? ''} onChange={(e) => update({ from: e.target.value || undefined })} />}</Field>
          <Field label="Created before" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={search.to ?? ''} onChange={(e) => update({ to: e.target.value || undefined })} />}</Field>
          {filtered && (
            <Button variant="ghost" onClick={() => void navigate({ search: {} })}>
              Clear filters
            </Button>
          )}
        </div>
        {can.operateRuns && selected.size > 0 && (
          <RunBulkActions
            selected={[...selected]}
            onDone={(byRun, summary, items) => {
              setOutcomes({ key: pageKey, byRun, summary, items });
              setSelected(new Set());
            }}
          />
        )}
        {shownOutcomes && (
          <div className="border-b border-slate-100 p-4">
            <BulkResults summary={shownOutcomes.summary} items={shownOutcomes.items} />
          </div>
        )}
        {runs.isPending ? (
          <LoadingBlock />
        ) : runs.error ? (
          <div className="p-4">
            <ErrorNotice error={runs.error} onRetry={() => void runs.refetch()} />
          </div>
        ) : runs.data.runs.edges.length === 0 ? (
          <EmptyState title="No runs match">{search.q ? `No run has the id or idempotency key “${search.q}”.` : 'Change the filters, or start a run from a workflow.'}</EmptyState>
        ) : (
          <>
            {/* While another page or filter loads, the current rows stay, dimmed. */}
            <div className={runs.isPlaceholderData ? 'opacity-60 transition-opacity' : ''} aria-busy={runs.isPlaceholderData}>
              <RunsTable
                runs={runs.data.runs.edges.map((e) => e.node)}
                runAgain={can.operateRuns}
                {...(shownOutcomes ? { outcomes: shownOutcomes.byRun } : {})}
                {...(can.operateRuns
                  ? {
                      selection: {
                        selected,
                        toggle: (id: string) =>
                          setSelected((s) => {
                            const next = new Set(s);
                            if (next.has(id)) next.delete(id);
                            else next.add(id);
                            return next;
                          }),
                        toggleAll: (ids: readonly string[]) => setSelected((s) => (ids.every((id) => s.has(id)) ? new Set() : new Set(ids))),
                      },
                    }
                  : {})}
              />
            </div>
            <Pagination
              hasPrevious={pages.length > 0}
              hasNext={runs.data.runs.pageInfo.hasNextPage}
              onPrevious={() => goToPages(pages.slice(0, -1))}
              onNext={() => {
                const end = runs.data.runs.pageInfo.endCursor;
                if (end) goToPages([...pages, end]);
              }}
              summary={`Page ${pages.length + 1} · ${plural(runs.data.runs.totalCount, 'run')}`}
            />
          </>
        )}
      </Card>
    </>
  );
}

export const runsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/runs', validateSearch: parseRunsSearch, component: RunsPage });
