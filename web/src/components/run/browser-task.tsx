import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useApiQuery } from '../../hooks/use-api';
import { taskArtifactsQuery } from '../../lib/api/operations/runs';
import { queryKeys } from '../../lib/api/query-keys';
import { agentStepsOf, browserActionsOf, isImageArtifact, type BrowserActionState } from '../../lib/browser-actions';
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

/** The script's actions, the failing one highlighted (issue 8); a browser agent's steps the same way (issue 14). */
function BrowserActions({ task }: BrowserTaskProps) {
  const agent = task.capability === 'browser.agent';
  const rows = agent ? agentStepsOf(task) : browserActionsOf(task);
  if (!rows) return null;
  const title = agent ? 'Agent steps' : 'Browser actions';
  return (
    <div>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      <ol className="space-y-1" aria-label={`${title} of ${task.stepId}`}>
        {rows.map((row) => (
          <li key={row.index} data-action-state={row.state} aria-current={row.state === 'failed' ? 'step' : undefined} className={`rounded-md border px-3 py-1.5 text-sm ${STATE_STYLE[row.state]}`}>
            <span className="mr-2 inline-block w-4 text-center" aria-hidden="true">{STATE_MARK[row.state]}</span>
            <span className="tabular-nums text-slate-400">{row.index}.</span> <code className="font-mono text-xs">{row.label}</code>
            <span className="sr-only"> ({row.state})</span>
            {row.message && <p className="mt-1 break-words pl-6 text-xs">{row.message}</p>}
          </li>
        ))}
      </ol>
    </div>
  );
}

type Artifact = { id: string; name: string; contentType: string; sizeBytes: number; downloadUrl?: string | null };

/** Screenshots as thumbnails (click to enlarge), every other file as a download link, per attempt. */
function Artifacts({ task }: BrowserTaskProps) {
  const queryClient = useQueryClient();
  const [enlarged, setEnlarged] = useState<Artifact>();
  const key = queryKeys.runs.taskArtifacts(task.id);
  // Download URLs live minutes: read again well before they expire, and whenever the task moves on.
  const artifacts = useApiQuery(key, taskArtifactsQuery, { id: task.id }, { staleTime: 60_000, refetchInterval: 3 * 60_000 });
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: key });
    // The key is derived from task.id; status changes are what should refetch.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [task.status, queryClient]);
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
export function BrowserTask({ task }: BrowserTaskProps) {
  return (
    <>
      {(task.capability === 'browser' || task.capability === 'browser.agent') && <BrowserActions task={task} />}
      <Artifacts task={task} />
    </>
  );
}
