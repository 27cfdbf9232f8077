import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { Button, ButtonLink } from '../components/button';
import { Card } from '../components/card';
import { RunMetricsPanel } from '../components/charts/run-metrics-panel';
import { DagView } from '../components/dag-view';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { JsonBlock } from '../components/json-block';
import { PageHeader } from '../components/page-header';
import { RunsTable } from '../components/runs-table';
import { StartRunDialog } from '../components/start-run-dialog';
import { Tag } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import { runsQuery } from '../lib/api/operations/runs';
import { workflowQuery } from '../lib/api/operations/workflows';
import { isNotFound } from '../lib/api/errors';
import { queryKeys } from '../lib/api/query-keys';
import { formatDuration } from '../lib/format';
import { appLayoutRoute } from './app-layout';

function WorkflowDetailPage() {
  const { workflowId } = workflowDetailRoute.useParams();
  const search = workflowDetailRoute.useSearch();
  const navigate = useNavigate({ from: '/workflows/$workflowId' });
  const can = usePermissions();
  const [starting, setStarting] = useState(false);
  const [selectedStep, setSelectedStep] = useState<string>();
  const workflow = useApiQuery(queryKeys.workflows.detail(workflowId), workflowQuery, { id: workflowId });
  const runs = useApiQuery(queryKeys.runs.list({ workflowId, first: 10 }), runsQuery, { first: 10, filter: { workflowId } });
  const data = workflow.data?.workflow;
  const versions = useMemo(() => [...(data?.versions ?? [])].sort((a, b) => b.number - a.number), [data]);
  const shownNumber = search.version ?? data?.latestVersion.number;
  const version = versions.find((v) => v.number === shownNumber) ?? versions[0];
  const dagSteps = useMemo(() => (version ? version.steps.map((s) => ({ id: s.id, dependsOn: s.dependsOn, capability: s.capability })) : []), [version]);

  if (workflow.isPending) return <LoadingBlock label="Loading workflow" />;
  if (workflow.error && !isNotFound(workflow.error)) return <ErrorNotice error={workflow.error} onRetry={() => void workflow.refetch()} />;
  if (!data || !version) {
    return (
      <EmptyState title="Workflow not found" action={<Link to="/workflows" className="text-sm font-medium text-indigo-600">All workflows</Link>}>
        There is no workflow {workflowId} in this organization.
      </EmptyState>
    );
  }
  const step = version.steps.find((s) => s.id === selectedStep);

  return (
    <>
      <PageHeader
        breadcrumb={<Link to="/workflows" className="hover:text-slate-700">Workflows</Link>}
        title={data.name}
        description={data.description ?? undefined}
        actions={
          <>
            {can.manageWorkflows && (
              <ButtonLink to="/workflows/$workflowId/new-version" params={{ workflowId }} search={{ from: version.number }}>
                New version
              </ButtonLink>
            )}
            {can.operateRuns && (
              <Button variant="primary" onClick={() => setStarting(true)}>
                Start run
              </Button>
            )}
          </>
        }
      />
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-4 *:min-w-0">
        <Card title="Versions" className="self-start xl:col-span-1" padded={false}>
          <ul className="divide-y divide-slate-100">
            {versions.map((v) => (
              <li key={v.number}>
                <button
                  type="button"
                  onClick={() => void navigate({ search: { version: v.number }, replace: true })}
                  aria-current={v.number === version.number ? 'true' : undefined}
                  className={`flex w-full items-center justify-between gap-2 px-4 py-2.5 text-left text-sm hover:bg-slate-50 ${v.number === version.number ? 'bg-indigo-50/70 font-semibold text-indigo-800' : 'text-slate-700'}`}
                >
                  <span>
                    v{v.number}
                    {v.number === data.latestVersion.number && <span className="ml-2 rounded bg-emerald-50 px-1.5 py-0.5 text-[11px] font-medium text-emerald-700">latest</span>}
                  </span>
                  <span className="text-xs font-normal text-slate-500">
                    <RelativeTime value={v.createdAt} />
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <p className="border-t border-slate-100 px-4 py-2.5 text-xs text-slate-500">
            Created by {data.createdBy} · app {data.app ? <Link to="/apps/$appId" params={{ appId: data.app.id }} className="text-indigo-700 hover:underline">{data.app.name}</Link> : 'none'}
          </p>
        </Card>
        <div className="space-y-6 xl:col-span-3">
          <Card title={`Graph of v${version.number}`}>
            <DagView steps={dagSteps} selected={selectedStep} onSelect={(id) => setSelectedStep((s) => (s === id ? undefined : id))} label={`Steps of version ${version.number}`} />
          </Card>
          <Card title="Steps" padded={false}>
            <Table label={`Steps of version ${version.number}`} head={['Step', 'Capability', 'Depends on', 'Attempts', 'Timeout', 'Pool', 'Labels']}>
              {version.steps.map((s) => (
                <tr key={s.id} className={`cursor-pointer hover:bg-slate-50/70 ${s.id === selectedStep ? 'bg-indigo-50/60' : ''}`} onClick={() => setSelectedStep(s.id)}>
                  <Cell layout="nowrap" className="font-mono text-xs font-semibold">{s.id}</Cell>
                  <Cell>
                    <Tag>{s.capability}</Tag>
                  </Cell>
                  <Cell className="font-mono text-xs">{s.dependsOn.join(', ') || '—'}</Cell>
                  <Cell layout="nowrap" className="tabular-nums">{s.retry.maxAttempts}</Cell>
                  <Cell layout="nowrap" className="tabular-nums">{formatDuration(s.timeoutMs)}</Cell>
                  <Cell>{s.pool}</Cell>
                  <Cell><span className="flex flex-wrap gap-1">{s.labels.map((l) => <Tag key={l.key}>{`${l.key}=${l.value}`}</Tag>)}</span></Cell>
                </tr>
              ))}
            </Table>
          </Card>
          {step && (
            <Card title={`Step ${step.id}`}>
              <JsonBlock value={step} label={`Definition of step ${step.id}`} />
            </Card>
          )}
          <RunMetricsPanel name={`Runs of ${data.name} over time`} filter={{ workflowId }} id="workflow-runs" />
          <Card title="Recent runs" padded={false} actions={<Link to="/runs" search={{ workflowId }} className="text-sm font-medium text-indigo-600 hover:text-indigo-500">All runs of this workflow</Link>}>
            {runs.isPending ? (
              <LoadingBlock />
            ) : runs.error ? (
              <div className="p-4"><ErrorNotice error={runs.error} /></div>
            ) : runs.data.runs.edges.length === 0 ? (
              <EmptyState title="No runs yet" />
            ) : (
              <RunsTable runs={runs.data.runs.edges.map((e) => e.node)} showWorkflow={false} label="Recent runs of this workflow" />
            )}
          </Card>
        </div>
      </div>
      {starting && <StartRunDialog workflow={data} versions={versions.map((v) => v.number)} open onClose={() => setStarting(false)} />}
    </>
  );
}

export const workflowDetailRoute = createRoute({
  getParentRoute: () => appLayoutRoute,
  path: '/workflows/$workflowId',
  validateSearch: (search: Record<string, unknown>): { version?: number | undefined } => {
    const version = Number(search['version']);
    return Number.isInteger(version) && version > 0 ? { version } : {};
  },
  component: WorkflowDetailPage,
});
