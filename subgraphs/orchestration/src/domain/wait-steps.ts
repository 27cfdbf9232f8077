import { APPROVAL_DECIDER_ROLES, badInput, checkTextInput, mayDecideApproval } from '@orchestra/lib';
import { checkEventFilter, checkEventName, type EventCondition } from '../events/event-filter';
import { collectTemplates, parseTemplate, TemplateError } from './templates';

/**
 * Wait steps (issue 10): a step with `wait` holds its run without holding a worker slot until a
 * person decides (APPROVAL), a matching event arrives (EVENT) or a time comes (SLEEP_UNTIL). Its
 * capability is "wait"; it never goes to a worker queue (engine: src/waits/). Definitions are checked
 * here, each bad value a BAD_USER_INPUT naming its field and a code.
 */

export const WAIT_CAPABILITY = 'wait';

export const WAIT_KINDS = ['APPROVAL', 'EVENT', 'SLEEP_UNTIL'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/** What happens when a wait's timeout runs out. */
export const WAIT_TIMEOUT_OUTCOMES = [
  /** The task fails (WAIT_TIMED_OUT) and its run with it. */
  'FAIL',
  /** APPROVAL only: it is approved, as if a person had (decidedBy null, timedOut true). */
  'APPROVE',
  /** APPROVAL only: it is rejected, and onReject decides what follows. */
  'REJECT',
  /** EVENT only: the step succeeds with a null output and the run goes on. */
  'CONTINUE',
] as const;
export type WaitTimeoutOutcome = (typeof WAIT_TIMEOUT_OUTCOMES)[number];

/** What a rejected approval does. */
export const REJECT_OUTCOMES = [
  /** The task fails (APPROVAL_REJECTED) and its run with it. */
  'FAIL_RUN',
  /** The step succeeds with decision REJECTED in its output, for downstream steps to read. */
  'CONTINUE',
] as const;
export type RejectOutcome = (typeof REJECT_OUTCOMES)[number];

/** Roles that may be allowed to decide an approval; a viewer never may. An owner always may. */
export const DECIDER_ROLES = APPROVAL_DECIDER_ROLES;
export type DeciderRole = (typeof DECIDER_ROLES)[number];

const YEAR_SECONDS = 366 * 24 * 60 * 60;
export const WAIT_LIMITS = {
  /** A timeout, and how far ahead a sleepUntil time may be when the step starts waiting. */
  maxSeconds: YEAR_SECONDS,
  defaultTimeoutSeconds: 7 * 24 * 60 * 60,
  /** A message template, and the message once resolved. */
  message: 2_000,
  template: 500,
  /** A correlation value once resolved, as JSON. */
  correlationValue: 256,
  /** A decision's comment. */
  comment: 2_000,
} as const;

export interface ApprovalWait {
  kind: 'APPROVAL';
  /** For the approver, with {{ }} templates over the input and upstream outputs; null: none. */
  message: string | null;
  roles: DeciderRole[];
  timeoutSeconds: number;
  onTimeout: Extract<WaitTimeoutOutcome, 'FAIL' | 'APPROVE' | 'REJECT'>;
  onReject: RejectOutcome;
}

export interface EventWait {
  kind: 'EVENT';
  event: string;
  filter: EventCondition[];
  /** The event's payload at `path` (a JSON pointer) must equal `key` resolved for this run ("{{ input.orderId }}"). */
  correlation: { key: string; path: string } | null;
  timeoutSeconds: number;
  onTimeout: Extract<WaitTimeoutOutcome, 'FAIL' | 'CONTINUE'>;
}

export interface SleepUntilWait {
  kind: 'SLEEP_UNTIL';
  /** An ISO 8601 time, or a template that resolves to one ("{{ input.remindAt }}"). */
  until: string;
}

export type WaitPolicy = ApprovalWait | EventWait | SleepUntilWait;

/** A wait as a client sends it. */
export interface WaitInput {
  kind: WaitKind;
  message?: string | null;
  roles?: readonly string[] | null;
  event?: string | null;
  filter?: unknown;
  correlation?: { key: string; path: string } | null;
  until?: string | null;
  timeoutSeconds?: number | null;
  onTimeout?: WaitTimeoutOutcome | null;
  onReject?: RejectOutcome | null;
}

const FIELDS_OF: Record<WaitKind, ReadonlyArray<keyof WaitInput>> = {
  APPROVAL: ['kind', 'message', 'roles', 'timeoutSeconds', 'onTimeout', 'onReject'],
  EVENT: ['kind', 'event', 'filter', 'correlation', 'timeoutSeconds', 'onTimeout'],
  SLEEP_UNTIL: ['kind', 'until'],
};
const TIMEOUT_OUTCOMES_OF: Record<Exclude<WaitKind, 'SLEEP_UNTIL'>, readonly WaitTimeoutOutcome[]> = {
  APPROVAL: ['FAIL', 'APPROVE', 'REJECT'],
  EVENT: ['FAIL', 'CONTINUE'],
};

/** A template string as given: bounded, and each of its templates parses and reads no secret. */
function checkTemplateText(value: unknown, field: string, what: string, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > max) throw badInput(field, `${what} has 1 to ${max} characters`, 'INVALID_WAIT');
  checkTextInput(value, field);
  for (const expression of collectTemplates(value)) {
    let root: string;
    try {
      root = parseTemplate(expression).root;
    } catch (error) {
      if (error instanceof TemplateError) throw badInput(field, `${what}: ${error.message}`, 'INVALID_TEMPLATE');
      throw error;
    }
    // A wait's texts are stored and shown (approvers, notifications): a secret never goes there.
    if (root === 'secrets') throw badInput(field, `${what}: a wait step may not read a secret ("{{ ${expression} }}")`, 'WAIT_READS_SECRET');
  }
  return value;
}

