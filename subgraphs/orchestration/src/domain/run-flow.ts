import { concurrencyKeyOf, effectivePriority, type ConcurrencyHold, type ConcurrencyPolicy, type WorkflowOptions } from './flow-control';
import type { StepDefinition } from './workflow-definition';

/**
 * What a run's start resolves of its version's flow control (issue 10), stored with the run and its
 * tasks for the claim's admission to read: each task's priority, and the concurrency keys the run
 * and its tasks hold places under. A key that reads a field the run input lacks refuses the start
 * (BAD_USER_INPUT, field `<field>.input`, naming the key) before anything is written.
 */
export interface RunFlow {
  run: { priority: number | null; concurrencyKey: string | null; concurrency: ConcurrencyHold | null };
  /** By step id. */
  tasks: Map<string, { priority: number; concurrencyKey: string | null; concurrency: ConcurrencyHold | null }>;
}

const hold = (policy: ConcurrencyPolicy, value: string): ConcurrencyHold => ({ value, limit: policy.limit, onLimit: policy.onLimit });

/** A workflow's key is scoped to the workflow, a step's to the workflow and step: the same value in two workflows is two keys. */
export const runConcurrencyKey = (workflowId: string, value: string): string => `${workflowId}:${value}`;
export const stepConcurrencyKey = (workflowId: string, stepId: string, value: string): string => `${workflowId}/${stepId}:${value}`;

export function resolveRunFlow(workflowId: string, options: WorkflowOptions, steps: readonly StepDefinition[], input: unknown, runPriority: number | null, field: string): RunFlow {
  let run: RunFlow['run'] = { priority: runPriority, concurrencyKey: null, concurrency: null };
  if (options.concurrency) {
    const value = concurrencyKeyOf(options.concurrency, input, `${field}.input`, 'the workflow');
    run = { ...run, concurrencyKey: runConcurrencyKey(workflowId, value), concurrency: hold(options.concurrency, value) };
  }
  const tasks: RunFlow['tasks'] = new Map();
  for (const step of steps) {
    const priority = effectivePriority(step.priority, runPriority, options.priority);
    if (!step.concurrency) {
      tasks.set(step.id, { priority, concurrencyKey: null, concurrency: null });
      continue;
    }
    const value = concurrencyKeyOf(step.concurrency, input, `${field}.input`, `step "${step.id}"`);
    tasks.set(step.id, { priority, concurrencyKey: stepConcurrencyKey(workflowId, step.id, value), concurrency: hold(step.concurrency, value) });
  }
  return { run, tasks };
}
