/** Series colours of the charts (Tailwind 600s: distinct on white, readable as text). */
export const SERIES_COLORS = ['#4f46e5', '#0891b2', '#d97706', '#db2777', '#16a34a', '#7c3aed', '#dc2626', '#64748b'] as const;

export const seriesColor = (index: number): string => SERIES_COLORS[index % SERIES_COLORS.length]!;

/** Run statuses as the status badges colour them. */
export const STATUS_COLORS = { succeeded: '#059669', failed: '#dc2626', cancelled: '#94a3b8', running: '#2563eb', queued: '#d97706', scheduled: '#a78bfa' } as const;

/** The tooltip box in the theme's colours (recharts draws it white by default). */
export const TOOLTIP_STYLE = { backgroundColor: 'var(--chart-tooltip-bg)', borderColor: 'var(--chart-tooltip-border)', borderRadius: 8 } as const;

/** An axis or tooltip label's value as text (recharts hands it over untyped). */
export const axisText = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');
