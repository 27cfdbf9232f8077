import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { ButtonLink } from '../components/button';
import { Card, Stat } from '../components/card';
import { RunMetricsPanel } from '../components/charts/run-metrics-panel';
import { SlotUsagePanel } from '../components/charts/slot-usage-panel';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { PageHeader } from '../components/page-header';
import { RunsTable } from '../components/runs-table';
import { StatusBadge } from '../components/status-badge';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import { useIdentity, usePermissions } from '../hooks/use-session';
import { appsQuery } from '../lib/api/operations/apps';
import { workersQuery } from '../lib/api/operations/fleet';
import { runsQuery } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { appLayoutRoute } from './app-layout';

const DAY_MS = 24 * 60 * 60 * 1000;

function FleetSummary() {
  const workers = useApiQuery(queryKeys.workers.list({}), workersQuery, {}, { refetchInterval: 15_000 });
  if (workers.isPending) return <LoadingBlock />;
  if (workers.error) return <ErrorNotice error={workers.error} onRetry={() => void workers.refetch()} />;
  const online = workers.data.workers.filter((w) => w.status === 'ONLINE');
  const slots = online.reduce((sum, w) => sum + w.slotsTotal, 0);
  const busy = online.reduce((sum, w) => sum + w.running, 0);
  const gpus = online.reduce((sum, w) => sum + (w.resources?.gpus.length ?? 0), 0);
  const pools = [...new Set(online.map((w) => w.pool))];
  if (workers.data.workers.length === 0) return <EmptyState title="No workers have registered">Start a worker process and it appears here within a heartbeat.</EmptyState>;
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 text-sm">
        <div>
          <dt className="text-xs text-slate-500">Online</dt>
          <dd className="text-lg font-semibold tabular-nums">
            {online.length}
            <span className="text-sm font-normal text-slate-400"> / {workers.data.workers.length}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Slots busy</dt>
          <dd className="text-lg font-semibold tabular-nums">
            {busy}
            <span className="text-sm font-normal text-slate-400"> / {slots}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">GPUs</dt>
          <dd className="text-lg font-semibold tabular-nums">{gpus}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Pools</dt>
          <dd className="truncate text-sm font-medium">{pools.join(', ') || '—'}</dd>
        </div>
      </dl>
      <ul className="divide-y divide-slate-100 text-sm">
        {workers.data.workers.slice(0, 5).map((w) => (
          <li key={w.id} className="flex items-center justify-between gap-2 py-2">
            <span className="truncate font-mono text-xs">{w.id}</span>
            <span className="flex items-center gap-2">
              <span className="text-xs text-slate-500">
                <RelativeTime value={w.lastHeartbeatAt} />
              </span>
              <StatusBadge status={w.status} />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The most apps the dashboard's health card lists (the apps page lists them all). */
const HEALTH_APPS = 50;

/** Up / down / unknown of every app the catalog monitors (issue 12: app health on the dashboard). */
function AppHealthSummary() {
  const apps = useApiQuery(queryKeys.apps.health, appsQuery, { first: HEALTH_APPS }, { refetchInterval: 30_000 });
  if (apps.isPending) return <LoadingBlock />;
  if (apps.error) return <ErrorNotice error={apps.error} onRetry={() => void apps.refetch()} />;
  const list = apps.data.apps.edges.map((e) => e.node);
  if (list.length === 0) return <EmptyState title="No apps registered">Register an app and its health shows here.</EmptyState>;
  // Counted over the apps fetched (up to HEALTH_APPS): an organization with more sees the first ones' counts.
  const statusOf = (a: (typeof list)[number]) => a.health?.status ?? 'UNKNOWN';
  const count = (status: string) => list.filter((a) => statusOf(a) === status).length;
  // Down first: what needs attention.
  const order: Record<string, number> = { DOWN: 0, UNKNOWN: 1, UP: 2 };
  const sorted = [...list].sort((a, b) => (order[statusOf(a)] ?? 3) - (order[statusOf(b)] ?? 3) || a.name.localeCompare(b.name));
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-3 gap-3 text-sm" aria-label="App health">
        <div>
          <dt className="text-xs text-slate-500">Up</dt>
          <dd className="text-lg font-semibold tabular-nums text-emerald-700">{count('UP')}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Down</dt>
          <dd className={`text-lg font-semibold tabular-nums ${count('DOWN') > 0 ? 'text-red-700' : ''}`}>{count('DOWN')}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Unknown</dt>
          <dd className="text-lg font-semibold tabular-nums text-slate-600">{count('UNKNOWN')}</dd>
        </div>
      </dl>
      <ul className="divide-y divide-slate-100 text-sm" aria-label="Apps by health">
        {sorted.slice(0, 8).map((a) => (
          <li key={a.id} data-app={a.slug} className="flex items-center justify-between gap-2 py-2">
            <Link to="/apps/$appId" params={{ appId: a.id }} className="min-w-0 truncate font-medium text-slate-800 hover:text-indigo-700">{a.name}</Link>
            <span className="flex shrink-0 items-center gap-2">
              {a.health?.since && <span className="text-xs text-slate-500"><RelativeTime value={a.health.since} /></span>}
              <StatusBadge status={statusOf(a)} />
            </span>
          </li>
        ))}
      </ul>
      {apps.data.apps.totalCount > Math.min(8, sorted.length) && (
        <p className="text-xs text-slate-500">
          {apps.data.apps.totalCount - Math.min(8, sorted.length)} more on the <Link to="/apps" className="text-indigo-700 hover:underline">apps page</Link>.
        </p>
      )}
    </div>
  );
}

function DashboardPage() {
  const identity = useIdentity();
  const can = usePermissions();
  // Fixed when the page opens, so the query key does not change on every render.
  const [since] = useState(() => new Date(Math.floor((Date.now() - DAY_MS) / 60_000) * 60_000).toISOString());
  const recent = useApiQuery(queryKeys.runs.list({ first: 10 }), runsQuery, { first: 10 });
  const failed = useApiQuery(queryKeys.runs.list({ status: ['FAILED'], first: 5 }), runsQuery, { first: 5, filter: { status: ['FAILED'] } });
  const active = useApiQuery(queryKeys.runs.list({ status: ['QUEUED', 'RUNNING'], first: 1 }), runsQuery, { first: 1, filter: { status: ['QUEUED', 'RUNNING'] } });
  const day = useApiQuery(queryKeys.runs.list({ createdAfter: since, first: 1 }), runsQuery, { first: 1, filter: { createdAfter: since } });
  const dayFailed = useApiQuery(queryKeys.runs.list({ createdAfter: since, status: ['FAILED'], first: 1 }), runsQuery, { first: 1, filter: { createdAfter: since, status: ['FAILED'] } });
  const count = (q: typeof active) => (q.data ? q.data.runs.totalCount : '…');

  return (
    <>
      <PageHeader
        title="Dashboard"
        description={`What is happening in ${identity.organization.name} right now.`}
        actions={can.operateRuns ? <ButtonLink to="/workflows" variant="primary">Start a run</ButtonLink> : undefined}
      />
      <dl className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Active runs" value={count(active)} hint="Queued or running" />
        <Stat label="Runs, last 24 h" value={count(day)} />
        <Stat label="Failed, last 24 h" value={count(dayFailed)} tone={dayFailed.data && dayFailed.data.runs.totalCount > 0 ? 'bad' : 'default'} />
        <Stat label="Failed, all time" value={count(failed)} />
      </dl>
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3 *:min-w-0">
        <div className="space-y-6 xl:col-span-2">
          <RunMetricsPanel name="Runs over time" id="dashboard-runs" />
          <Card title="Recent runs" actions={<Link to="/runs" className="text-sm font-medium text-indigo-600 hover:text-indigo-500">All runs</Link>} padded={false}>
            {recent.isPending ? (
              <LoadingBlock />
            ) : recent.error ? (
              <div className="p-4"><ErrorNotice error={recent.error} onRetry={() => void recent.refetch()} /></div>
            ) : recent.data.runs.edges.length === 0 ? (
              <EmptyState title="No runs yet" action={<ButtonLink to="/workflows">Go to workflows</ButtonLink>}>Runs appear here, with their status kept live, as soon as they start.</EmptyState>
            ) : (
              <RunsTable runs={recent.data.runs.edges.map((e) => e.node)} label="Recent runs" />
            )}
          </Card>
          <Card title="Failed runs" actions={<Link to="/runs" search={{ status: ['FAILED'] }} className="text-sm font-medium text-indigo-600 hover:text-indigo-500">All failed</Link>} padded={false}>
            {failed.isPending ? (
              <LoadingBlock />
            ) : failed.error ? (
              <div className="p-4"><ErrorNotice error={failed.error} /></div>
            ) : failed.data.runs.edges.length === 0 ? (
              <EmptyState title="No failed runs">Nothing needs your attention.</EmptyState>
            ) : (
              <ul className="divide-y divide-slate-100">
                {failed.data.runs.edges.map(({ node }) => (
                  <li key={node.id} className="flex flex-wrap items-start justify-between gap-2 px-4 py-3">
                    <div className="min-w-0">
                      <Link to="/runs/$runId" params={{ runId: node.id }} className="text-sm font-medium text-slate-800 hover:text-indigo-700">
                        {node.workflow.name} <span className="font-mono text-xs text-slate-400">{node.id.slice(-12)}</span>
                      </Link>
                      {node.error && (
                        <p className="mt-0.5 truncate text-xs text-red-700">
                          {node.error.stepId ? `${node.error.stepId}: ` : ''}
                          {node.error.message}
                        </p>
                      )}
                    </div>
                    <span className="text-xs text-slate-500">
                      <RelativeTime value={node.finishedAt ?? node.createdAt} />
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
        <div className="space-y-6 self-start">
          <Card title="App health" id="dashboard-app-health" actions={<Link to="/apps" className="text-sm font-medium text-indigo-600 hover:text-indigo-500">Apps</Link>}>
            <AppHealthSummary />
          </Card>
          <Card title="Fleet" actions={<Link to="/workers" className="text-sm font-medium text-indigo-600 hover:text-indigo-500">Workers</Link>}>
            <FleetSummary />
          </Card>
          <SlotUsagePanel id="dashboard-slots" />
        </div>
      </div>
    </>
  );
}

export const dashboardRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/', component: DashboardPage });
