import { Suspense } from 'react';
import { Card } from '../card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../feedback';
import { useApiQuery } from '../../hooks/use-api';
import { runMetricsQuery } from '../../lib/api/operations/metrics';
import { queryKeys } from '../../lib/api/query-keys';
import { formatCount, formatDateTimeZone, formatDuration, formatPercent } from '../../lib/format';
import { bucketLabel } from '../../lib/metrics-range';
import { MetricsRangePicker, useMetricsRange, useMetricsRangeState } from './metrics-range-picker';
import { LineChart, StackedBarChart } from './index';
import { STATUS_COLORS } from './palette';

/**
 * Runs over a chosen range (issue 12), for the dashboard (the whole organization) and the app,
 * workflow and workers pages (filtered to that app, workflow or worker by runMetrics itself): totals,
 * runs by status per bucket, and run duration and queue wait p50/p95. The range is the page's own.
 */

export interface RunMetricsFilter {
  workflowId?: string | undefined;
  appId?: string | undefined;
  workerId?: string | undefined;
}

export const RUN_STATUS_SERIES = [
  { id: 'succeeded', label: 'Succeeded', color: STATUS_COLORS.succeeded },
  { id: 'failed', label: 'Failed', color: STATUS_COLORS.failed },
  { id: 'cancelled', label: 'Cancelled', color: STATUS_COLORS.cancelled },
  { id: 'open', label: 'Queued or running', color: STATUS_COLORS.running },
];
export const RUN_TIME_SERIES = [
  { id: 'p50DurationMs', label: 'Duration p50', color: '#4f46e5' },
  { id: 'p95DurationMs', label: 'Duration p95', color: '#a5b4fc' },
  { id: 'p95QueueWaitMs', label: 'Queue wait p95', color: '#d97706' },
];

function MiniStat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums text-slate-900">{value}</dd>
      {hint && <dd className="text-xs text-slate-500">{hint}</dd>}
    </div>
  );
}

/** `name` labels the card and its figures ("Runs of nightly-report"): tests and screen readers find them by it. */
export function RunMetricsPanel({ name, filter = {}, id }: { name: string; filter?: RunMetricsFilter; id?: string }) {
  const [value, update] = useMetricsRangeState('24h');
  const range = useMetricsRange(value);
  const valid = !('error' in range);
  const vars = {
    from: valid ? range.from : '',
    to: valid ? range.to : '',
    bucket: valid ? range.bucket : ('HOUR' as const),
    workflowId: filter.workflowId ?? null,
    appId: filter.appId ?? null,
    workerId: filter.workerId ?? null,
  };
  const metrics = useApiQuery(
    queryKeys.metrics.runs({ from: vars.from, to: vars.to, bucket: vars.bucket, workflowId: filter.workflowId, appId: filter.appId, workerId: filter.workerId }),
    runMetricsQuery,
    vars,
    { enabled: valid, placeholderData: (previous) => previous, refetchInterval: 60_000 },
  );
  const m = metrics.data?.runMetrics;
  const rangeMs = valid ? Date.parse(range.to) - Date.parse(range.from) : 0;
  const label = (iso: string) => (m ? bucketLabel(iso, m.bucket, rangeMs) : iso);
  const statusRows = (m?.buckets ?? []).map((b) => ({ start: b.start, succeeded: b.counts.succeeded, failed: b.counts.failed, cancelled: b.counts.cancelled, open: b.counts.queued + b.counts.running + b.counts.scheduled }));
  const timeRows = (m?.buckets ?? []).map((b) => ({ start: b.start, p50DurationMs: b.counts.p50DurationMs ?? null, p95DurationMs: b.counts.p95DurationMs ?? null, p95QueueWaitMs: b.counts.p95QueueWaitMs ?? null }));

  return (
    <Card title={name} id={id}>
      <div className="space-y-4">
        <MetricsRangePicker value={value} onChange={update} />
        {!valid && <p role="alert" className="text-sm text-red-700">{range.error}</p>}
        {metrics.error ? (
          <ErrorNotice error={metrics.error} onRetry={() => void metrics.refetch()} />
        ) : !m ? (
          valid ? <LoadingBlock /> : null
        ) : (
          <>
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-5" aria-label={`${name}: totals`} data-range-from={m.from} data-range-to={m.to}>
              <MiniStat label="Runs" value={formatCount(m.totals.total)} hint={`${formatCount(m.totals.succeeded)} succeeded · ${formatCount(m.totals.failed)} failed`} />
              <MiniStat label="Failure rate" value={formatPercent(m.totals.failureRate)} hint="of finished runs" />
              <MiniStat label="Duration p50" value={formatDuration(m.totals.p50DurationMs)} />
              <MiniStat label="Duration p95" value={formatDuration(m.totals.p95DurationMs)} />
              <MiniStat label="Queue wait p95" value={formatDuration(m.totals.p95QueueWaitMs)} hint={`p50 ${formatDuration(m.totals.p50QueueWaitMs)}`} />
            </dl>
            {m.totals.total === 0 ? (
              <EmptyState title="No runs in this range">Runs created in the range show here, by when they were created.</EmptyState>
            ) : (
              <Suspense fallback={<LoadingBlock label="Loading the chart" />}>
                <StackedBarChart label={`${name}: by status`} rows={statusRows} xKey="start" series={RUN_STATUS_SERIES} formatX={label} tooltipX={formatDateTimeZone} formatY={(n) => formatCount(n)} height={220} />
                {(m.totals.p50DurationMs !== null || m.totals.p95QueueWaitMs !== null) && (
                  <LineChart label={`${name}: duration and queue wait`} rows={timeRows} xKey="start" series={RUN_TIME_SERIES} formatX={label} tooltipX={formatDateTimeZone} formatY={(n) => formatDuration(n)} height={180} />
                )}
              </Suspense>
            )}
          </>
        )}
      </div>
    </Card>
  );
}
