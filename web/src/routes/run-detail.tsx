import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Button } from '../components/button';
import { Card, Details } from '../components/card';
import { BrowserTask } from '../components/run/browser-task';
import { DagView } from '../components/dag-view';
import { Dialog } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { JsonBlock } from '../components/json-block';
import { LiveIndicator } from '../components/live-indicator';
import { LlmAnswer } from '../components/llm-answer';
import { PageHeader } from '../components/page-header';
import { StatusBadge } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation } from '../hooks/use-api';
import { useLiveRun, useTaskLogs } from '../hooks/use-live-run';
import { usePermissions } from '../hooks/use-session';
import { cancelRunMutation, retryRunMutation } from '../lib/api/operations/runs';
import { isNotFound } from '../lib/api/errors';
import { queryKeys } from '../lib/api/query-keys';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format';
import { emptyLogMessage, formatAttempts, isFinalRun, waitKindLabel, type RunEvent, type ShownTask } from '../lib/run-events';
import { appLayoutRoute } from './app-layout';

function ProgressBar({ value, label }: { value: number | null; label: string }) {
  if (value === null) return <span className="text-slate-400">—</span>;
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="flex items-center gap-2">
      <div className="h-1.5 w-20 overflow-hidden rounded-full bg-slate-200" role="progressbar" aria-label={label} aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
        <div className="h-full rounded-full bg-sky-500 transition-[width]" style={{ width: `${percent}%` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-500">{percent}%</span>
    </div>
  );
}

/** Why a task waits to start (a short label, the full reason on hover and for screen readers). */
function WaitReason({ task, long = false }: { task: ShownTask; long?: boolean }) {
  const reason = task.waitReason;
  if (!reason) return null;
  return (
    <span className={`inline-flex max-w-full items-baseline gap-1 text-xs text-amber-800 ${long ? '' : 'truncate'}`} title={reason.message} data-wait-kind={reason.kind}>
      <span className="font-semibold">{waitKindLabel(reason.kind)}:</span>
      <span className={long ? 'break-words' : 'truncate'}>{reason.message}</span>
      {long && (
        <span className="whitespace-nowrap text-amber-700">
          (since <RelativeTime value={reason.since} />)
        </span>
      )}
    </span>
  );
}

function TaskLogs({ task, events }: { task: ShownTask; events: readonly RunEvent[] }) {
  const { query, lines } = useTaskLogs(task.id, events);
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines.length, follow]);
  if (query.error) return <ErrorNotice error={query.error} />;
  return (
    <div>
      <div
        ref={box}
        tabIndex={0}
        role="log"
        aria-label={`Logs of ${task.stepId}`}
        aria-live="off"
        onScroll={(e) => {
          const el = e.currentTarget;
          setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
        }}
        className="max-h-72 min-h-16 overflow-auto rounded-lg bg-slate-950 p-3 font-mono text-xs leading-5 text-slate-200"
      >
        {query.isPending && lines.length === 0 ? (
          <p className="text-slate-500">Loading logs…</p>
        ) : lines.length === 0 ? (
          <p className="text-slate-500">{emptyLogMessage(task.status)}</p>
        ) : (
          lines.map((line) => (
            <div key={line.key} className="whitespace-pre-wrap break-words" data-log-line>
              <span className="text-slate-500">{new Date(line.at).toLocaleTimeString()}</span>{' '}
              <span className={line.level === 'ERROR' ? 'text-red-400' : line.level === 'WARN' ? 'text-amber-300' : line.level === 'DEBUG' ? 'text-slate-500' : 'text-sky-300'}>{line.level.padEnd(5)}</span>{' '}
              {line.attempt !== null && <span className="text-slate-500">#{line.attempt} </span>}
              {line.message}
            </div>
          ))
        )}
      </div>
      {!follow && <p className="mt-1 text-xs text-slate-500">Scrolled up: new lines are not followed. Scroll to the bottom to follow again.</p>}
    </div>
  );
}

