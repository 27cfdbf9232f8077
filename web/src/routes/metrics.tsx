import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { Suspense } from 'react';
import { Card, Stat } from '../components/card';
import { LineChart, StackedBarChart } from '../components/charts';
import { MetricsRangePicker, useMetricsRange } from '../components/charts/metrics-range-picker';
import { RUN_STATUS_SERIES, RUN_TIME_SERIES } from '../components/charts/run-metrics-panel';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, SelectInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import { runMetricsQuery } from '../lib/api/operations/metrics';
import { workflowsQuery } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { formatCount, formatDateTimeZone, formatDuration, formatPercent } from '../lib/format';
import { bucketLabel, runsSearchFor, type MetricsPreset } from '../lib/metrics-range';
import { appLayoutRoute } from './app-layout';

/**
 * Metrics (issue 12: what is failing, since when, and why): runs over a range by status, run
 * durations and queue wait per bucket, and the failure codes of the range with their first and
 * latest time and message, each linking to the runs list filtered to them.
 */

export interface MetricsSearch {
  range?: MetricsPreset;
  /** datetime-local values (custom range). */
  from?: string;
  to?: string;
  workflowId?: string;
}

const PRESET_IDS = ['1h', '24h', '7d', '30d', 'custom'] as const;

export function parseMetricsSearch(search: Record<string, unknown>): MetricsSearch {
  const str = (key: string) => (typeof search[key] === 'string' && search[key] !== '' ? (search[key]) : undefined);
  const range = PRESET_IDS.find((p) => p === search['range']);
  return {
    ...(range ? { range } : {}),
    ...(str('from') ? { from: str('from') } : {}),
    ...(str('to') ? { to: str('to') } : {}),
    ...(str('workflowId') ? { workflowId: str('workflowId') } : {}),
  };
}

