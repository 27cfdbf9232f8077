import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useApiQuery } from '../../hooks/use-api';
import { taskArtifactsQuery, taskStreamedOutputQuery } from '../../lib/api/operations/runs';
import { queryKeys } from '../../lib/api/query-keys';
import { agentStepScreenshot, agentStepsFromStream, agentStepsOf, browserActionsOf, isImageArtifact, type BrowserActionRow, type BrowserActionState } from '../../lib/browser-actions';
import type { RunEvent } from '../../lib/run-events';
import { foldStreamedAnswer } from '../../lib/streamed-answer';
import { formatBytes } from '../../lib/format';
import { Dialog } from '../dialog';
import { ErrorNotice } from '../feedback';

/** What the run page knows of a task that this panel reads. */
export interface BrowserTaskProps {
  task: { id: string; stepId: string; capability: string; status: string; input?: unknown; output?: unknown; error?: { message: string } | null | undefined };
}

const STATE_STYLE: Record<BrowserActionState, string> = {
  done: 'border-slate-200 text-slate-700',
  failed: 'border-red-300 bg-red-50 text-red-800',
  skipped: 'border-slate-200 text-slate-400',
  pending: 'border-slate-200 text-slate-500',
};
const STATE_MARK: Record<BrowserActionState, string> = { done: '✓', failed: '✕', skipped: '–', pending: '…' };

type Artifact = { id: string; name: string; contentType: string; sizeBytes: number; downloadUrl?: string | null };

/** The task's files per attempt (one query, shared by the step list and the file list: same key). */
function useTaskArtifacts(task: BrowserTaskProps['task']) {
  const queryClient = useQueryClient();
  const key = queryKeys.runs.taskArtifacts(task.id);
  // Download URLs live minutes: read again well before they expire, and whenever the task moves on.
  const artifacts = useApiQuery(key, taskArtifactsQuery, { id: task.id }, { staleTime: 60_000, refetchInterval: 3 * 60_000 });
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: key });
    // The key is derived from task.id; status changes are what should refetch.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [task.status, queryClient]);
  return artifacts;
}

/**
 * A browser agent's steps: from its output once it has one, else (running, or failed without an
 * output) from the step lines it streamed, which the run's live events grow.
 */
function useAgentSteps(task: BrowserTaskProps['task'], events: readonly RunEvent[]): BrowserActionRow[] | undefined {
  const fromOutput = agentStepsOf(task);
  const streams = task.capability === 'browser.agent' && fromOutput === undefined;
  const query = useApiQuery(queryKeys.runs.streamedOutput(task.id), taskStreamedOutputQuery, { id: task.id }, { enabled: streams });
  const live = useMemo(() => foldStreamedAnswer(query.data?.task?.streamedOutput, events, task.id), [query.data, events, task.id]);
  const { refetch } = query;
  useEffect(() => {
    if (streams && live.gap) void refetch();
  }, [streams, live.gap, refetch]);
  if (fromOutput) return fromOutput;
  const rows = agentStepsFromStream(live.text);
  return rows.length > 0 ? rows : undefined;
}