function TaskPanel({ task, events }: { task: ShownTask; events: readonly RunEvent[] }) {
  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          Step <code className="font-mono">{task.stepId}</code> <StatusBadge status={task.status} />
        </span>
      }
      id="task-panel"
    >
      <div className="space-y-5">
        <Details
          items={[
            ['Capability', <code className="font-mono text-xs">{task.capability}</code>],
            ['Attempts', formatAttempts(task)],
            ['Worker', task.workerId ?? '—'],
            ...(task.gpus.length > 0 ? ([['GPUs', task.gpus.map((g) => `#${g.index} ${g.model} (${formatBytes(g.memoryMiB * 1024 * 1024)} reserved)`).join(', ')]] as Array<[string, ReactNode]>) : []),
            ['Pool', task.pool],
            ['Queued', formatDateTime(task.queuedAt)],
            ['Started', formatDateTime(task.startedAt)],
            ['Finished', formatDateTime(task.finishedAt)],
            ['Duration', formatDuration(task.durationMs)],
            ['Progress', task.progressMessage ? `${task.progressMessage}` : task.progress !== null ? `${Math.round(task.progress * 100)}%` : '—'],
            ...(task.waitReason ? ([['Waiting for', <WaitReason task={task} long />]] as Array<[string, ReactNode]>) : []),
          ]}
        />
        {task.error && (
          <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p className="font-semibold">{task.error.code}</p>
            <p className="break-words">{task.error.message}</p>
            {task.error.retryable === false && <p className="mt-1 text-xs">Not retryable: another attempt would fail the same way.</p>}
          </div>
        )}
        <BrowserTask task={task} />
        <LlmAnswer task={task} events={events} />
        <div>
          <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Logs</h3>
          <TaskLogs task={task} events={events} />
        </div>
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-2 *:min-w-0">
          <div>
            <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Input (templates resolved)</h3>
            <JsonBlock value={task.input} label={`Input of ${task.stepId}`} />
          </div>
          <div>
            <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Output</h3>
            <JsonBlock value={task.output} label={`Output of ${task.stepId}`} />
          </div>
        </div>
        {task.attemptHistory.length > 0 && (
          <div>
            <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Attempts</h3>
            <Table label={`Attempts of ${task.stepId}`} head={['#', 'Status', 'Worker', 'Started', 'Duration', 'Error']}>
              {task.attemptHistory.map((a) => (
                <tr key={a.id}>
                  <Cell layout="nowrap">{a.number}</Cell>
                  <Cell layout="nowrap">
                    <StatusBadge status={a.status} />
                  </Cell>
                  <Cell layout="nowrap" className="font-mono text-xs">{a.workerId ?? '—'}</Cell>
                  <Cell layout="nowrap">
                    <RelativeTime value={a.startedAt} />
                  </Cell>
                  <Cell layout="nowrap" className="tabular-nums">{formatDuration(a.durationMs)}</Cell>
                  <Cell className="max-w-sm text-red-700">{a.error ? `${a.error.code}: ${a.error.message}` : ''}</Cell>
                </tr>
              ))}
            </Table>
          </div>
        )}
      </div>
    </Card>
  );
}

function CancelDialog({ runId, open, onClose }: { runId: string; open: boolean; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const cancel = useApiMutation(cancelRunMutation, { invalidates: [queryKeys.runs.detail(runId), queryKeys.runs.lists], onSuccess: onClose });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    cancel.mutate({ id: runId, ...(reason.trim() ? { reason: reason.trim() } : {}) });
  };
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Cancel this run?"
      footer={
        <>
          <Button onClick={onClose}>Keep running</Button>
          <Button variant="danger" type="submit" form="cancel-run" busy={cancel.isPending}>
            Cancel run
          </Button>
        </>
      }
    >
      <form id="cancel-run" onSubmit={submit} className="space-y-3">
        <p className="text-sm text-slate-600">Running tasks are stopped on their workers at once; tasks that have not started will not start.</p>
        {cancel.error && <ErrorNotice error={cancel.error} />}
        <Field label="Reason (optional)" hint="Recorded with the run and in the audit log.">{(p) => <TextInput {...p} value={reason} onChange={(e) => setReason(e.target.value)} />}</Field>
      </form>
    </Dialog>
  );
}

