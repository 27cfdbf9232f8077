import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card, Details } from '../components/card';
import { DagView } from '../components/dag-view';
import { Dialog } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { JsonBlock } from '../components/json-block';
import { LiveIndicator } from '../components/live-indicator';
import { PageHeader } from '../components/page-header';
import { StatusCounts } from '../components/run/status-counts';
import { ItemList, type ItemRow } from '../components/run/item-list';
import { TaskDrawer } from '../components/run/task-drawer';
import { TaskPanel } from '../components/run/task-panel';
import { TaskTable } from '../components/run/task-table';
import { RunTimelineTabs } from '../components/run/timeline-tabs';
import { StatusBadge } from '../components/status-badge';
import { useApiMutation } from '../hooks/use-api';
import { useItemDetail, useLiveRun, useTaskDetail } from '../hooks/use-live-run';
import { usePermissions } from '../hooks/use-session';
import { cancelRunMutation, retryRunMutation } from '../lib/api/operations/runs';
import { isNotFound } from '../lib/api/errors';
import { queryKeys } from '../lib/api/query-keys';
import { formatDuration } from '../lib/format';
import { isFinalRun, type RunDetail, type ShownTask } from '../lib/run-events';
import { appLayoutRoute } from './app-layout';
import { ExactTime } from '../components/time';

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

/**
 * The run's input and output: drawn again only when they change (not on every live event; a forEach
 * run's input can be thousands of items), and laid out and painted only when near the view
 * (content-visibility: below the graph and the table, a live page's updates do not lay them out again).
 */
const RunInputOutput = memo(function RunInputOutput({ input, output }: { input: unknown; output: unknown }) {
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2 *:min-w-0" style={{ contentVisibility: 'auto', containIntrinsicSize: 'auto 360px' }}>
      <Card title="Run input">
        <JsonBlock value={input} label="Run input" />
      </Card>
      <Card title="Run output">
        <JsonBlock value={output} label="Run output" />
      </Card>
    </div>
  );
});

type SummaryFields = 'workflow' | 'workflowVersion' | 'startedByName' | 'createdAt' | 'startedAt' | 'finishedAt' | 'durationMs' | 'idempotencyKey' | 'app' | 'cancelReason' | 'error';