/** The script's actions, the failing one highlighted (issue 8); a browser agent's steps the same way, each with its screenshot (issue 14). */
function BrowserActions({ task, events }: BrowserTaskProps & { events: readonly RunEvent[] }) {
  const agent = task.capability === 'browser.agent';
  const agentRows = useAgentSteps(task, events);
  const artifacts = useTaskArtifacts(task);
  const [enlarged, setEnlarged] = useState<Artifact>();
  const rows = agent ? agentRows : browserActionsOf(task);
  if (!rows) return null;
  // A step's screenshot is in the latest attempt's files (each attempt keeps its own).
  const latest = [...(artifacts.data?.task?.attemptHistory ?? [])].sort((a, b) => b.number - a.number)[0];
  const shotOf = (row: BrowserActionRow): Artifact | undefined => {
    if (!agent) return undefined;
    const name = row.screenshot ?? agentStepScreenshot(row.index);
    return latest?.artifacts.find((a) => a.name === name && isImageArtifact(a.contentType) && a.downloadUrl);
  };
  const title = agent ? 'Agent steps' : 'Browser actions';
  return (
    <div>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      <ol className="space-y-1" aria-label={`${title} of ${task.stepId}`}>
        {rows.map((row) => {
          const shot = shotOf(row);
          return (
            <li key={row.index} data-action-state={row.state} aria-current={row.state === 'failed' ? 'step' : undefined} className={`flex items-start gap-3 rounded-md border px-3 py-1.5 text-sm ${STATE_STYLE[row.state]}`}>
              <div className="min-w-0 flex-1">
                <span className="mr-2 inline-block w-4 text-center" aria-hidden="true">{STATE_MARK[row.state]}</span>
                <span className="tabular-nums text-slate-400">{row.index}.</span> <code className="font-mono text-xs">{row.label}</code>
                <span className="sr-only"> ({row.state})</span>
                {row.message && <p className="mt-1 break-words pl-6 text-xs">{row.message}</p>}
              </div>
              {shot && (
                <button type="button" onClick={() => setEnlarged(shot)} className="block w-24 shrink-0 overflow-hidden rounded border border-slate-200 hover:border-indigo-400" title={`Enlarge ${shot.name}`} aria-label={`Enlarge the screenshot after step ${row.index}`}>
                  <img src={shot.downloadUrl ?? ''} alt={`Screenshot after step ${row.index}`} loading="lazy" className="h-14 w-full bg-slate-50 object-cover object-top" />
                </button>
              )}
            </li>
          );
        })}
      </ol>
      {enlarged && (
        <Dialog open wide onClose={() => setEnlarged(undefined)} title={enlarged.name}>
          <img src={enlarged.downloadUrl ?? ''} alt={`Screenshot ${enlarged.name}, full size`} className="max-h-[75vh] w-full object-contain" />
        </Dialog>
      )}
    </div>
  );
}

/** Screenshots as thumbnails (click to enlarge), every other file as a download link, per attempt. */
function Artifacts({ task }: BrowserTaskProps) {
  const [enlarged, setEnlarged] = useState<Artifact>();
  const artifacts = useTaskArtifacts(task);
  if (artifacts.error) return <ErrorNotice error={artifacts.error} title="The task's files could not be listed" />;
  const attempts = (artifacts.data?.task?.attemptHistory ?? []).filter((a) => a.artifacts.length > 0);
  if (attempts.length === 0) return null;
  return (
    <div>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Files</h3>
      <div className="space-y-3">
        {attempts.map((attempt) => (
          <section key={attempt.id} aria-label={`Files of attempt ${attempt.number}`}>
            {attempts.length > 1 && <p className="mb-1 text-xs text-slate-500">Attempt {attempt.number}</p>}
            <ul className="flex flex-wrap gap-3">
              {attempt.artifacts.map((artifact) => (
                <li key={artifact.id} data-artifact={artifact.name} className="w-40">
                  {isImageArtifact(artifact.contentType) && artifact.downloadUrl ? (
                    <button type="button" onClick={() => setEnlarged(artifact)} className="block w-full overflow-hidden rounded-md border border-slate-200 hover:border-indigo-400" title={`Enlarge ${artifact.name}`}>
                      <img src={artifact.downloadUrl} alt={`Screenshot ${artifact.name}`} loading="lazy" className="h-24 w-full bg-slate-50 object-cover object-top" />
                    </button>
                  ) : null}
                  <p className="mt-1 truncate text-xs">
                    {artifact.downloadUrl ? (
                      <a href={artifact.downloadUrl} download={artifact.name} className="font-medium text-indigo-700 hover:underline">{artifact.name}</a>
                    ) : (
                      <span title="Downloads are off: the platform signs no download URLs (ARTIFACT_URL_KEYS)">{artifact.name}</span>
                    )}
                    <span className="text-slate-400"> · {formatBytes(artifact.sizeBytes)}</span>
                  </p>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
      {enlarged && (
        <Dialog open wide onClose={() => setEnlarged(undefined)} title={enlarged.name}>
          <img src={enlarged.downloadUrl ?? ''} alt={`Screenshot ${enlarged.name}, full size`} className="max-h-[75vh] w-full object-contain" />
        </Dialog>
      )}
    </div>
  );
}

/** The run page's part for tasks that drive a browser or keep files: actions and artifacts. */
export function BrowserTask({ task, events }: BrowserTaskProps & { events: readonly RunEvent[] }) {
  return (
    <>
      {(task.capability === 'browser' || task.capability === 'browser.agent') && <BrowserActions task={task} events={events} />}
      <Artifacts task={task} />
    </>
  );
}
