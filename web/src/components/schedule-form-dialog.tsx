import { useMemo, useState, type FormEvent } from 'react';
import { Dialog, FormDialogFooter } from './dialog';
import { ErrorNotice, LoadingBlock } from './feedback';
import { Field, SelectInput, TextArea, TextInput } from './form';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import type { ScheduleCatchUp, ScheduleOverlap } from '../lib/api/__generated__/graphql';
import { createScheduleMutation, cronPreviewQuery, scheduleFormQuery } from '../lib/api/operations/flow';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';

/**
 * A new schedule: a workflow, a cron read live by the API (its next runs in the chosen zone, or why
 * it is refused, while typing), a time zone, the run input (JSON) and what overlapping and missed
 * ticks do. The API checks everything again on save and names the field it refuses.
 */

const OVERLAPS: ReadonlyArray<[ScheduleOverlap, string]> = [
  ['SKIP', 'Skip the tick'],
  ['QUEUE', 'Queue it (at most 10) until the run ends'],
  ['CANCEL_PREVIOUS', 'Cancel the running run and start anew'],
];
const CATCH_UPS: ReadonlyArray<[ScheduleCatchUp, string]> = [
  ['NONE', 'None (recorded as missed)'],
  ['LAST', 'The latest missed tick'],
  ['ALL', 'The latest N missed ticks'],
];

/** The zones the browser knows, UTC first, and the browser's own zone (the default). */
function useTimeZones(): { zones: string[]; local: string } {
  return useMemo(() => {
    const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    return { zones: ['UTC', ...known.filter((z) => z !== 'UTC')], local: local || 'UTC' };
  }, []);
}

