import { createRoute, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { CreateScheduleDialog } from '../components/schedule-form-dialog';
import { ScheduleTicksDialog } from '../components/schedule-ticks-dialog';
import { Cell, Table } from '../components/table';
import { ExactTime, RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { SchedulesQuery } from '../lib/api/__generated__/graphql';
import { deleteScheduleMutation, pauseScheduleMutation, resumeScheduleMutation, schedulesQuery, updateScheduleMutation } from '../lib/api/operations/flow';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

type Schedule = SchedulesQuery['schedules'][number];

function EditScheduleDialog({ schedule, onClose }: { schedule: Schedule; onClose: () => void }) {
  const [cron, setCron] = useState(schedule.cron);
  const [timezone, setTimezone] = useState(schedule.timezone);
  const update = useApiMutation(updateScheduleMutation, { invalidates: [queryKeys.schedules.all], onSuccess: onClose });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ id: schedule.id, input: { cron: cron.trim(), timezone: timezone.trim() } });
  };
  return (
    <Dialog open onClose={onClose} title={`Edit the schedule of ${schedule.workflow.name}`} footer={<FormDialogFooter formId="schedule-form" submitLabel="Save" busy={update.isPending} onCancel={onClose} />}>
      <form id="schedule-form" onSubmit={submit} className="space-y-4">
        {update.error && !blamesField(update.error, ['input.cron', 'input.timezone']) && <ErrorNotice error={update.error} title="The schedule was not saved" />}
        <Field label="Cron" hint="5 fields (minute hour day month weekday), 6 with seconds first, or @hourly, @daily…" error={fieldErrorFor(update.error, 'input.cron')}>
          {(p) => <TextInput {...p} required className="font-mono" value={cron} onChange={(e) => setCron(e.target.value)} autoFocus />}
        </Field>
        <Field label="Time zone" hint="IANA, e.g. Europe/Berlin (daylight-saving changes followed)." error={fieldErrorFor(update.error, 'input.timezone')}>
          {(p) => <TextInput {...p} required value={timezone} onChange={(e) => setTimezone(e.target.value)} />}
        </Field>
      </form>
    </Dialog>
  );
}

function SchedulesPage() {
  const can = usePermissions();
  const schedules = useApiQuery(queryKeys.schedules.all, schedulesQuery, {}, { refetchInterval: 15_000 });
  const pause = useApiMutation(pauseScheduleMutation, { invalidates: [queryKeys.schedules.all] });
  const resume = useApiMutation(resumeScheduleMutation, { invalidates: [queryKeys.schedules.all] });
  const [editing, setEditing] = useState<Schedule>();
  const [creating, setCreating] = useState(false);
  const [ticksOf, setTicksOf] = useState<Schedule>();
  const [deleting, setDeleting] = useState<Schedule>();
  const remove = useApiMutation(deleteScheduleMutation, { invalidates: [queryKeys.schedules.all], onSuccess: () => setDeleting(undefined) });
  const list = schedules.data?.schedules ?? [];
  const busy = (id: string) => (pause.isPending && pause.variables.id === id) || (resume.isPending && resume.variables.id === id);

  return (
    <>
      <PageHeader
        title="Schedules"
        description="Workflows started on a cron in a time zone; each tick starts one run, once, however many orchestration replicas run."
        actions={can.manageSchedules ? <Button variant="primary" onClick={() => setCreating(true)}>New schedule</Button> : undefined}
      />
      {(pause.error ?? resume.error) && <div className="mb-4"><ErrorNotice error={pause.error ?? resume.error} title="The schedule did not change" /></div>}
      <Card padded={false} title="Schedules">
        {schedules.isPending ? (
          <LoadingBlock />
        ) : schedules.error ? (
          <div className="p-4"><ErrorNotice error={schedules.error} onRetry={() => void schedules.refetch()} /></div>
        ) : list.length === 0 ? (
          <EmptyState title="No schedules">{can.manageSchedules ? 'Start a workflow on a cron with New schedule.' : 'Operators and admins create schedules.'}</EmptyState>
        ) : (
          <Table label="Schedules" head={['Workflow', 'Cron', 'Overlap', 'Next runs', 'Last fired', '']}>
            {list.map((s) => (
              <tr key={s.id} data-schedule={s.id}>
                <Cell>
                  <Link to="/workflows/$workflowId" params={{ workflowId: s.workflow.id }} className="text-indigo-700 hover:underline">{s.workflow.name}</Link>
                  {s.paused && <span className="ml-2 rounded-md bg-amber-50 px-1.5 py-0.5 text-[11px] font-semibold text-amber-800 ring-1 ring-inset ring-amber-200">PAUSED</span>}
                </Cell>
                <Cell layout="nowrap">
                  <code className="font-mono text-xs">{s.cron}</code>
                  <span className="block text-xs text-slate-500">{s.timezone}</span>
                </Cell>
                <Cell layout="nowrap" className="text-xs">{s.overlap} · catch up {s.catchUp}</Cell>
                <Cell className="text-xs tabular-nums" >
                  {s.paused ? (
                    <span className="text-slate-400">paused</span>
                  ) : (
                    <ul data-testid="next-runs">
                      {s.nextRuns.map((at) => (
                        <li key={at}><ExactTime value={at} /></li>
                      ))}
                    </ul>
                  )}
                </Cell>
                <Cell layout="nowrap">{s.lastFireAt ? <RelativeTime value={s.lastFireAt} /> : <span className="text-xs text-slate-400">never</span>}</Cell>
                <Cell layout="actions">
                  {can.manageSchedules && (s.paused ? (
                    <Button size="sm" busy={busy(s.id)} onClick={() => resume.mutate({ id: s.id })}>Resume</Button>
                  ) : (
                    <Button size="sm" busy={busy(s.id)} onClick={() => pause.mutate({ id: s.id })}>Pause</Button>
                  ))}
                  <Button size="sm" onClick={() => setTicksOf(s)}>Ticks</Button>
                  {can.manageSchedules && <Button size="sm" onClick={() => setEditing(s)}>Edit</Button>}
                  {can.manageSchedules && <Button size="sm" variant="danger" onClick={() => setDeleting(s)}>Delete</Button>}
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {editing && <EditScheduleDialog schedule={editing} onClose={() => setEditing(undefined)} />}
      {creating && <CreateScheduleDialog onClose={() => setCreating(false)} onCreated={() => setCreating(false)} />}
      {ticksOf && <ScheduleTicksDialog schedule={ticksOf} onClose={() => setTicksOf(undefined)} />}
      {deleting && (
        <ConfirmDialog title="Delete this schedule?" confirmLabel="Delete schedule" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate({ id: deleting.id })} onClose={() => { remove.reset(); setDeleting(undefined); }}>
          <p>
            <strong>{deleting.workflow.name}</strong> on <code className="font-mono">{deleting.cron}</code> ({deleting.timezone}) stops firing. The runs it started stay.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

export const schedulesRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/schedules', component: SchedulesPage });
