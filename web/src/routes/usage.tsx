import { createRoute, useNavigate } from '@tanstack/react-router';
import { Suspense, useMemo, useState } from 'react';
import { Button } from '../components/button';
import { Card, Stat } from '../components/card';
import { StackedBarChart } from '../components/charts';
import { seriesColor } from '../components/charts/palette';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, SelectInput, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { useApiQuery } from '../hooks/use-api';
import { useServices } from '../hooks/services';
import { usageSeriesQuery } from '../lib/api/operations/accounting';
import { queryKeys } from '../lib/api/query-keys';
import { formatCount } from '../lib/format';
import { daysOf, formatGpuSeconds, formatTokens, formatUsd, usageByKey, usageChart, usageTotals, type UsageMeasure, type UsageSplit } from '../lib/usage-chart';
import { fetchUsageCsv, saveFile, type UsageCsvGroupBy } from '../lib/usage-csv';
import { appLayoutRoute } from './app-layout';

/**
 * Usage (issue 14 accounting): the organization's model tokens, cost and GPU time per UTC day over a
 * range, stacked by provider, model, app or workflow, with totals, a table per key, and the same range
 * as a CSV download.
 */

const SPLITS: ReadonlyArray<{ id: UsageSplit; label: string }> = [
  { id: 'PROVIDER', label: 'Provider' },
  { id: 'MODEL', label: 'Model' },
  { id: 'APP', label: 'App' },
  { id: 'WORKFLOW', label: 'Workflow' },
];
const RANGES = [
  { id: '7d', label: 'Last 7 days', days: 7 },
  { id: '30d', label: 'Last 30 days', days: 30 },
  { id: '90d', label: 'Last 90 days', days: 90 },
] as const;
const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