function RunDetailPage() {
  const { runId } = runDetailRoute.useParams();
  const search = runDetailRoute.useSearch();
  const navigate = useNavigate({ from: '/runs/$runId' });
  const can = usePermissions();
  const { query, run, events, liveState, liveError } = useLiveRun(runId);
  const [cancelling, setCancelling] = useState(false);
  const retry = useApiMutation(retryRunMutation, { invalidates: [queryKeys.runs.detail(runId), queryKeys.runs.lists, queryKeys.deadLetters.all] });
  const dagSteps = useMemo(() => (run ? run.tasks.map((t) => ({ id: t.stepId, dependsOn: t.dependsOn, capability: t.capability, status: t.status, progress: t.progress })) : []), [run]);
  // The tab says how the run is doing, so a person can watch it from another tab.
  const title = run ? `${run.status.charAt(0)}${run.status.slice(1).toLowerCase()} · ${run.workflow.name} · Orchestra` : 'Run · Orchestra';
  useEffect(() => {
    document.title = title;
  }, [title]);

  if (query.isPending) return <LoadingBlock label="Loading run" />;
  if (query.error && !isNotFound(query.error)) return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  if (!run) {
    return (
      <EmptyState title="Run not found" action={<Link to="/runs" className="text-sm font-medium text-indigo-600">All runs</Link>}>
        There is no run {runId} in this organization.
      </EmptyState>
    );
  }
  const selected = run.tasks.find((t) => t.stepId === search.task);
  const select = (stepId: string) => void navigate({ search: { task: stepId === search.task ? undefined : stepId, deduplicated: search.deduplicated }, replace: true });
  const active = !isFinalRun(run.status);

  return (
    <>
      <PageHeader
        breadcrumb={
          <Link to="/runs" className="hover:text-slate-700">
            Runs
          </Link>
        }
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span>{run.workflow.name}</span>
            <StatusBadge status={run.status} className="text-sm" />
            <LiveIndicator state={liveState} />
          </span>
        }
        description={<span className="font-mono text-xs">{run.id}</span>}
        actions={
          can.operateRuns && (
            <>
              {active && (
                <Button variant="danger" onClick={() => setCancelling(true)}>
                  Cancel run
                </Button>
              )}
              {(run.status === 'FAILED' || run.status === 'CANCELLED') && (
                <Button variant="primary" busy={retry.isPending} onClick={() => retry.mutate({ id: run.id })}>
                  Retry failed steps
                </Button>
              )}
            </>
          )
        }
      />
      {search.deduplicated && (
        <div className="mb-4">
          <Notice>This idempotency key was used before, so no new run was started: this is the run it started then.</Notice>
        </div>
      )}
      {retry.error && <ErrorNotice error={retry.error} className="mb-4" />}
      {liveError && <ErrorNotice error={liveError} title="Live updates stopped" className="mb-4" onRetry={() => void query.refetch()} />}
      <div className="space-y-6">
        <Card title="Summary">
          <Details
            items={[
              ['Workflow', <Link to="/workflows/$workflowId" params={{ workflowId: run.workflow.id }} className="text-indigo-700 hover:underline">{`${run.workflow.name} v${run.workflowVersion}`}</Link>],
              ['Started by', run.startedByName ?? '—'],
              ['Created', formatDateTime(run.createdAt)],
              ['Started', formatDateTime(run.startedAt)],
              ['Finished', formatDateTime(run.finishedAt)],
              ['Duration', formatDuration(run.durationMs)],
              ['Idempotency key', run.idempotencyKey ?? '—'],
              ['App', run.app ? <Link to="/apps/$appId" params={{ appId: run.app.id }} className="text-indigo-700 hover:underline">{run.app.name}</Link> : '—'],
              ...(run.cancelReason ? ([['Cancel reason', run.cancelReason]] as Array<[string, string]>) : []),
            ]}
          />
          {run.error && (
            <div className="mt-4">
              <Notice tone="warning">
                <strong>{run.error.code}</strong>
                {run.error.stepId ? ` in step ${run.error.stepId}` : ''}: {run.error.message}
              </Notice>
            </div>
          )}
        </Card>
        <Card title="Tasks" padded={false}>
          <div className="p-4">
            <DagView steps={dagSteps} selected={search.task} onSelect={select} label="Task graph: select a step to see its details" />
          </div>
          <Table label="Tasks" head={['Step', 'Status', 'Attempts', 'Progress', 'Worker', 'Started', 'Duration']}>
            {run.tasks.map((task) => (
              <tr key={task.id} data-step={task.stepId} data-status={task.status} className={`cursor-pointer hover:bg-slate-50/70 ${task.stepId === search.task ? 'bg-indigo-50/60' : ''}`} onClick={() => select(task.stepId)}>
                <Cell layout="nowrap">
                  <button type="button" className="font-mono text-xs font-semibold text-indigo-700 hover:underline" onClick={(e) => { e.stopPropagation(); select(task.stepId); }} aria-expanded={task.stepId === search.task}>
                    {task.stepId}
                  </button>
                </Cell>
                <Cell className="max-w-xs">
                  <div className="flex flex-col gap-0.5">
                    <span>
                      <StatusBadge status={task.status} />
                    </span>
                    <WaitReason task={task} />
                  </div>
                </Cell>
                <Cell layout="nowrap" className="tabular-nums">
                  {formatAttempts(task)}
                </Cell>
                <Cell>
                  <ProgressBar value={task.status === 'SUCCEEDED' ? 1 : task.progress} label={`Progress of ${task.stepId}`} />
                </Cell>
                <Cell layout="nowrap" className="font-mono text-xs">{task.workerId ?? '—'}</Cell>
                <Cell layout="nowrap">
                  <RelativeTime value={task.startedAt} />
                </Cell>
                <Cell layout="nowrap" className="tabular-nums">{formatDuration(task.durationMs)}</Cell>
              </tr>
            ))}
          </Table>
        </Card>
        {selected && <TaskPanel key={selected.id} task={selected} events={events} />}
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-2 *:min-w-0">
          <Card title="Run input">
            <JsonBlock value={run.input} label="Run input" />
          </Card>
          <Card title="Run output">
            <JsonBlock value={run.output} label="Run output" />
          </Card>
        </div>
      </div>
      {cancelling && <CancelDialog runId={run.id} open={cancelling} onClose={() => setCancelling(false)} />}
    </>
  );
}

export const runDetailRoute = createRoute({
  getParentRoute: () => appLayoutRoute,
  path: '/runs/$runId',
  validateSearch: (search: Record<string, unknown>): { task?: string | undefined; deduplicated?: boolean | undefined } => ({
    ...(typeof search['task'] === 'string' ? { task: search['task'] } : {}),
    ...(search['deduplicated'] === true ? { deduplicated: true } : {}),
  }),
  component: RunDetailPage,
});
