import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Card, Details } from '../card';
import { ErrorNotice } from '../feedback';
import { JsonBlock } from '../json-block';
import { StatusBadge } from '../status-badge';
import { LlmAnswer } from '../llm-answer';
import { Cell, Table } from '../table';
import { BrowserTask } from './browser-task';
import { TaskApproval } from './task-approval';
import { ExactTime, RelativeTime } from '../time';
import { useTaskLogs } from '../../hooks/use-live-run';
import { formatBytes, formatClockTime, formatDuration } from '../../lib/format';
import { describeTaskUsage } from '../../lib/task-usage';
import { emptyLogMessage, formatAttempts, waitKindLabel, type RunEvent, type PanelTask, type ShownTask } from '../../lib/run-events';

/**
 * The open task of a run page: its details, logs (stored and live), input, output and attempts.
 * Sections of other features (artifacts, model answers, agent steps) go in as one line each, as
 * components given the task.
 */

export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  if (value === null) return <span className="text-slate-400">—</span>;
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="flex items-center gap-2">
      <div className="h-1.5 w-20 overflow-hidden rounded-full bg-slate-200" role="progressbar" aria-label={label} aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
        {/* Scaled rather than sized: the bar moves on the compositor, with no layout or paint of the page per frame. */}
        <div className="h-full origin-left rounded-full bg-sky-500 transition-transform" style={{ transform: `scaleX(${percent / 100})` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-500">{percent}%</span>
    </div>
  );
}

/** Why a task waits to start (a short label, the full reason on hover and for screen readers). */
export function WaitReason({ task, long = false }: { task: ShownTask; long?: boolean }) {
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
              <span className="text-slate-500"><ExactTime value={line.at} format={formatClockTime} /></span>{' '}
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

export function TaskPanel({ task, events }: { task: PanelTask; events: readonly RunEvent[] }) {
  const usageLine = describeTaskUsage(task.usage);
  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          Step <code className="font-mono">{task.stepId}</code>
          {typeof task.itemIndex === 'number' && <span className="text-slate-600">item #{task.itemIndex}</span>} <StatusBadge status={task.status} />
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
            ['Pool', task.pool],
            ['Queued', <ExactTime value={task.queuedAt} />],
            ['Started', <ExactTime value={task.startedAt} />],
            ['Finished', <ExactTime value={task.finishedAt} />],
            ['Duration', formatDuration(task.durationMs)],
            ['Progress', task.progressMessage ? `${task.progressMessage}` : task.progress !== null ? `${Math.round(task.progress * 100)}%` : '—'],
            ...(task.gpus.length > 0 ? ([['GPUs', task.gpus.map((g) => `#${g.index} ${g.model} (${formatBytes(g.memoryMiB * 1024 * 1024)} reserved)`).join(', ')]] as Array<[string, ReactNode]>) : []),
            ...(task.waitReason ? ([['Waiting for', <WaitReason task={task} long />]] as Array<[string, ReactNode]>) : []),
            ...(usageLine ? ([['Usage', <span data-task-usage>{usageLine}</span>]] as Array<[string, ReactNode]>) : []),
          ]}
        />
        {task.error && (
          <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p className="font-semibold">{task.error.code}</p>
            <p className="break-words">{task.error.message}</p>
            {task.error.retryable === false && <p className="mt-1 text-xs">Not retryable: another attempt would fail the same way.</p>}
          </div>
        )}
        <TaskApproval task={task} />
        <LlmAnswer task={task} events={events} />
        <BrowserTask task={task} events={events} />
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
        {task.fullHistory !== undefined && task.fullHistory.length > 0 && (
          <div>
            <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Attempts</h3>
            <Table label={`Attempts of ${task.stepId}`} head={['#', 'Status', 'Worker', 'Started', 'Duration', 'Error']}>
              {task.fullHistory.map((a) => (
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

