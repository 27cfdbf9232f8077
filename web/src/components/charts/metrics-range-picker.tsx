import { useMemo, useState } from 'react';
import { Field, TextInput } from '../form';
import { METRICS_PRESETS, metricsRange, type MetricsPreset, type MetricsRange } from '../../lib/metrics-range';

/**
 * The range of a chart (issue 12: 1 h, 24 h, 7 d, 30 d, custom) as pill buttons and, for a custom
 * range, two datetime-local inputs. The metrics page keeps its range in the URL; the dashboard, app,
 * workflow and workers pages keep theirs in the page (useMetricsRangeState).
 */

export interface MetricsRangeValue {
  preset: MetricsPreset;
  /** datetime-local values (custom range). */
  from?: string | undefined;
  to?: string | undefined;
}

const CHOICES: ReadonlyArray<{ id: MetricsPreset; label: string }> = [...METRICS_PRESETS.map((p) => ({ id: p.id, label: p.label })), { id: 'custom', label: 'Custom' }];

export function MetricsRangePicker({ value, onChange, legend = 'Range' }: { value: MetricsRangeValue; onChange: (patch: Partial<MetricsRangeValue>) => void; legend?: string }) {
  return (
    <div className="flex flex-wrap items-end gap-4">
      <fieldset>
        <legend className="mb-1 text-sm font-medium text-slate-700">{legend}</legend>
        <div className="flex flex-wrap gap-1.5">
          {CHOICES.map((p) => (
            <button
              key={p.id}
              type="button"
              aria-pressed={value.preset === p.id}
              onClick={() => onChange({ preset: p.id })}
              className={`rounded-full px-2.5 py-1 text-xs font-medium ring-1 ring-inset ${value.preset === p.id ? 'bg-indigo-600 text-on-accent ring-indigo-600' : 'bg-white text-slate-600 ring-slate-300 hover:bg-slate-50'}`}
            >
              {p.label}
            </button>
          ))}
        </div>
      </fieldset>
      {value.preset === 'custom' && (
        <>
          <Field label="From" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={value.from ?? ''} onChange={(e) => onChange({ from: e.target.value || undefined })} />}</Field>
          <Field label="To" className="w-52">{(p) => <TextInput {...p} type="datetime-local" value={value.to ?? ''} onChange={(e) => onChange({ to: e.target.value || undefined })} />}</Field>
        </>
      )}
    </div>
  );
}

/** The range a picker's value stands for, recomputed once a minute (so a query key holds still for a minute). */
export function useMetricsRange(value: MetricsRangeValue): MetricsRange | { error: string } {
  const minute = Math.floor(Date.now() / 60_000);
  return useMemo(() => metricsRange(value.preset, minute * 60_000, { from: value.from, to: value.to }), [value.preset, minute, value.from, value.to]);
}

/** A picker's value kept in the page (the pages whose URL already means something else). */
export function useMetricsRangeState(initial: MetricsPreset = '24h') {
  const [value, setValue] = useState<MetricsRangeValue>({ preset: initial });
  return [value, (patch: Partial<MetricsRangeValue>) => setValue((current) => ({ ...current, ...patch }))] as const;
}