/** The run's summary: drawn again only when one of its fields changes (not with every batch of live events). */
const RunSummary = memo(
  function RunSummary({ run }: { run: Pick<RunDetail, SummaryFields> }) {
    return (
      <Card title="Summary">
        <Details
          items={[
            ['Workflow', <Link to="/workflows/$workflowId" params={{ workflowId: run.workflow.id }} className="text-indigo-700 hover:underline">{`${run.workflow.name} v${run.workflowVersion}`}</Link>],
            ['Started by', run.startedByName ?? '—'],
            ['Created', <ExactTime value={run.createdAt} />],
            ['Started', <ExactTime value={run.startedAt} />],
            ['Finished', <ExactTime value={run.finishedAt} />],
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
    );
  },
  (a, b) => (['workflow', 'workflowVersion', 'startedByName', 'createdAt', 'startedAt', 'finishedAt', 'durationMs', 'idempotencyKey', 'app', 'cancelReason', 'error'] as const).every((k) => a.run[k] === b.run[k]),
);

function RunDetailPage() {
  const { runId } = runDetailRoute.useParams();
  const search = runDetailRoute.useSearch();
  const navigate = useNavigate({ from: '/runs/$runId' });
  const can = usePermissions();
  // Wait reasons are looked at again only while a waiting task is on screen (a row of the table, the open task).
  const [waitingRowsShown, setWaitingRowsShown] = useState(true);
  const { query, run, logs, liveState, liveError } = useLiveRun(runId, { rows: waitingRowsShown, openStep: search.task });
  const [cancelling, setCancelling] = useState(false);
  const retry = useApiMutation(retryRunMutation, { invalidates: [queryKeys.runs.detail(runId), queryKeys.runs.lists, queryKeys.deadLetters.all] });
  const tasks = run?.tasks;
  const dagSteps = useMemo(() => (tasks ? tasks.map((t) => ({ id: t.stepId, dependsOn: t.dependsOn, capability: t.capability, status: t.status, progress: t.progress, items: t.itemCounts })) : []), [tasks]);
  const selectedRow: ShownTask | undefined = useMemo(() => tasks?.find((t) => t.stepId === search.task), [tasks, search.task]);
  const { task: selected } = useTaskDetail(selectedRow);
  // An item of the open forEach step, opened from its item list.
  const { task: openItem } = useItemDetail(search.item, search.item ? selectedRow?.itemStatuses?.get(search.item) : undefined);
  // Stable across renders, so rows and graph nodes that did not change are not drawn again.
  const openTask = useRef(search.task);
  openTask.current = search.task;
  const deduplicated = search.deduplicated;
  const select = useCallback(
    (stepId: string) => void navigate({ search: { task: stepId === openTask.current ? undefined : stepId, deduplicated }, replace: true }),
    [navigate, deduplicated],
  );
  const closeTask = useCallback(() => void navigate({ search: { task: undefined, deduplicated }, replace: true }), [navigate, deduplicated]);
  const openItemOf = useCallback((item: ItemRow) => void navigate({ search: { task: openTask.current, item: item.id, deduplicated }, replace: true }), [navigate, deduplicated]);
  // The timeline's Enter on a bar: that attempt's task in the drawer (a forEach item's own, opened from its step).
  const openAttempt = useCallback((stepId: string, itemTaskId?: string) => void navigate({ search: { task: stepId, ...(itemTaskId ? { item: itemTaskId } : {}), deduplicated }, replace: true }), [navigate, deduplicated]);
  const backToStep = useCallback(() => void navigate({ search: { task: openTask.current, deduplicated }, replace: true }), [navigate, deduplicated]);
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
        <RunSummary run={run} />
        <Card title="Tasks" padded={false} actions={<StatusCounts tasks={run.tasks} />}>
          <div className="p-4">
            <DagView steps={dagSteps} selected={search.task} onSelect={select} maxHeight={560} groupFanOuts label="Task graph: select a step to see its details (arrow keys move between steps)" />
          </div>
          <TaskTable tasks={run.tasks} selected={search.task} onSelect={select} onWaitingShown={setWaitingRowsShown} />
        </Card>
        <RunTimelineTabs run={run} onSelectStep={select} onOpenAttempt={openAttempt} />
        {selected && (
          <TaskDrawer label={`Task ${selected.stepId}`} onClose={closeTask}>
            {search.item ? (
              <div className="space-y-3">
                <button type="button" onClick={backToStep} className="text-sm font-medium text-indigo-700 hover:underline">
                  ← All items of {selected.stepId}
                </button>
                {openItem ? <TaskPanel key={openItem.id} task={openItem} events={logs} /> : <LoadingBlock label="Loading item" />}
              </div>
            ) : (
              <div className="space-y-4">
                {selected.itemCounts && <ItemList parentId={selected.id} counts={selected.itemCounts} liveStatuses={selectedRow?.itemStatuses} selected={search.item} onOpen={openItemOf} />}
                <TaskPanel key={selected.id} task={selected} events={logs} />
              </div>
            )}
          </TaskDrawer>
        )}
        <RunInputOutput input={run.input} output={run.output} />
      </div>
      {cancelling && <CancelDialog runId={run.id} open={cancelling} onClose={() => setCancelling(false)} />}
    </>
  );
}

export const runDetailRoute = createRoute({
  getParentRoute: () => appLayoutRoute,
  path: '/runs/$runId',
  validateSearch: (search: Record<string, unknown>): { task?: string | undefined; item?: string | undefined; deduplicated?: boolean | undefined } => ({
    ...(typeof search['task'] === 'string' ? { task: search['task'] } : {}),
    ...(typeof search['task'] === 'string' && typeof search['item'] === 'string' ? { item: search['item'] } : {}),
    ...(search['deduplicated'] === true ? { deduplicated: true } : {}),
  }),
  component: RunDetailPage,
});
