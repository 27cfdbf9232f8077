import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { Button, ButtonLink } from '../components/button';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { StartRunDialog } from '../components/start-run-dialog';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { usePermissions } from '../hooks/use-session';
import { workflowsQuery } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';

const PAGE_SIZE = 25;

function WorkflowsPage() {
  const can = usePermissions();
  const [search, setSearch] = useState('');
  const [starting, setStarting] = useState<{ id: string; name: string }>();
  const searched = useDebouncedValue(search.trim());
  const pages = useCursorPages(searched);
  const workflows = useApiQuery(
    queryKeys.workflows.list({ search: searched, after: pages.after }),
    workflowsQuery,
    { first: PAGE_SIZE, after: pages.after ?? null, ...(searched ? { filter: { search: searched } } : {}) },
    { placeholderData: (previous) => previous },
  );

  return (
    <>
      <PageHeader
        title="Workflows"
        description="DAGs of steps that run on the worker fleet. Versions are immutable: a run keeps the version it started with."
        actions={can.manageWorkflows && <ButtonLink to="/workflows/new" variant="primary">New workflow</ButtonLink>}
      />
      <Card padded={false}>
        <div className="border-b border-slate-100 p-4">
          <label htmlFor="workflow-search" className="sr-only">
            Search workflows
          </label>
          <TextInput id="workflow-search" type="search" placeholder="Search by name…" value={search} onChange={(e) => setSearch(e.target.value)} className="max-w-sm" />
        </div>
        {workflows.isPending ? (
          <LoadingBlock />
        ) : workflows.error ? (
          <div className="p-4">
            <ErrorNotice error={workflows.error} onRetry={() => void workflows.refetch()} />
          </div>
        ) : workflows.data.workflows.edges.length === 0 ? (
          <EmptyState title={search ? 'No workflow matches' : 'No workflows yet'} action={can.manageWorkflows && !search ? <ButtonLink to="/workflows/new" variant="primary">Create the first one</ButtonLink> : undefined}>
            A workflow is a DAG of steps; each step runs on a worker that has its capability.
          </EmptyState>
        ) : (
          <>
            <Table label="Workflows" head={['Name', 'Steps', 'Version', 'App', 'Updated', '']}>
              {workflows.data.workflows.edges.map(({ node }) => (
                <tr key={node.id} className="hover:bg-slate-50/70">
                  <Cell>
                    <Link to="/workflows/$workflowId" params={{ workflowId: node.id }} className="font-medium text-slate-900 hover:text-indigo-700">
                      {node.name}
                    </Link>
                    {node.description && <p className="max-w-md truncate text-xs text-slate-500">{node.description}</p>}
                  </Cell>
                  <Cell layout="nowrap" className="tabular-nums">{node.latestVersion.steps.length}</Cell>
                  <Cell layout="nowrap">v{node.latestVersion.number}</Cell>
                  <Cell>{node.app ? node.app.name : '—'}</Cell>
                  <Cell layout="nowrap">
                    <RelativeTime value={node.updatedAt} />
                  </Cell>
                  <Cell layout="actions">
                    {can.operateRuns && (
                      <Button size="sm" onClick={() => setStarting({ id: node.id, name: node.name })} aria-label={`Start a run of ${node.name}`}>
                        Start run
                      </Button>
                    )}
                  </Cell>
                </tr>
              ))}
            </Table>
            <Pagination
              hasPrevious={pages.hasPrevious}
              hasNext={workflows.data.workflows.pageInfo.hasNextPage}
              onPrevious={pages.previous}
              onNext={() => pages.next(workflows.data.workflows.pageInfo.endCursor)}
              summary={plural(workflows.data.workflows.totalCount, 'workflow')}
            />
          </>
        )}
      </Card>
      {starting && <StartRunDialog workflow={starting} open onClose={() => setStarting(undefined)} />}
    </>
  );
}

export const workflowsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/workflows', component: WorkflowsPage });
