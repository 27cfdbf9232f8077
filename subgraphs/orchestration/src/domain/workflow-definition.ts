import { badInput, checkJsonInput } from '@orchestra/lib';
import { checkConcurrency, checkForEach, checkPriority, checkRateLimitUses, type ConcurrencyInput, type ConcurrencyPolicy, type ForEachInput, type ForEachPolicy, type RateLimitUse } from './flow-control';
import { checkGpuRequest, checkQueueTimeout, type GpuRequest, type GpuRequestInput } from './gpu-request';
import { collectTemplates, parseTemplate, TemplateError } from './templates';
import { checkWait, WAIT_CAPABILITY, waitTemplates, type WaitInput, type WaitPolicy } from './wait-steps';

/** Executors every worker ships (workers/src/executors). Workers may advertise more. */
export const BUILTIN_CAPABILITIES = ['noop', 'sleep', 'http.request', 'transform'] as const;

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** The ceiling of the first retry's delay; each retry doubles it (times backoffFactor) up to maxDelayMs. */
  initialDelayMs: number;
  backoffFactor: number;
  maxDelayMs: number;
}

export interface StepDefinition {
  id: string;
  capability: string;
  /** JSON, with {{ }} templates. */
  input: unknown;
  dependsOn: string[];
  retry: RetryPolicy;
  timeoutMs: number;
  pool: string;
  labels: Record<string, string>;
  /** 1 … 5 (absent: the run's, else the workflow's, else 3). Versions stored before issue 10 have none of the flow fields. */
  priority?: number | undefined;
  /** At most `limit` tasks of this step with the same key at once (across runs). */
  concurrency?: ConcurrencyPolicy | undefined;
  /** Named rate limits of the organization each task of this step consumes when it starts. */
  rateLimits?: RateLimitUse[] | undefined;
  /** The step runs once per item of a list (its input may read {{ item }} and {{ itemIndex }}). */
  forEach?: ForEachPolicy | undefined;
  /** The GPUs it needs of a worker (domain/gpu-request.ts); absent: none. */
  resources?: GpuRequest | undefined;
  /** How long it may wait for a worker before it fails as QUEUE_TIMEOUT (a GPU step has a default). */
  queueTimeoutMs?: number | undefined;
  /** A wait step (capability "wait"): holds its run, not a worker slot, for an approval, an event or a time (domain/wait-steps.ts). */
  wait?: WaitPolicy | undefined;
}

/** A step as a client sends it: everything but id and capability optional. */
export interface StepInput {
  id: string;
  capability: string;
  input?: unknown;
  dependsOn?: readonly string[] | null;
  retry?: Partial<Record<keyof RetryPolicy, number | null>> | null;
  timeoutMs?: number | null;
  pool?: string | null;
  labels?: ReadonlyArray<{ key: string; value: string }> | null;
  priority?: number | null;
  concurrency?: ConcurrencyInput | null;
  rateLimits?: ReadonlyArray<{ name: string; units?: number | null }> | null;
  forEach?: ForEachInput | null;
  resources?: GpuRequestInput | null;
  queueTimeoutMs?: number | null;
  wait?: WaitInput | null;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1_000, backoffFactor: 2, maxDelayMs: 60_000 };
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POOL = 'default';
const DAY_MS = 24 * 60 * 60 * 1000;
export const LIMITS = {
  steps: 200,
  maxAttempts: 100,
  timeoutMs: DAY_MS,
  delayMs: DAY_MS,
  backoffFactor: 10,
  labels: 32,
  inputBytes: 64 * 1024,
} as const;

const STEP_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
/** Pools name BullMQ queues: no colons, nothing exotic. */
export const POOL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;

const numberIn = (field: string, what: string, value: number, min: number, max: number, integer = true): number => {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw badInput(field, `${what} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max} (got ${value})`, 'OUT_OF_RANGE');
  }
  return value;
};

/**
 * Checks a workflow's steps and fills in defaults. Rejects, with BAD_USER_INPUT whose message names
 * the step and whose `field` points at it (`input.steps[2].dependsOn`): duplicate ids, unknown
 * dependencies, cycles, unknown capabilities, bad retry/timeout/pool/labels, and templates that are
 * malformed or read a step that is not upstream.
 */