function MetricsPage() {
  const search = metricsRoute.useSearch();
  const navigate = useNavigate({ from: '/metrics' });
  const update = (patch: Partial<MetricsSearch>) => void navigate({ search: (current: MetricsSearch) => parseMetricsSearch({ ...current, ...patch }) });
  const preset = search.range ?? '24h';
  const range = useMetricsRange({ preset, from: search.from, to: search.to });
  const valid = !('error' in range);
  const vars = { from: valid ? range.from : '', to: valid ? range.to : '', bucket: valid ? range.bucket : 'HOUR' as const, workflowId: search.workflowId ?? null };
  const metrics = useApiQuery(queryKeys.metrics.runs({ ...vars, workflowId: search.workflowId }), runMetricsQuery, vars, { enabled: valid, placeholderData: (previous) => previous, refetchInterval: 60_000 });
  const workflows = useApiQuery(queryKeys.workflows.list({ search: '' }), workflowsQuery, { first: 100 });

  const m = metrics.data?.runMetrics;
  const rangeMs = valid ? Date.parse(range.to) - Date.parse(range.from) : 0;
  const label = (iso: string) => (m ? bucketLabel(iso, m.bucket, rangeMs) : iso);
  const statusRows = (m?.buckets ?? []).map((b) => ({ start: b.start, succeeded: b.counts.succeeded, failed: b.counts.failed, cancelled: b.counts.cancelled, open: b.counts.queued + b.counts.running + b.counts.scheduled }));
  const timeRows = (m?.buckets ?? []).map((b) => ({ start: b.start, p50DurationMs: b.counts.p50DurationMs ?? null, p95DurationMs: b.counts.p95DurationMs ?? null, p95QueueWaitMs: b.counts.p95QueueWaitMs ?? null }));

  return (
    <>
      <PageHeader title="Metrics" description="Runs of this organization over time: how many, how they ended, how long they took and waited, and what failed." />
      <div className="space-y-6">
        <Card>
          <div className="flex flex-wrap items-end gap-4">
            <MetricsRangePicker value={{ preset, from: search.from, to: search.to }} onChange={({ preset: range, ...rest }) => update({ ...(range ? { range } : {}), ...rest })} />
            <Field label="Workflow" className="w-56">
              {(p) => (
                <SelectInput {...p} value={search.workflowId ?? ''} onChange={(e) => update({ workflowId: e.target.value || undefined })}>
                  <option value="">All workflows</option>
                  {workflows.data?.workflows.edges.map(({ node }) => <option key={node.id} value={node.id}>{node.name}</option>)}
                </SelectInput>
              )}
            </Field>
          </div>
          {!valid && <p role="alert" className="mt-3 text-sm text-red-700">{range.error}</p>}
        </Card>

        {metrics.error ? (
          <ErrorNotice error={metrics.error} onRetry={() => void metrics.refetch()} />
        ) : !m ? (
          valid ? <LoadingBlock /> : null
        ) : (
          <>
            <dl className="grid grid-cols-2 gap-4 lg:grid-cols-5" aria-label="Run totals">
              <Stat label="Runs" value={formatCount(m.totals.total)} hint={`${formatCount(m.totals.succeeded)} succeeded · ${formatCount(m.totals.failed)} failed`} />
              <Stat label="Failure rate" value={formatPercent(m.totals.failureRate)} tone={(m.totals.failureRate ?? 0) > 0.05 ? 'bad' : 'default'} hint="of finished runs" />
              <Stat label="Duration p50" value={formatDuration(m.totals.p50DurationMs)} />
              <Stat label="Duration p95" value={formatDuration(m.totals.p95DurationMs)} />
              <Stat label="Queue wait p95" value={formatDuration(m.totals.p95QueueWaitMs)} hint={`p50 ${formatDuration(m.totals.p50QueueWaitMs)}`} />
            </dl>
            <Card title="Runs by status">
              {m.totals.total === 0 ? (
                <EmptyState title="No runs in this range">Runs created in the range show here, by when they were created.</EmptyState>
              ) : (
                <Suspense fallback={<LoadingBlock label="Loading the chart" />}>
                  <StackedBarChart label="Runs by status" rows={statusRows} xKey="start" series={RUN_STATUS_SERIES} formatX={label} tooltipX={formatDateTimeZone} formatY={(n) => formatCount(n)} />
                </Suspense>
              )}
            </Card>
            <Card title="Run duration and queue wait">
              {m.totals.p50DurationMs === null && m.totals.p95QueueWaitMs === null ? (
                <EmptyState title="No run finished or started in this range" />
              ) : (
                <Suspense fallback={<LoadingBlock label="Loading the chart" />}>
                  <LineChart label="Run duration and queue wait" rows={timeRows} xKey="start" series={RUN_TIME_SERIES} formatX={label} tooltipX={formatDateTimeZone} formatY={(n) => formatDuration(n)} />
                </Suspense>
              )}
            </Card>
            <Card padded={false} title="Failures by code">
              {m.failureCodes.length === 0 ? (
                <EmptyState title="No failed runs in this range" />
              ) : (
                <Table label="Failures by code" head={['Code', 'Runs', 'Since', 'Latest', 'Latest message', '']}>
                  {m.failureCodes.map((f) => (
                    <tr key={f.code} data-failure-code={f.code}>
                      <Cell layout="nowrap" className="font-mono text-xs font-semibold text-red-700">{f.code}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">
                        <span className="inline-flex items-center gap-2">
                          <span className="inline-block h-2 rounded bg-red-300" style={{ width: `${Math.max(4, Math.round((f.runs / m.failureCodes[0]!.runs) * 80))}px` }} aria-hidden="true" />
                          {formatCount(f.runs)}
                        </span>
                      </Cell>
                      <Cell layout="nowrap"><RelativeTime value={f.firstAt} /></Cell>
                      <Cell layout="nowrap"><RelativeTime value={f.lastAt} /></Cell>
                      <Cell className="max-w-md text-xs text-slate-600">{f.lastMessage}</Cell>
                      <Cell layout="actions">
                        <div className="flex justify-end gap-3 text-xs font-medium">
                          <Link to="/runs/$runId" params={{ runId: f.lastRunId }} className="text-indigo-700 hover:underline">Latest run</Link>
                          <Link to="/runs" search={runsSearchFor({ from: f.firstAt, to: m.to }, 'FAILED', search.workflowId)} className="text-indigo-700 hover:underline">
                            Failed runs
                          </Link>
                        </div>
                      </Cell>
                    </tr>
                  ))}
                </Table>
              )}
            </Card>
          </>
        )}
      </div>
    </>
  );
}

export const metricsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/metrics', validateSearch: parseMetricsSearch, component: MetricsPage });