/** The next runs of a cron as the API reads it, asked once typing pauses. */
function CronPreview({ cron, timezone }: { cron: string; timezone: string }) {
  const settled = useDebouncedValue({ cron: cron.trim(), timezone: timezone.trim() });
  const preview = useApiQuery(queryKeys.schedules.cronPreview(settled.cron, settled.timezone), cronPreviewQuery, { cron: settled.cron, timezone: settled.timezone || null, n: 5 }, { enabled: settled.cron !== '', retry: false, staleTime: 30_000 });
  if (settled.cron === '') return null;
  if (preview.isPending) return <p className="text-xs text-slate-500">Reading the cron…</p>;
  if (preview.error) {
    const why = fieldErrorFor(preview.error, 'cron') ?? fieldErrorFor(preview.error, 'timezone') ?? preview.error.message;
    return <p className="text-xs text-red-700" role="alert" data-testid="cron-error">{why}</p>;
  }
  const zone = preview.data.cronPreview.timezone;
  const inZone = new Intl.DateTimeFormat(undefined, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' });
  return (
    <div className="rounded-lg bg-slate-50 px-3 py-2 text-xs text-slate-700" data-testid="cron-preview">
      <p className="mb-1 font-medium">Next runs ({zone}):</p>
      <ul className="tabular-nums">
        {preview.data.cronPreview.nextRuns.map((at) => (
          <li key={at} title={at}>{inZone.format(new Date(at))}</li>
        ))}
      </ul>
    </div>
  );
}

export function CreateScheduleDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { zones, local } = useTimeZones();
  const form = useApiQuery(queryKeys.schedules.form, scheduleFormQuery, {});
  const workflows = form.data?.workflows.edges.map((e) => e.node) ?? [];
  const [workflowId, setWorkflowId] = useState('');
  const [cron, setCron] = useState('0 * * * *');
  const [timezone, setTimezone] = useState(local);
  const [input, setInput] = useState('{}');
  const [inputError, setInputError] = useState<string>();
  const [overlap, setOverlap] = useState<ScheduleOverlap>('SKIP');
  const [catchUp, setCatchUp] = useState<ScheduleCatchUp>('NONE');
  const [catchUpLimit, setCatchUpLimit] = useState('10');
  const create = useApiMutation(createScheduleMutation, { invalidates: [queryKeys.schedules.all], onSuccess: onCreated });
  const chosen = workflowId || workflows[0]?.id || '';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.trim() === '' ? '{}' : input);
    } catch {
      setInputError('The input is JSON: an object such as { "customerId": "c-1" }');
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setInputError('The input is a JSON object: { … }');
      return;
    }
    setInputError(undefined);
    create.mutate({
      input: { workflowId: chosen, cron: cron.trim(), timezone: timezone.trim(), input: parsed, overlap, catchUp, ...(catchUp === 'ALL' ? { catchUpLimit: Number(catchUpLimit) } : {}) },
    });
  };

  const fields = ['input.workflowId', 'input.cron', 'input.timezone', 'input.input', 'input.overlap', 'input.catchUp', 'input.catchUpLimit'];
  return (
    <Dialog open onClose={onClose} wide title="New schedule" footer={<FormDialogFooter formId="new-schedule-form" submitLabel="Create schedule" busy={create.isPending} onCancel={onClose} />}>
      {form.isPending ? (
        <LoadingBlock />
      ) : form.error ? (
        <ErrorNotice error={form.error} onRetry={() => void form.refetch()} />
      ) : (
        <form id="new-schedule-form" onSubmit={submit} className="space-y-4">
          {create.error && !blamesField(create.error, fields) && <ErrorNotice error={create.error} title="The schedule was not created" />}
          <Field label="Workflow" hint={workflows.length === 0 ? 'Create a workflow first.' : 'Each tick starts a run of its latest version.'} error={fieldErrorFor(create.error, 'input.workflowId')}>
            {(p) => (
              <SelectInput {...p} required value={chosen} onChange={(e) => setWorkflowId(e.target.value)}>
                {workflows.map((w) => (
                  <option key={w.id} value={w.id}>{w.name}</option>
                ))}
              </SelectInput>
            )}
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Cron" hint="5 fields (minute hour day month weekday), 6 with seconds first, or @hourly, @daily…" error={fieldErrorFor(create.error, 'input.cron')}>
              {(p) => <TextInput {...p} required className="font-mono" value={cron} onChange={(e) => setCron(e.target.value)} autoFocus />}
            </Field>
            <Field label="Time zone" hint="IANA name; daylight-saving changes are followed." error={fieldErrorFor(create.error, 'input.timezone')}>
              {(p) => (
                <>
                  <TextInput {...p} required list="schedule-time-zones" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
                  <datalist id="schedule-time-zones">
                    {zones.map((z) => (
                      <option key={z} value={z} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>
          </div>
          <CronPreview cron={cron} timezone={timezone} />
          <Field label="Input (JSON)" hint="The run input of every tick, a JSON object (at most 64 KiB)." error={inputError ?? fieldErrorFor(create.error, 'input.input')}>
            {(p) => <TextArea {...p} rows={4} value={input} onChange={(e) => setInput(e.target.value)} />}
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="When the previous run has not ended" error={fieldErrorFor(create.error, 'input.overlap')}>
              {(p) => (
                <SelectInput {...p} value={overlap} onChange={(e) => setOverlap(e.target.value as ScheduleOverlap)}>
                  {OVERLAPS.map(([value, label]) => (
                    <option key={value} value={value}>{label}</option>
                  ))}
                </SelectInput>
              )}
            </Field>
            <Field label="Catch up missed ticks" hint="Ticks no orchestration process handled in time (down, overloaded)." error={fieldErrorFor(create.error, 'input.catchUp')}>
              {(p) => (
                <SelectInput {...p} value={catchUp} onChange={(e) => setCatchUp(e.target.value as ScheduleCatchUp)}>
                  {CATCH_UPS.map(([value, label]) => (
                    <option key={value} value={value}>{label}</option>
                  ))}
                </SelectInput>
              )}
            </Field>
          </div>
          {catchUp === 'ALL' && (
            <Field label="Missed ticks to run, at most" hint="1 to 100, the latest ones, oldest first." error={fieldErrorFor(create.error, 'input.catchUpLimit')}>
              {(p) => <TextInput {...p} type="number" min={1} max={100} required value={catchUpLimit} onChange={(e) => setCatchUpLimit(e.target.value)} />}
            </Field>
          )}
        </form>
      )}
    </Dialog>
  );
}