export function validateSteps(steps: readonly StepInput[], capabilities: ReadonlySet<string>, fieldBase = 'input.steps'): StepDefinition[] {
  if (steps.length === 0) throw badInput(fieldBase, 'a workflow needs at least one step', 'NO_STEPS');
  if (steps.length > LIMITS.steps) throw badInput(fieldBase, `a workflow has at most ${LIMITS.steps} steps (got ${steps.length})`, 'TOO_MANY_STEPS');

  const indexOf = new Map<string, number>();
  steps.forEach((step, i) => {
    const field = `${fieldBase}[${i}].id`;
    if (typeof step.id !== 'string' || !STEP_ID.test(step.id)) {
      throw badInput(field, `step ${i + 1}: id ${JSON.stringify(step.id)} must start with a letter or _ and hold only letters, digits, _ and - (at most 63)`, 'INVALID_STEP_ID');
    }
    const earlier = indexOf.get(step.id);
    if (earlier !== undefined) throw badInput(field, `step "${step.id}" is defined twice (steps[${earlier}] and steps[${i}])`, 'DUPLICATE_STEP');
    indexOf.set(step.id, i);
  });

  const defined: StepDefinition[] = steps.map((step, i) => {
    const at = `${fieldBase}[${i}]`;
    const name = `step "${step.id}"`;
    const wait = step.wait === null || step.wait === undefined ? undefined : checkWait(step.wait, `${at}.wait`, name);
    if (wait !== undefined && step.capability !== WAIT_CAPABILITY) {
      throw badInput(`${at}.capability`, `${name}: a step with wait has capability "${WAIT_CAPABILITY}" (got "${step.capability}")`, 'INVALID_WAIT_STEP');
    }
    if (wait === undefined && step.capability === WAIT_CAPABILITY) {
      throw badInput(`${at}.wait`, `${name}: capability "${WAIT_CAPABILITY}" needs wait: { kind: APPROVAL | EVENT | SLEEP_UNTIL, ... }`, 'INVALID_WAIT_STEP');
    }
    if (wait !== undefined) {
      // What a worker's task has and a wait would silently ignore is refused.
      for (const [key, given] of [['forEach', step.forEach], ['resources', step.resources], ['rateLimits', step.rateLimits?.length ? step.rateLimits : null], ['concurrency', step.concurrency]] as const) {
        if (given !== null && given !== undefined) throw badInput(`${at}.${key}`, `${name}: a wait step has no ${key} (it runs on no worker)`, 'INVALID_WAIT_STEP');
      }
    } else if (!capabilities.has(step.capability)) {
      throw badInput(`${at}.capability`, `${name}: unknown capability "${step.capability}" (known: ${[...capabilities].sort().join(', ')})`, 'UNKNOWN_CAPABILITY');
    }
    const dependsOn = [...new Set(step.dependsOn ?? [])];
    for (const dep of dependsOn) {
      if (dep === step.id) throw badInput(`${at}.dependsOn`, `${name} depends on itself`, 'CYCLE');
      if (!indexOf.has(dep)) throw badInput(`${at}.dependsOn`, `${name} depends on unknown step "${dep}"`, 'UNKNOWN_DEPENDENCY');
    }
    const r = step.retry ?? {};
    const maxAttempts = numberIn(`${at}.retry.maxAttempts`, `${name}: retry.maxAttempts`, r.maxAttempts ?? DEFAULT_RETRY.maxAttempts, 1, LIMITS.maxAttempts);
    const initialDelayMs = numberIn(`${at}.retry.initialDelayMs`, `${name}: retry.initialDelayMs`, r.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs, 0, LIMITS.delayMs);
    const backoffFactor = numberIn(`${at}.retry.backoffFactor`, `${name}: retry.backoffFactor`, r.backoffFactor ?? DEFAULT_RETRY.backoffFactor, 1, LIMITS.backoffFactor, false);
    const maxDelayMs = numberIn(`${at}.retry.maxDelayMs`, `${name}: retry.maxDelayMs`, r.maxDelayMs ?? Math.max(DEFAULT_RETRY.maxDelayMs, initialDelayMs), 0, LIMITS.delayMs);
    if (maxDelayMs < initialDelayMs) {
      throw badInput(`${at}.retry.maxDelayMs`, `${name}: retry.maxDelayMs (${maxDelayMs}) must not be below retry.initialDelayMs (${initialDelayMs})`, 'OUT_OF_RANGE');
    }
    const timeoutMs = numberIn(`${at}.timeoutMs`, `${name}: timeoutMs`, step.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, LIMITS.timeoutMs);
    const pool = step.pool ?? DEFAULT_POOL;
    if (!POOL_NAME.test(pool)) throw badInput(`${at}.pool`, `${name}: pool "${pool}" must be lowercase letters, digits, _ and - (at most 63)`, 'INVALID_POOL');
    const labels: Record<string, string> = {};
    const labelList = step.labels ?? [];
    if (labelList.length > LIMITS.labels) throw badInput(`${at}.labels`, `${name}: at most ${LIMITS.labels} labels`, 'TOO_MANY_LABELS');
    labelList.forEach(({ key, value }, j) => {
      if (!LABEL_KEY.test(key)) throw badInput(`${at}.labels[${j}].key`, `${name}: label key "${key}" is not valid`, 'INVALID_LABEL');
      if (Object.hasOwn(labels, key)) throw badInput(`${at}.labels[${j}].key`, `${name}: label "${key}" is given twice`, 'INVALID_LABEL');
      labels[key] = value;
    });
    const input = step.input ?? {};
    // Depth first (a deep value would overflow JSON.stringify), and text PostgreSQL can store (issue 9 items 7, 9).
    checkJsonInput(input, `${at}.input`);
    if (JSON.stringify(input).length > LIMITS.inputBytes) throw badInput(`${at}.input`, `${name}: input is larger than ${LIMITS.inputBytes} bytes`, 'INPUT_TOO_LARGE');
    const priority = checkPriority(step.priority, `${at}.priority`, name);
    const concurrency = checkConcurrency(step.concurrency, `${at}.concurrency`, name);
    const rateLimits = checkRateLimitUses(step.rateLimits, `${at}.rateLimits`, name);
    const forEach = checkForEach(step.forEach, `${at}.forEach`, name);
    const resources = checkGpuRequest(step.resources, `${at}.resources`, name);
    const queueTimeoutMs = checkQueueTimeout(step.queueTimeoutMs, `${at}.queueTimeoutMs`, name, resources);
    return {
      id: step.id,
      capability: step.capability,
      input,
      dependsOn,
      retry: { maxAttempts, initialDelayMs, backoffFactor, maxDelayMs },
      timeoutMs,
      pool,
      labels,
      ...(priority === undefined ? {} : { priority }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(rateLimits.length === 0 ? {} : { rateLimits }),
      ...(forEach === undefined ? {} : { forEach }),
      ...(resources === undefined ? {} : { resources }),
      ...(queueTimeoutMs === undefined ? {} : { queueTimeoutMs }),
      ...(wait === undefined ? {} : { wait }),
    };
  });

  assertAcyclic(defined, indexOf, fieldBase);
  const ancestors = ancestorsOf(defined);
  defined.forEach((step, i) => {
    const references: Array<[string, string[]]> = [[`${fieldBase}[${i}].input`, collectTemplates(step.input)]];
    if (step.forEach) references.push([`${fieldBase}[${i}].forEach.items`, collectTemplates(step.forEach.items)]);
    if (step.wait) references.push([`${fieldBase}[${i}].wait`, waitTemplates(step.wait).flatMap((text) => collectTemplates(text))]);
    for (const [field, expressions] of references) {
      for (const expression of expressions) {
        let ref;
        try {
          ref = parseTemplate(expression);
        } catch (error) {
          throw badInput(field, `step "${step.id}": ${error instanceof TemplateError ? error.message : String(error)}`, 'INVALID_TEMPLATE');
        }
        if ((ref.root === 'item' || ref.root === 'itemIndex') && !step.forEach) {
          throw badInput(field, `step "${step.id}": "{{ ${expression} }}" is set only in a forEach step (add forEach to the step)`, 'INVALID_TEMPLATE');
        }
        if (ref.root !== 'steps') continue;
        if (!indexOf.has(ref.stepId)) {
          throw badInput(field, `step "${step.id}": "{{ ${expression} }}" references unknown step "${ref.stepId}"`, 'UNKNOWN_STEP_REFERENCE');
        }
        if (!ancestors.get(step.id)?.has(ref.stepId)) {
          throw badInput(
            field,
            `step "${step.id}": "{{ ${expression} }}" reads step "${ref.stepId}", which is not upstream of "${step.id}" (add it to dependsOn)`,
            'REFERENCE_NOT_UPSTREAM',
          );
        }
      }
    }
  });
  return defined;
}

/** Throws naming the cycle (a → b → c → a) and pointing at the first step in it. */
function assertAcyclic(steps: readonly StepDefinition[], indexOf: ReadonlyMap<string, number>, fieldBase: string): void {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const s = state.get(dep);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        // The steps were visited along dependsOn edges; show them in execution order.
        const shown = [...cycle].reverse();
        const first = shown[0] as string;
        throw badInput(`${fieldBase}[${indexOf.get(first) ?? 0}].dependsOn`, `step "${first}" is part of a cycle: ${shown.join(' → ')}`, 'CYCLE');
      }
      if (s === undefined) visit(dep);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const step of steps) if (!state.has(step.id)) visit(step.id);
}

/** For each step, every step it transitively depends on. */
export function ancestorsOf(steps: readonly StepDefinition[]): Map<string, Set<string>> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const all = new Set<string>();
    memo.set(id, all);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      all.add(dep);
      for (const a of of(dep)) all.add(a);
    }
    return all;
  };
  for (const s of steps) of(s.id);
  return memo;
}

/** Steps in an order where every step comes after its dependencies. */
export function topologicalOrder(steps: readonly StepDefinition[]): StepDefinition[] {
  const done = new Set<string>();
  const out: StepDefinition[] = [];
  const byId = new Map(steps.map((s) => [s.id, s]));
  const visit = (step: StepDefinition) => {
    if (done.has(step.id)) return;
    done.add(step.id);
    for (const dep of step.dependsOn) {
      const d = byId.get(dep);
      if (d) visit(d);
    }
    out.push(step);
  };
  steps.forEach(visit);
  return out;
}
