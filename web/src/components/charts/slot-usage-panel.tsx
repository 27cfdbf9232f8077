import { Suspense } from 'react';
import { Card } from '../card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../feedback';
import { useApiQuery } from '../../hooks/use-api';
import { poolSlotUsageQuery } from '../../lib/api/operations/metrics';
import { queryKeys } from '../../lib/api/query-keys';
import { formatDateTimeZone, formatPercent } from '../../lib/format';
import { bucketLabel } from '../../lib/metrics-range';
import { slotUsageRows, slotUsageSeries, slotUsageSummary } from '../../lib/slot-usage-chart';
import { MetricsRangePicker, useMetricsRange, useMetricsRangeState } from './metrics-range-picker';
import { LineChart } from './index';
import { seriesColor } from './palette';

/**
 * Slot usage per pool over a chosen range (issue 12): busy slots and total slots of each pool's online
 * workers, as orchestration samples them every minute. On the dashboard (every pool) and the workers
 * page (every pool, or the pool chosen there).
 */
export function SlotUsagePanel({ name = 'Slot usage per pool', pool, id }: { name?: string; pool?: string | undefined; id?: string }) {
  const [value, update] = useMetricsRangeState('24h');
  const range = useMetricsRange(value);
  const valid = !('error' in range);
  const vars = { from: valid ? range.from : '', to: valid ? range.to : '', bucket: valid ? range.bucket : ('HOUR' as const), pool: pool ?? null };
  const usage = useApiQuery(queryKeys.metrics.slots({ from: vars.from, to: vars.to, bucket: vars.bucket, pool }), poolSlotUsageQuery, vars, {
    enabled: valid,
    placeholderData: (previous) => previous,
    refetchInterval: 60_000,
  });
  const data = usage.data?.poolSlotUsage;
  const rangeMs = valid ? Date.parse(range.to) - Date.parse(range.from) : 0;
  const pools = data?.pools ?? [];
  const summary = slotUsageSummary(pools);

  return (
    <Card title={name} id={id}>
      <div className="space-y-4">
        <MetricsRangePicker value={value} onChange={update} />
        {!valid && <p role="alert" className="text-sm text-red-700">{range.error}</p>}
        {usage.error ? (
          <ErrorNotice error={usage.error} onRetry={() => void usage.refetch()} />
        ) : !data ? (
          valid ? <LoadingBlock /> : null
        ) : pools.length === 0 ? (
          <EmptyState title="No slot samples in this range">Orchestration records each pool's busy and total slots every minute while workers are online.</EmptyState>
        ) : (
          <>
            <Suspense fallback={<LoadingBlock label="Loading the chart" />}>
              <LineChart
                label={`${name}: busy and total slots`}
                rows={slotUsageRows(pools)}
                xKey="start"
                series={slotUsageSeries(pools, seriesColor)}
                formatX={(iso) => bucketLabel(iso, data.bucket, rangeMs)}
                tooltipX={formatDateTimeZone}
                formatY={(n) => String(Math.round(n * 10) / 10)}
                height={200}
              />
            </Suspense>
            <ul className="divide-y divide-slate-100 text-sm" aria-label={`${name}: pools`}>
              {summary.map((p) => (
                <li key={p.pool} data-pool={p.pool} className="flex flex-wrap items-center justify-between gap-2 py-1.5">
                  <span className="font-medium text-slate-800">{p.pool}</span>
                  <span className="tabular-nums text-xs text-slate-600">
                    mean {p.meanBusy.toFixed(1)} / {p.meanTotal.toFixed(1)} slots busy ({formatPercent(p.utilization)}) · peak {p.peakBusy}
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </Card>
  );
}
