import { badInput } from '@orchestra/lib';
import { collectTemplates, parseTemplate, resolveTemplates, TemplateError } from './templates';

/**
 * How much of a workflow runs at once and what goes first (issue 10): priorities, concurrency keys,
 * named rate limits a step consumes, and forEach fan-out. Definitions are checked here (each bad
 * value is a BAD_USER_INPUT naming its field); the engine enforces them (engine/admission, forEach).
 */

/** 1 (lowest) … 5 (highest); what a run, a step or a workflow does not say is 3. */
export const PRIORITY = { min: 1, max: 5, default: 3 } as const;

/** What a run or task whose concurrency key is at its limit does. */
export const CONCURRENCY_STRATEGIES = [
  /** It waits, in order, until one with the same key ends. */
  'QUEUE',
  /** It is cancelled: the ones already there go on. */
  'CANCEL_NEWEST',
  /** The oldest one with the same key is cancelled to make room for it. */
  'CANCEL_OLDEST',
] as const;
export type ConcurrencyStrategy = (typeof CONCURRENCY_STRATEGIES)[number];

/** What a forEach step does when one of its items fails (after its retries). */
export const ITEM_FAILURE_POLICIES = [
  /** The step and its run fail; the other items are cancelled. */
  'FAIL_RUN',
  /** The other items go on; the failed item's result is null. */
  'CONTINUE',
] as const;
export type ItemFailurePolicy = (typeof ITEM_FAILURE_POLICIES)[number];

/** The windows a named rate limit counts in, in seconds. */
export const RATE_LIMIT_PERIODS = { SECOND: 1, MINUTE: 60, HOUR: 3_600 } as const;
export type RateLimitPeriod = keyof typeof RATE_LIMIT_PERIODS;

export const FLOW_LIMITS = {
  concurrencyLimit: 10_000,
  concurrencyKeyTemplate: 200,
  /** A key's value, as resolved from a run's input (longer values are refused when the run starts). */
  concurrencyKeyValue: 256,
  rateLimitsPerStep: 8,
  rateLimitUnits: 1_000_000,
  rateLimitLimit: 1_000_000,
  forEachItems: 10_000,
  maxParallel: 1_000,
  defaultMaxParallel: 10,
} as const;

export interface ConcurrencyPolicy {
  /** A template over the run's input (`{{ input.customerId }}`), or a constant. */
  key: string;
  limit: number;
  onLimit: ConcurrencyStrategy;
}

export interface RateLimitUse {
  /** The name of one of the organization's rate limits. */
  name: string;
  units: number;
}

export interface ForEachPolicy {
  /** One template that reads a list: `{{ steps.list.output.files }}` or `{{ input.items }}`. */
  items: string;
  maxParallel: number;
  onItemFailure: ItemFailurePolicy;
}

/**
 * A concurrency key as a run or task holds it (resolved when the run starts): the key's value for
 * its input, and the policy it was resolved under. Stored with the row (runs/tasks.concurrency).
 */
export interface ConcurrencyHold {
  value: string;
  limit: number;
  onLimit: ConcurrencyStrategy;
}

/** Workflow-wide settings of a version (steps have their own). */
export interface WorkflowOptions {
  priority?: number | undefined;
  /** At most `limit` runs with the same key at once. */
  concurrency?: ConcurrencyPolicy | undefined;
}

export interface ConcurrencyInput {
  key: string;
  limit: number;
  onLimit?: ConcurrencyStrategy | null;
}

export interface ForEachInput {
  items: string;
  maxParallel?: number | null;
  onItemFailure?: ItemFailurePolicy | null;
}

