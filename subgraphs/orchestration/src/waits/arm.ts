import { referencedSteps, resolveTemplates, TemplateError } from '../domain/templates';
import { waitReason, type WaitReason } from '../domain/wait-reasons';
import { isTerminalRun } from '../domain/states';
import { WAIT_LIMITS, waitTemplates, type WaitPolicy } from '../domain/wait-steps';
import { endAttempt } from '../store/attempts';
import { succeededStepOutputs, tasksByIds } from '../store/dispatch';
import type { ErrorInfo, RunRow, TaskRow } from '../store/rows';
import { lockRun } from '../store/runs';
import { insertTaskWait, type NewTaskWait } from '../store/task-waits';
import { failTask, setRunStatus, type TransitionContext } from '../engine/transitions';

/**
 * A wait step's task starts waiting (issue 10), in the transaction that queued it, before the
 * commit (engine.ts calls armWaits for the attempts planAttempts noted in `effects.waits`): its
 * templates are resolved against the run's input and its upstream outputs (the approval's message,
 * the event's correlation value, the sleepUntil time), a task_waits row records the wait with its
 * deadline, the task carries the reason it waits (APPROVAL, EVENT or SCHEDULE), the run is RUNNING,
 * and an approval is announced to the notifications service (approval.waiting) through the outbox.
 * A template that does not resolve, or a time that is not one or is more than a year ahead, fails
 * the task (and its run) with a code saying so. Nothing goes to a worker queue.
 */

const JSON_SCALAR = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

class WaitArmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Armed {
  wait: Omit<NewTaskWait, 'attemptId' | 'orgId' | 'runId' | 'taskId' | 'stepId'>;
  reason: WaitReason;
  /** What the run's event says. */
  message: string;
}

/** The wait of `policy` for this run, now (throws WaitArmError, or TemplateError for a template that does not resolve). */
function planWait(policy: WaitPolicy, resolve: (template: string) => unknown, now: Date): Armed {
  switch (policy.kind) {
    case 'APPROVAL': {
      const message = policy.message === null ? null : clip(text(resolve(policy.message)), WAIT_LIMITS.message);
      const deadline = new Date(now.getTime() + policy.timeoutSeconds * 1000);
      const who = policy.roles.join(', ');
      const reason = waitReason('APPROVAL', `waits for approval by ${who}${message ? `: ${message}` : ''}`, { roles: policy.roles, deadline: deadline.toISOString(), onTimeout: policy.onTimeout });
      return {
        wait: { kind: 'APPROVAL', message, roles: policy.roles, eventName: null, eventFilter: [], correlationPath: null, correlationValue: null, deadline, onTimeout: policy.onTimeout },
        reason,
        message: `waiting for approval by ${who} until ${deadline.toISOString()} (then ${policy.onTimeout})`,
      };
    }
    case 'EVENT': {
      let correlationValue: unknown = null;
      if (policy.correlation) {
        correlationValue = resolve(policy.correlation.key);
        if (!JSON_SCALAR(correlationValue)) {
          throw new WaitArmError('WAIT_INVALID_CORRELATION', `wait.correlation.key "${policy.correlation.key}" is ${correlationValue === null ? 'null' : `a${Array.isArray(correlationValue) ? ' list' : 'n object'}`} for this run; it must be a string, number or boolean`);
        }
        if (JSON.stringify(correlationValue).length > WAIT_LIMITS.correlationValue) {
          throw new WaitArmError('WAIT_INVALID_CORRELATION', `wait.correlation.key "${policy.correlation.key}" is longer than ${WAIT_LIMITS.correlationValue} characters for this run`);
        }
      }
      const deadline = new Date(now.getTime() + policy.timeoutSeconds * 1000);
      const correlated = policy.correlation ? ` with ${policy.correlation.path} = ${JSON.stringify(correlationValue)}` : '';
      const reason = waitReason('EVENT', `waits for event "${policy.event}"${correlated}`, {
        event: policy.event,
        ...(policy.correlation ? { correlationPath: policy.correlation.path, correlationValue } : {}),
        deadline: deadline.toISOString(),
        onTimeout: policy.onTimeout,
      });
      const path = policy.correlation ? pointerSegments(policy.correlation.path) : null;
      return {
        wait: { kind: 'EVENT', message: null, roles: [], eventName: policy.event, eventFilter: policy.filter, correlationPath: path, correlationValue: policy.correlation ? correlationValue : null, deadline, onTimeout: policy.onTimeout },
        reason,
        message: `waiting for event "${policy.event}"${correlated} until ${deadline.toISOString()} (then ${policy.onTimeout})`,
      };
    }
    case 'SLEEP_UNTIL': {
      const value = resolve(policy.until);
      const at = typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date(Number.NaN);
      if (Number.isNaN(at.getTime())) throw new WaitArmError('WAIT_INVALID_UNTIL', `wait.until "${policy.until}" is ${JSON.stringify(value)} for this run, not an ISO 8601 time`);
      if (at.getTime() - now.getTime() > WAIT_LIMITS.maxSeconds * 1000) {
        throw new WaitArmError('WAIT_UNTIL_TOO_FAR', `wait.until "${policy.until}" is ${at.toISOString()}, more than a year ahead`);
      }
      const reason = waitReason('SCHEDULE', `sleeps until ${at.toISOString()}`, { until: at.toISOString() });
      return {
        wait: { kind: 'SLEEP_UNTIL', message: null, roles: [], eventName: null, eventFilter: [], correlationPath: null, correlationValue: null, deadline: at, onTimeout: null },
        reason,
        message: `sleeping until ${at.toISOString()}`,
      };
    }
  }
}

