import { CartesianGrid, Legend, Line, LineChart as RechartsLineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { axisText, TOOLTIP_STYLE } from './palette';
import type { StackedSeries } from './stacked-bar-chart';

/** Lines over the same x values (p50/p95 durations and queue wait per bucket); a gap where a value is null. */

export interface LineChartProps {
  label: string;
  rows: ReadonlyArray<Record<string, number | string | null>>;
  xKey: string;
  series: readonly StackedSeries[];
  formatX?: (value: string) => string;
  /** The x value in the tooltip (default formatX). */
  tooltipX?: (value: string) => string;
  formatY: (value: number) => string;
  height?: number;
}

export default function LineChart({ label, rows, xKey, series, formatX, tooltipX = formatX, formatY, height = 240 }: LineChartProps) {
  return (
    <figure aria-label={label} data-chart="line" data-series={series.length} data-points={rows.length} className="w-full">
      <ResponsiveContainer width="100%" height={height}>
        <RechartsLineChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--chart-grid)" />
          <XAxis dataKey={xKey} tickFormatter={formatX} tick={{ fontSize: 11, fill: 'var(--chart-tick)' }} tickLine={false} axisLine={{ stroke: 'var(--chart-axis)' }} minTickGap={12} />
          <YAxis tickFormatter={formatY} tick={{ fontSize: 11, fill: 'var(--chart-tick)' }} tickLine={false} axisLine={false} width={64} />
          <Tooltip formatter={(value) => (value === null || value === undefined ? '—' : formatY(Number(value)))} labelFormatter={(value: unknown) => (tooltipX ? tooltipX(axisText(value)) : axisText(value))} contentStyle={TOOLTIP_STYLE} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s) => (
            <Line key={s.id} type="monotone" dataKey={(row: Record<string, number | string | null>) => row[s.id] ?? null} name={s.label} stroke={s.color} strokeWidth={2} dot={{ r: 2 }} connectNulls={false} isAnimationActive={false} />
          ))}
        </RechartsLineChart>
      </ResponsiveContainer>
    </figure>
  );
}
