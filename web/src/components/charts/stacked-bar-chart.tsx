import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { axisText, TOOLTIP_STYLE } from './palette';

/**
 * A stacked bar chart of rows (one per x value) with one bar segment per series: usage per day by
 * provider, runs per bucket by status. Loaded lazily with the pages that draw it, so the chart
 * library stays out of the app's first load. The figure carries its label and, for tests and screen
 * readers, the number of bars drawn.
 */

export interface StackedSeries {
  id: string;
  label: string;
  color: string;
}

export interface StackedBarChartProps {
  label: string;
  rows: ReadonlyArray<Record<string, number | string>>;
  xKey: string;
  series: readonly StackedSeries[];
  formatX?: (value: string) => string;
  /** The x value in the tooltip (default formatX): e.g. the bucket's start with its time zone. */
  tooltipX?: (value: string) => string;
  formatY: (value: number) => string;
  height?: number;
}

export default function StackedBarChart({ label, rows, xKey, series, formatX, tooltipX = formatX, formatY, height = 280 }: StackedBarChartProps) {
  return (
    <figure aria-label={label} data-chart="stacked-bar" data-series={series.length} data-points={rows.length} className="w-full">
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--chart-grid)" />
          <XAxis dataKey={xKey} tickFormatter={formatX} tick={{ fontSize: 11, fill: 'var(--chart-tick)' }} tickLine={false} axisLine={{ stroke: 'var(--chart-axis)' }} minTickGap={12} />
          <YAxis tickFormatter={formatY} tick={{ fontSize: 11, fill: 'var(--chart-tick)' }} tickLine={false} axisLine={false} width={64} />
          <Tooltip
            formatter={(value) => formatY(Number(value))}
            labelFormatter={(value: unknown) => (tooltipX ? tooltipX(axisText(value)) : axisText(value))}
            contentStyle={TOOLTIP_STYLE}
            cursor={{ fill: 'var(--chart-cursor)' }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s) => (
            <Bar key={s.id} dataKey={(row: Record<string, number | string>) => row[s.id] ?? 0} name={s.label} stackId="stack" fill={s.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
