/**
 * A browser task's script as the run page lists it (issue 8): each action with what became of it,
 * read from the task's input (the actions), its error (`action 3 (click #go) failed: ...` when the
 * script stopped there) and its output (`errors` for failures a script with stopOnError: false went past).
 * The labels are the worker's own (workers/src/executors/browser/actions.ts describeAction).
 */

export type BrowserActionState = 'done' | 'failed' | 'skipped' | 'pending';

export interface BrowserActionRow {
  /** 1-based, as the worker's messages count. */
  index: number;
  label: string;
  state: BrowserActionState;
  /** Why it failed (the worker's words). */
  message?: string | undefined;
  /** A browser agent's step: the name of the screenshot taken after it (an artifact of the attempt). */
  screenshot?: string | undefined;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

export function describeBrowserAction(action: Json): string {
  const kind = text(action['action']);
  const selector = text(action['selector']);
  switch (kind) {
    case 'goto':
      return `goto ${text(action['url'])}`;
    case 'press':
      return `press ${text(action['key'])}${selector ? ` on ${selector}` : ''}`;
    case 'waitFor':
      return selector ? `waitFor ${selector}` : action['urlMatches'] !== undefined ? `waitFor url ~ ${text(action['urlMatches'])}` : `waitFor ${text(action['ms'])} ms`;
    case 'extract':
      return `extract ${text(action['name'])} from ${selector}`;
    case 'screenshot':
      return `screenshot ${text(action['name'])}${selector ? ` of ${selector}` : ''}`;
    case 'pdf':
      return `pdf ${text(action['name'])}`;
    default:
      return selector ? `${kind} ${selector}` : kind || 'unknown action';
  }
}

const STOPPED_AT = /^action (\d+) \(.*?\) failed: ([\s\S]*)$/;
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'DEAD_LETTERED', 'SKIPPED']);

/** Undefined when the input has no actions list (not a browser script). */
export function browserActionsOf(task: { status: string; input?: unknown; output?: unknown; error?: { message: string } | null | undefined }): BrowserActionRow[] | undefined {
  const actions = isObject(task.input) && Array.isArray(task.input['actions']) ? (task.input['actions'] as unknown[]) : undefined;
  if (!actions) return undefined;
  const failures = new Map<number, string>();
  const passed = isObject(task.output) && Array.isArray(task.output['errors']) ? (task.output['errors'] as unknown[]) : [];
  for (const failure of passed) if (isObject(failure) && typeof failure['index'] === 'number') failures.set(failure['index'], text(failure['message']));
  const stopped = task.error ? STOPPED_AT.exec(task.error.message) : null;
  const stoppedAt = stopped ? Number(stopped[1]) : undefined;
  if (stopped && stoppedAt !== undefined) failures.set(stoppedAt, stopped[2] ?? '');
  const finished = FINISHED.has(task.status);
  const succeeded = task.status === 'SUCCEEDED';
  return actions.map((action, position) => {
    const index = position + 1;
    const label = isObject(action) ? describeBrowserAction(action) : 'unknown action';
    const message = failures.get(index);
    if (message !== undefined) return { index, label, state: 'failed', message };
    if (succeeded || (stoppedAt !== undefined && index < stoppedAt)) return { index, label, state: 'done' };
    if (stoppedAt !== undefined || finished) return { index, label, state: 'skipped' };
    return { index, label, state: 'pending' };
  });
}

/**
 * A browser.agent task's steps (issue 14) in the same rows: read from its output's `steps` (each with
 * the worker's label, whether it worked, what went wrong or the model's own words). Undefined while
 * there is no output (the task's log lines say what it does meanwhile).
 */
export function agentStepsOf(task: { output?: unknown }): BrowserActionRow[] | undefined {
  const steps = isObject(task.output) && Array.isArray(task.output['steps']) ? (task.output['steps'] as unknown[]) : undefined;
  if (!steps) return undefined;
  return steps.filter(isObject).map((step, position) => {
    const index = typeof step['step'] === 'number' ? step['step'] : position + 1;
    const label = text(step['label']) || text(step['action']) || 'step';
    const error = isObject(step['error']) ? `${text(step['error']['code'])}: ${text(step['error']['message'])}` : undefined;
    const shot = text(step['screenshot']);
    const screenshot = shot ? { screenshot: shot } : {};
    if (step['ok'] === false) return { index, label, state: 'failed', message: error ?? text(step['outcome']), ...screenshot };
    const reason = text(step['reason']);
    return { index, label, state: 'done', ...(reason ? { message: reason } : {}), ...screenshot };
  });
}

const STREAMED_STEP = /^step (\d+): (.*?)(?: \u2014 ([A-Z][A-Z0-9_]*): (.*))?$/;

/**
 * A browser.agent task's steps while it runs, or when it failed without an output: read from the
 * lines it streams, one per step (`step 2: click [e7] button "Go"`, a failure followed by
 * ` — CODE: message`; workers/src/executors/browser-agent/agent-loop.ts record()). The model's
 * reasons come only with the output.
 */
export function agentStepsFromStream(streamed: string): BrowserActionRow[] {
  const rows: BrowserActionRow[] = [];
  for (const line of streamed.split('\n')) {
    const match = STREAMED_STEP.exec(line.trim());
    if (!match) continue;
    const [, index, label, code, message] = match;
    rows.push(code ? { index: Number(index), label: label ?? '', state: 'failed', message: `${code}: ${message ?? ''}` } : { index: Number(index), label: label ?? '', state: 'done' });
  }
  return rows;
}

/** The screenshot the agent took after step `index` (`step-01.jpg`), as the worker names it. */
export const agentStepScreenshot = (index: number): string => `step-${String(index).padStart(2, '0')}.jpg`;

/** Screenshots show as thumbnails; everything else is a download link. */
export const isImageArtifact = (contentType: string): boolean => /^image\/(png|jpeg|webp|gif)$/.test(contentType);