export interface UsageSearch {
  range?: '7d' | '30d' | '90d' | 'custom';
  /** YYYY-MM-DD, UTC days, both included (custom range). */
  from?: string;
  to?: string;
  split?: UsageSplit;
  measure?: UsageMeasure;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseUsageSearch(search: Record<string, unknown>): UsageSearch {
  const pick = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined => (allowed.includes(value as T) ? (value as T) : undefined);
  const range = pick(search['range'], ['7d', '30d', '90d', 'custom'] as const);
  const split = pick(search['split'], ['PROVIDER', 'MODEL', 'APP', 'WORKFLOW'] as const);
  const measure = pick(search['measure'], ['costUsd', 'totalTokens'] as const);
  return {
    ...(range ? { range } : {}),
    ...(typeof search['from'] === 'string' && DATE.test(search['from']) ? { from: search['from'] } : {}),
    ...(typeof search['to'] === 'string' && DATE.test(search['to']) ? { to: search['to'] } : {}),
    ...(split ? { split } : {}),
    ...(measure ? { measure } : {}),
  };
}

/** [from, to) of the page's range: whole UTC days up to the end of today, or the custom days (both included). */
export function usageRange(search: UsageSearch, now: number): { from: string; to: string } | { error: string } {
  const tomorrow = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  if (search.range !== 'custom') {
    const days = RANGES.find((r) => r.id === (search.range ?? '30d'))!.days;
    return { from: new Date(tomorrow - days * DAY_MS).toISOString(), to: new Date(tomorrow).toISOString() };
  }
  if (!search.from || !search.to) return { error: 'Choose the first and the last day.' };
  const from = Date.parse(`${search.from}T00:00:00Z`);
  const to = Date.parse(`${search.to}T00:00:00Z`) + DAY_MS;
  if (to <= from) return { error: 'The last day must not be before the first.' };
  if (to - from > MAX_DAYS * DAY_MS) return { error: `Choose at most ${MAX_DAYS} days.` };
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

function CsvDownload({ range }: { range: { from: string; to: string } }) {
  const { session } = useServices();
  const [groupBy, setGroupBy] = useState<UsageCsvGroupBy>('DAY');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const download = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const file = await fetchUsageCsv(session, { ...range, groupBy });
      saveFile(file.fileName, file.blob);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-wrap items-end gap-2">
      <Field label="CSV rows" className="w-40">
        {(p) => (
          <SelectInput {...p} value={groupBy} onChange={(e) => setGroupBy(e.target.value as UsageCsvGroupBy)}>
            <option value="DAY">Per day</option>
            <option value="PROVIDER">Per provider</option>
            <option value="APP">Per app</option>
            <option value="WORKFLOW">Per workflow</option>
          </SelectInput>
        )}
      </Field>
      <Button onClick={() => void download()} busy={busy}>Download CSV</Button>
      {error && <p role="alert" className="w-full text-sm text-red-700">The CSV was not downloaded: {error}</p>}
    </div>
  );
}

function UsagePage() {
  const search = usageRoute.useSearch();
  const navigate = useNavigate({ from: '/usage' });
  const update = (patch: Partial<UsageSearch>) => void navigate({ search: (current: UsageSearch) => parseUsageSearch({ ...current, ...patch }) });
  const split = search.split ?? 'PROVIDER';
  const measure = search.measure ?? 'costUsd';
  // The range is computed once per minute so the query key holds still while the page is open.
  const minute = Math.floor(Date.now() / 60_000);
  const range = useMemo(() => usageRange(search, minute * 60_000), [search, minute]);
  const valid = !('error' in range);
  const usage = useApiQuery(
    queryKeys.usage.series({ from: valid ? range.from : '', to: valid ? range.to : '', splitBy: split }),
    usageSeriesQuery,
    { from: valid ? range.from : '', to: valid ? range.to : '', splitBy: split },
    { enabled: valid, placeholderData: (previous) => previous },
  );
  const points = usage.data?.usageSeries ?? [];
  const totals = usageTotals(points);
  const days = valid ? daysOf(new Date(range.from), new Date(range.to)) : [];
  const chart = usageChart(points, split, measure, days);
  const byKey = usageByKey(points, split);
  const splitLabel = SPLITS.find((s) => s.id === split)!.label;

  return (
    <>
      <PageHeader title="Usage" description="Model tokens, cost and GPU time of this organization's runs, per UTC day. Costs use each provider's prices when the request was sent." />
      <div className="space-y-6">
        <Card>
          <div className="flex flex-wrap items-end gap-4">
            <Field label="Range" className="w-44">
              {(p) => (
                <SelectInput {...p} value={search.range ?? '30d'} onChange={(e) => update({ range: e.target.value as UsageSearch['range'] })}>
                  {RANGES.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
                  <option value="custom">Custom days</option>
                </SelectInput>
              )}
            </Field>
            {search.range === 'custom' && (
              <>
                <Field label="First day (UTC)" className="w-44">{(p) => <TextInput {...p} type="date" value={search.from ?? ''} onChange={(e) => update({ from: e.target.value || undefined })} />}</Field>
                <Field label="Last day (UTC)" className="w-44">{(p) => <TextInput {...p} type="date" value={search.to ?? ''} onChange={(e) => update({ to: e.target.value || undefined })} />}</Field>
              </>
            )}
            <Field label="Stack by" className="w-40">
              {(p) => (
                <SelectInput {...p} value={split} onChange={(e) => update({ split: e.target.value as UsageSplit })}>
                  {SPLITS.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}
                </SelectInput>
              )}
            </Field>
            <Field label="Show" className="w-36">
              {(p) => (
                <SelectInput {...p} value={measure} onChange={(e) => update({ measure: e.target.value as UsageMeasure })}>
                  <option value="costUsd">Cost</option>
                  <option value="totalTokens">Tokens</option>
                </SelectInput>
              )}
            </Field>
            <div className="ml-auto">{valid && <CsvDownload range={range} />}</div>
          </div>
          {!valid && <p role="alert" className="mt-3 text-sm text-red-700">{range.error}</p>}
        </Card>

        {usage.error ? (
          <ErrorNotice error={usage.error} onRetry={() => void usage.refetch()} />
        ) : usage.isPending && valid ? (
          <LoadingBlock />
        ) : (
          <>
            <dl className="grid grid-cols-2 gap-4 lg:grid-cols-4" aria-label="Usage totals">
              <Stat label="Cost" value={formatUsd(totals.costUsd)} />
              <Stat label="Tokens" value={formatTokens(totals.totalTokens)} hint={`${formatCount(totals.promptTokens)} prompt · ${formatCount(totals.completionTokens)} completion`} />
              <Stat label="Model requests" value={formatCount(totals.calls)} hint={totals.failedCalls > 0 ? `${formatCount(totals.failedCalls)} failed` : 'none failed'} tone={totals.failedCalls > 0 ? 'warn' : 'default'} />
              <Stat label="GPU time" value={formatGpuSeconds(totals.gpuSeconds)} />
            </dl>
            <Card title={`${measure === 'costUsd' ? 'Cost' : 'Tokens'} per day by ${splitLabel.toLowerCase()}`}>
              {chart.series.length === 0 ? (
                <EmptyState title="No usage in this range">Runs with llm or browser.agent steps, and tasks on GPU workers, show here.</EmptyState>
              ) : (
                <Suspense fallback={<LoadingBlock label="Loading the chart" />}>
                  <StackedBarChart
                    label={`${measure === 'costUsd' ? 'Cost' : 'Tokens'} per day by ${splitLabel.toLowerCase()}`}
                    rows={chart.rows}
                    xKey="day"
                    series={chart.series.map((s, i) => ({ ...s, color: seriesColor(i) }))}
                    formatX={(day) => day.slice(5)}
                    formatY={measure === 'costUsd' ? formatUsd : formatTokens}
                  />
                </Suspense>
              )}
            </Card>
            <Card padded={false} title={`By ${splitLabel.toLowerCase()}`}>
              {byKey.length === 0 ? (
                <EmptyState title="Nothing to list" />
              ) : (
                <Table label={`Usage by ${splitLabel.toLowerCase()}`} head={[splitLabel, 'Requests', 'Failed', 'Prompt tokens', 'Completion tokens', 'Cost', 'GPU time']}>
                  {byKey.map((row) => (
                    <tr key={row.key} data-usage-key={row.key}>
                      <Cell className="font-medium text-slate-900">{row.label}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{formatCount(row.calls)}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{formatCount(row.failedCalls)}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{formatCount(row.promptTokens)}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{formatCount(row.completionTokens)}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{formatUsd(row.costUsd)}</Cell>
                      <Cell layout="nowrap" className="tabular-nums">{row.gpuSeconds > 0 ? formatGpuSeconds(row.gpuSeconds) : '—'}</Cell>
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

export const usageRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/usage', validateSearch: parseUsageSearch, component: UsagePage });