/** A JSON pointer's segments, unescaped (what PostgreSQL's #> takes). */
export const pointerSegments = (pointer: string): string[] =>
  pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

async function failUnarmed(ctx: TransitionContext, run: RunRow, task: TaskRow, attemptId: string, code: string, message: string): Promise<RunRow> {
  const error: ErrorInfo = { code, message: `step "${task.stepId}": ${message}`, retryable: false };
  const attempt = await endAttempt(ctx.tx, attemptId, ['QUEUED'], 'FAILED', error);
  return failTask(ctx, run, task, attempt ?? null, error);
}

/** Starts the wait of one wait step's task on its new attempt (the run locked). */
async function armWait(ctx: TransitionContext, run: RunRow, task: TaskRow, attemptId: string): Promise<void> {
  const policy = task.wait as WaitPolicy;
  const now = new Date();
  let armed: Armed;
  try {
    const steps = await succeededStepOutputs(ctx.tx, run.id, referencedSteps(waitTemplates(policy)));
    armed = planWait(policy, (template) => resolveTemplates(template, { input: run.input, steps, run: { id: run.id } }), now);
  } catch (error) {
    if (error instanceof TemplateError) {
      await failUnarmed(ctx, run, task, attemptId, 'WAIT_TEMPLATE_ERROR', error.message);
      return;
    }
    if (error instanceof WaitArmError) {
      await failUnarmed(ctx, run, task, attemptId, error.code, error.message);
      return;
    }
    throw error;
  }
  await insertTaskWait(ctx.tx, { ...armed.wait, attemptId, orgId: run.orgId, runId: run.id, taskId: task.id, stepId: task.stepId }, armed.reason);
  const running = run.status === 'QUEUED' ? await setRunStatus(ctx, run, { status: 'RUNNING', started: true }) : run;
  ctx.effects.event(running, { kind: 'TASK_STATUS', taskId: task.id, stepId: task.stepId, taskStatus: 'QUEUED', attemptId, attempt: task.attempts, message: armed.message });
  if (armed.wait.kind === 'APPROVAL') {
    ctx.effects.notify({
      type: 'approval.waiting',
      orgId: run.orgId,
      data: { runId: run.id, taskId: task.id, stepId: task.stepId, workflowId: run.workflowId, message: armed.wait.message?.slice(0, 2000) ?? undefined, roles: armed.wait.roles },
    });
  }
}

/**
 * Starts the waits of the wait steps' attempts this transaction queued (ctx.effects.waits), each
 * still its task's current QUEUED attempt. Called by the engine before the commit.
 */
export async function armWaits(ctx: TransitionContext): Promise<void> {
  while (ctx.effects.waits.length > 0) {
    const batch = ctx.effects.waits.splice(0);
    const tasks = await tasksByIds(
      ctx.tx,
      batch.map((w) => w.taskId),
    );
    for (const start of batch) {
      const task = tasks.get(start.taskId);
      if (!task?.wait || task.status !== 'QUEUED' || task.currentAttemptId !== start.attemptId) continue;
      const run = await lockRun(ctx.tx, start.runId);
      if (!run || isTerminalRun(run.status)) continue;
      await armWait(ctx, run, task, start.attemptId);
    }
  }
}