const timeoutOf = (value: number | null | undefined, field: string, what: string): number => {
  const seconds = value ?? WAIT_LIMITS.defaultTimeoutSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > WAIT_LIMITS.maxSeconds) {
    throw badInput(field, `${what}: wait.timeoutSeconds must be an integer between 1 and ${WAIT_LIMITS.maxSeconds} (a year) (got ${seconds})`, 'OUT_OF_RANGE');
  }
  return seconds;
};

/** A wait as given, checked (field `field`, e.g. `input.steps[2].wait`); `what` names the step. */
export function checkWait(input: WaitInput, field: string, what: string): WaitPolicy {
  if (!(WAIT_KINDS as readonly string[]).includes(input.kind)) throw badInput(`${field}.kind`, `${what}: wait.kind is one of ${WAIT_KINDS.join(', ')}`, 'INVALID_WAIT');
  const allowed = FIELDS_OF[input.kind];
  for (const [name, value] of Object.entries(input)) {
    if (value !== null && value !== undefined && !allowed.includes(name as keyof WaitInput)) {
      throw badInput(`${field}.${name}`, `${what}: a ${input.kind} wait has no ${name} (it takes ${allowed.join(', ')})`, 'WAIT_FIELD_NOT_ALLOWED');
    }
  }
  if (input.kind === 'SLEEP_UNTIL') {
    const until = checkTemplateText(input.until, `${field}.until`, `${what}: wait.until`, WAIT_LIMITS.template);
    if (collectTemplates(until).length === 0 && Number.isNaN(Date.parse(until))) {
      throw badInput(`${field}.until`, `${what}: wait.until is an ISO 8601 time ("2027-01-31T09:00:00Z") or a template that reads one`, 'INVALID_WAIT_UNTIL');
    }
    return { kind: 'SLEEP_UNTIL', until };
  }
  const timeoutSeconds = timeoutOf(input.timeoutSeconds, `${field}.timeoutSeconds`, what);
  const onTimeout = input.onTimeout ?? 'FAIL';
  if (!TIMEOUT_OUTCOMES_OF[input.kind].includes(onTimeout)) {
    throw badInput(`${field}.onTimeout`, `${what}: a ${input.kind} wait's onTimeout is one of ${TIMEOUT_OUTCOMES_OF[input.kind].join(', ')} (got ${onTimeout})`, 'INVALID_WAIT_TIMEOUT_OUTCOME');
  }
  if (input.kind === 'APPROVAL') {
    const message = input.message === null || input.message === undefined ? null : checkTemplateText(input.message, `${field}.message`, `${what}: wait.message`, WAIT_LIMITS.message);
    const given = input.roles ?? DECIDER_ROLES;
    if (given.length === 0) throw badInput(`${field}.roles`, `${what}: wait.roles names at least one role (or is left out: operator, admin, owner)`, 'INVALID_WAIT_ROLES');
    for (const [i, role] of given.entries()) {
      if (!(DECIDER_ROLES as readonly string[]).includes(role)) {
        throw badInput(`${field}.roles[${i}]`, `${what}: "${role}" may not decide an approval (roles: ${DECIDER_ROLES.join(', ')}; a viewer never may)`, 'INVALID_WAIT_ROLES');
      }
    }
    const roles = DECIDER_ROLES.filter((r) => given.includes(r));
    return { kind: 'APPROVAL', message, roles, timeoutSeconds, onTimeout: onTimeout as ApprovalWait['onTimeout'], onReject: input.onReject ?? 'FAIL_RUN' };
  }
  const event = checkEventName(input.event, `${field}.event`);
  const filter = checkEventFilter(input.filter ?? null, `${field}.filter`);
  let correlation: EventWait['correlation'] = null;
  if (input.correlation) {
    const key = checkTemplateText(input.correlation.key, `${field}.correlation.key`, `${what}: wait.correlation.key`, WAIT_LIMITS.template);
    const [checked] = checkEventFilter([{ path: input.correlation.path, equals: null }], `${field}.correlation`);
    if (!checked || checked.path === '') throw badInput(`${field}.correlation.path`, `${what}: wait.correlation.path is a JSON pointer into the payload ("/orderId")`, 'INVALID_EVENT_FILTER');
    correlation = { key, path: checked.path };
  }
  return { kind: 'EVENT', event, filter, correlation, timeoutSeconds, onTimeout: onTimeout as EventWait['onTimeout'] };
}

/** The texts of a wait that hold templates (resolved when the step starts waiting). */
export function waitTemplates(wait: WaitPolicy): string[] {
  switch (wait.kind) {
    case 'APPROVAL':
      return wait.message === null ? [] : [wait.message];
    case 'EVENT':
      return wait.correlation === null ? [] : [wait.correlation.key];
    case 'SLEEP_UNTIL':
      return [wait.until];
  }
}

/** Whether a member with `role` may decide an approval that names `roles` (an owner always may, a viewer never): lib's rule, which the notifications service also asks. */
export const mayDecide = mayDecideApproval;