const integerIn = (field: string, what: string, value: number, min: number, max: number): number => {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${what} must be an integer between ${min} and ${max} (got ${value})`, 'OUT_OF_RANGE');
  return value;
};

/** A priority as given (undefined when not given), checked. */
export function checkPriority(value: number | null | undefined, field: string, what: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  return integerIn(field, `${what}: priority`, value, PRIORITY.min, PRIORITY.max);
}

/**
 * A concurrency policy as given, checked: its key reads only the run's input (it is computed when
 * the run starts), its limit is 1 … 10,000.
 */
export function checkConcurrency(input: ConcurrencyInput | null | undefined, field: string, what: string): ConcurrencyPolicy | undefined {
  if (input === null || input === undefined) return undefined;
  const key = typeof input.key === 'string' ? input.key.trim() : '';
  if (key.length === 0 || key.length > FLOW_LIMITS.concurrencyKeyTemplate) {
    throw badInput(`${field}.key`, `${what}: a concurrency key has 1 to ${FLOW_LIMITS.concurrencyKeyTemplate} characters`, 'INVALID_CONCURRENCY_KEY');
  }
  for (const expression of collectTemplates(key)) {
    let root: string;
    try {
      root = parseTemplate(expression).root;
    } catch (error) {
      if (error instanceof TemplateError) throw badInput(`${field}.key`, `${what}: ${error.message}`, 'INVALID_TEMPLATE');
      throw error;
    }
    if (root !== 'input') {
      throw badInput(`${field}.key`, `${what}: a concurrency key reads only the run's input ("{{ input.customerId }}"), not "{{ ${expression} }}"`, 'INVALID_CONCURRENCY_KEY');
    }
  }
  const limit = integerIn(`${field}.limit`, `${what}: concurrency.limit`, input.limit, 1, FLOW_LIMITS.concurrencyLimit);
  return { key, limit, onLimit: input.onLimit ?? 'QUEUE' };
}

/** The rate limits a step consumes, checked for shape (that each exists is checked against the organization's). */
export function checkRateLimitUses(input: ReadonlyArray<{ name: string; units?: number | null }> | null | undefined, field: string, what: string): RateLimitUse[] {
  const uses = input ?? [];
  if (uses.length > FLOW_LIMITS.rateLimitsPerStep) throw badInput(field, `${what}: at most ${FLOW_LIMITS.rateLimitsPerStep} rate limits per step`, 'TOO_MANY_RATE_LIMITS');
  const seen = new Set<string>();
  return uses.map((use, i) => {
    if (!RATE_LIMIT_NAME.test(use.name)) throw badInput(`${field}[${i}].name`, `${what}: "${use.name}" is not a rate limit name`, 'INVALID_RATE_LIMIT');
    if (seen.has(use.name)) throw badInput(`${field}[${i}].name`, `${what}: rate limit "${use.name}" is named twice`, 'INVALID_RATE_LIMIT');
    seen.add(use.name);
    return { name: use.name, units: integerIn(`${field}[${i}].units`, `${what}: units of rate limit "${use.name}"`, use.units ?? 1, 1, FLOW_LIMITS.rateLimitUnits) };
  });
}

/** Rate limit names: what steps and the API call them. */
export const RATE_LIMIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

/**
 * A forEach policy as given, checked: `items` is one whole template reading the run's input or an
 * upstream step's output (the caller checks that the step is upstream), maxParallel 1 … 1,000.
 */
export function checkForEach(input: ForEachInput | null | undefined, field: string, what: string): ForEachPolicy | undefined {
  if (input === null || input === undefined) return undefined;
  const items = typeof input.items === 'string' ? input.items.trim() : '';
  const expressions = collectTemplates(items);
  const whole = expressions.length === 1 && items.replace(/\{\{\s*(.*?)\s*\}\}/, '').length === 0;
  if (!whole) throw badInput(`${field}.items`, `${what}: forEach.items is one template that reads a list, such as "{{ steps.list.output.files }}"`, 'INVALID_FOR_EACH');
  let root: string;
  try {
    root = parseTemplate(expressions[0] as string).root;
  } catch (error) {
    if (error instanceof TemplateError) throw badInput(`${field}.items`, `${what}: ${error.message}`, 'INVALID_TEMPLATE');
    throw error;
  }
  if (root !== 'steps' && root !== 'input') {
    throw badInput(`${field}.items`, `${what}: forEach.items reads an upstream step's output or the run's input, not "${items}"`, 'INVALID_FOR_EACH');
  }
  const maxParallel = integerIn(`${field}.maxParallel`, `${what}: forEach.maxParallel`, input.maxParallel ?? FLOW_LIMITS.defaultMaxParallel, 1, FLOW_LIMITS.maxParallel);
  return { items, maxParallel, onItemFailure: input.onItemFailure ?? 'FAIL_RUN' };
}

