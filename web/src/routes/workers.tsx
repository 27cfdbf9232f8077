import { createRoute } from '@tanstack/react-router';
import { useState } from 'react';
import { Card, Stat } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { RunMetricsPanel } from '../components/charts/run-metrics-panel';
import { SlotUsagePanel } from '../components/charts/slot-usage-panel';
import { Checkbox, Field, SelectInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { StatusBadge, Tag } from '../components/status-badge';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import type { WorkersQuery } from '../lib/api/__generated__/graphql';
import { workersQuery } from '../lib/api/operations/fleet';
import { queryKeys } from '../lib/api/query-keys';
import { formatBytes, formatPercent } from '../lib/format';
import { appLayoutRoute } from './app-layout';

type Worker = WorkersQuery['workers'][number];

function Meter({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  const tone = percent > 90 ? 'bg-red-500' : percent > 70 ? 'bg-amber-500' : 'bg-emerald-500';
  return (
    <div className="h-1.5 w-full overflow-hidden rounded-full bg-slate-200" role="meter" aria-label={label} aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
      <div className={`h-full rounded-full ${tone}`} style={{ width: `${percent}%` }} />
    </div>
  );
}

function WorkerCard({ worker }: { worker: Worker }) {
  const r = worker.resources;
  const used = worker.slotsTotal - worker.slotsFree;
  return (
    <article className="rounded-xl border border-slate-200 bg-white p-4 shadow-xs" aria-label={`Worker ${worker.id}`}>
      <header className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 className="truncate font-mono text-sm font-semibold text-slate-900">{worker.id}</h3>
          <p className="truncate text-xs text-slate-500">
            {worker.endpoint ? `${worker.endpoint} · ` : ''}pool <strong className="font-medium text-slate-700">{worker.pool}</strong>
            {worker.version ? ` · ${worker.version}` : ''}
          </p>
        </div>
        <StatusBadge status={worker.status} />
      </header>
      <dl className="mt-4 grid grid-cols-2 gap-x-4 gap-y-3 text-sm">
        <div>
          <dt className="text-xs text-slate-500">Slots in use</dt>
          <dd className="mb-1 tabular-nums">
            {used} / {worker.slotsTotal} <span className="text-xs text-slate-400">({worker.running} running here)</span>
          </dd>
          <Meter value={worker.slotsTotal === 0 ? 0 : used / worker.slotsTotal} label={`Slots in use on ${worker.id}`} />
        </div>
        <div>
          <dt className="text-xs text-slate-500">Heartbeat</dt>
          <dd>
            <RelativeTime value={worker.lastHeartbeatAt} />
          </dd>
          <dd className="text-xs text-slate-400">
            lease ends <RelativeTime value={worker.leaseExpiresAt} />
          </dd>
        </div>
        {r && (
          <>
            <div>
              <dt className="text-xs text-slate-500">CPU ({r.cpuCount} cores)</dt>
              <dd className="mb-1 tabular-nums">load {formatPercent(r.cpuLoad, 0)}</dd>
              <Meter value={r.cpuLoad} label={`CPU load on ${worker.id}`} />
            </div>
            <div>
              <dt className="text-xs text-slate-500">Memory</dt>
              <dd className="mb-1 tabular-nums">
                {formatBytes(r.memoryUsedBytes)} / {formatBytes(r.memoryTotalBytes)}
              </dd>
              <Meter value={r.memoryTotalBytes === 0 ? 0 : r.memoryUsedBytes / r.memoryTotalBytes} label={`Memory used on ${worker.id}`} />
            </div>
          </>
        )}
      </dl>
      {r && r.gpus.length > 0 && (
        <div className="mt-4">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">GPUs</h4>
          <ul className="mt-1 space-y-2">
            {r.gpus.map((gpu) => (
              <li key={gpu.index} className="text-sm">
                <div className="flex justify-between gap-2">
                  <span>
                    #{gpu.index} {gpu.model}
                  </span>
                  <span className="tabular-nums text-xs text-slate-500">
                    {formatBytes(gpu.memoryUsedBytes)} / {formatBytes(gpu.memoryTotalBytes)} · {Math.round(gpu.utilizationPercent)}%
                  </span>
                </div>
                <Meter value={gpu.utilizationPercent / 100} label={`Utilization of GPU ${gpu.index} on ${worker.id}`} />
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="mt-4 space-y-2">
        <div>
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Capabilities</h4>
          <div className="mt-1 flex flex-wrap gap-1">{worker.capabilities.map((c) => <Tag key={c}>{c}</Tag>)}</div>
        </div>
        {worker.llmEndpoints && worker.llmEndpoints.length > 0 && (
          <div>
            <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">LLM servers on this machine</h4>
            <ul className="mt-1 flex flex-wrap gap-1" aria-label={`LLM servers of ${worker.id}`}>
              {worker.llmEndpoints.map((url) => (
                <li key={url}>
                  <Tag>{url}</Tag>
                </li>
              ))}
            </ul>
          </div>
        )}
        {worker.labels.length > 0 && (
          <div>
            <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Labels</h4>
            <div className="mt-1 flex flex-wrap gap-1">{worker.labels.map((l) => <Tag key={l.key}>{`${l.key}=${l.value}`}</Tag>)}</div>
          </div>
        )}
      </div>
    </article>
  );
}

/** Slot usage of a pool, and the runs that ran on a worker, over a chosen range (issue 12). */
function FleetCharts({ workers }: { workers: readonly Worker[] }) {
  const [pool, setPool] = useState('');
  const [workerId, setWorkerId] = useState('');
  const pools = [...new Set(workers.map((w) => w.pool))].sort();
  return (
    <div className="mb-6 grid grid-cols-1 gap-6 xl:grid-cols-2 *:min-w-0">
      <div className="space-y-3">
        <Field label="Pool" className="w-56">
          {(p) => (
            <SelectInput {...p} value={pool} onChange={(e) => setPool(e.target.value)}>
              <option value="">All pools</option>
              {pools.map((name) => <option key={name} value={name}>{name}</option>)}
            </SelectInput>
          )}
        </Field>
        <SlotUsagePanel name={pool ? `Slot usage of pool ${pool}` : 'Slot usage per pool'} pool={pool || undefined} id="workers-slots" />
      </div>
      <div className="space-y-3">
        <Field label="Runs on worker" className="w-72">
          {(p) => (
            <SelectInput {...p} value={workerId} onChange={(e) => setWorkerId(e.target.value)}>
              <option value="">Choose a worker</option>
              {workers.map((w) => <option key={w.id} value={w.id}>{w.id}</option>)}
            </SelectInput>
          )}
        </Field>
        {workerId ? (
          <RunMetricsPanel key={workerId} name={`Runs on ${workerId}`} filter={{ workerId }} id="worker-runs" />
        ) : (
          <Card>
            <EmptyState title="Choose a worker">This organization's runs that had an attempt on the worker show here, over the chosen range.</EmptyState>
          </Card>
        )}
      </div>
    </div>
  );
}

function WorkersPage() {
  const [onlineOnly, setOnlineOnly] = useState(false);
  const workers = useApiQuery(queryKeys.workers.list({ status: onlineOnly ? ['ONLINE'] : [] }), workersQuery, onlineOnly ? { filter: { status: ['ONLINE'] } } : {}, { refetchInterval: 5_000 });
  const list = workers.data?.workers ?? [];
  const online = list.filter((w) => w.status === 'ONLINE');
  return (
    <>
      <PageHeader title="Workers" description="The fleet that executes tasks (shared by every organization), with each GPU's model, memory and utilization as its worker last reported them. Refreshed every 5 seconds." actions={<Checkbox label="Online only" checked={onlineOnly} onChange={(e) => setOnlineOnly(e.target.checked)} />} />
      <dl className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Online" value={online.length} />
        <Stat label="Free slots" value={online.reduce((s, w) => s + w.slotsFree, 0)} hint={`of ${online.reduce((s, w) => s + w.slotsTotal, 0)}`} />
        <Stat label="GPUs" value={online.reduce((s, w) => s + (w.resources?.gpus.length ?? 0), 0)} />
        <Stat label="Lost" value={list.filter((w) => w.status === 'LOST').length} tone={list.some((w) => w.status === 'LOST') ? 'warn' : 'default'} />
      </dl>
      <FleetCharts workers={list} />
      {workers.isPending ? (
        <LoadingBlock />
      ) : workers.error ? (
        <ErrorNotice error={workers.error} onRetry={() => void workers.refetch()} />
      ) : list.length === 0 ? (
        <Card>
          <EmptyState title="No workers">A worker registers itself when it starts and heartbeats while it runs.</EmptyState>
        </Card>
      ) : (
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
          {list.map((w) => (
            <WorkerCard key={w.id} worker={w} />
          ))}
        </div>
      )}
    </>
  );
}

export const workersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/workers', component: WorkersPage });