/**
 * The value of a concurrency key for a run's input; throws BAD_USER_INPUT (field `field`) when the
 * input lacks a field the key reads, or the value is too long.
 */
export function concurrencyKeyOf(policy: ConcurrencyPolicy, input: unknown, field: string, what: string): string {
  let value: unknown;
  try {
    value = resolveTemplates(policy.key, { input, steps: {}, run: { id: '' } });
  } catch (error) {
    if (error instanceof TemplateError) throw badInput(field, `${what}: the concurrency key "${policy.key}" does not fit the run input: ${error.message}`, 'MISSING_RUN_INPUT');
    throw error;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  if (text.length > FLOW_LIMITS.concurrencyKeyValue) {
    throw badInput(field, `${what}: the concurrency key "${policy.key}" is ${text.length} characters for this input (at most ${FLOW_LIMITS.concurrencyKeyValue})`, 'CONCURRENCY_KEY_TOO_LONG');
  }
  return text;
}

/** A task's priority: its step's, else the run's, else the workflow's, else 3. */
export const effectivePriority = (step: number | undefined, run: number | null | undefined, workflow: number | undefined): number => step ?? run ?? workflow ?? PRIORITY.default;

/** A version's workflow-wide settings as given, checked (fields `input.priority`, `input.concurrency`). */
export function checkWorkflowOptions(input: { priority?: number | null; concurrency?: ConcurrencyInput | null }, fieldBase = 'input'): WorkflowOptions {
  const priority = checkPriority(input.priority, `${fieldBase}.priority`, 'the workflow');
  const concurrency = checkConcurrency(input.concurrency, `${fieldBase}.concurrency`, 'the workflow');
  return { ...(priority === undefined ? {} : { priority }), ...(concurrency === undefined ? {} : { concurrency }) };
}

/**
 * Priorities age (bounded starvation): a queued attempt's place in its pool's queue is the minute it
 * was enqueued plus one minute per level below the highest, so higher priority goes first among work
 * enqueued within a few minutes of each other, and a priority-1 attempt is passed by priority-5 work
 * that arrives at most 4 minutes (PRIORITY_AGING_MS × 4) after it. BullMQ takes the smallest first.
 * Plus its fair rank (flow-control/fair-share.ts): one minute per attempt its organization already
 * has waiting ahead of it in the pool (divided by its weight), so one organization's backlog does not
 * hold up another's work; an attempt is passed only by work enqueued before its place's minute.
 */
export const PRIORITY_AGING_MS = 60_000;
/** Minutes are counted from here; BullMQ priorities go up to 2^21 − 1 (about 4 years of minutes). */
export const QUEUE_EPOCH_MS = Date.UTC(2026, 0, 1);
const QUEUE_ORDER_MAX = 2 ** 21 - 1;

/** The BullMQ priority of an attempt of `priority` enqueued at `enqueuedAtMs`: smaller goes first. */
export function queueOrder(priority: number, enqueuedAtMs: number, fairRank = 0): number {
  const minute = Math.max(0, Math.floor((enqueuedAtMs - QUEUE_EPOCH_MS) / PRIORITY_AGING_MS));
  return Math.min(QUEUE_ORDER_MAX, 1 + minute + (PRIORITY.max - priority) + Math.max(0, Math.floor(fairRank)));
}
