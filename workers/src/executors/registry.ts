import { createBrowserExecutor } from './browser';
import { createBrowserAgentExecutor } from './browser-agent';
import { createHttpRequestExecutor } from './http-request';
import { createLlmExecutor } from './llm';
import { createNoopExecutor } from './noop';
import { createSleepExecutor } from './sleep';
import { createTransformExecutor } from './transform';
import type { Executor, ExecutorEnvironment, ExecutorFactory, OptionalExecutorFactory } from './types';

/** Every executor a worker can run. A new executor is one file beside this one and one line here. */
export const BUILT_IN_EXECUTORS: Readonly<Record<string, ExecutorFactory | OptionalExecutorFactory>> = {
  noop: createNoopExecutor,
  sleep: createSleepExecutor,
  'http.request': createHttpRequestExecutor,
  transform: createTransformExecutor,
  llm: createLlmExecutor,
  browser: createBrowserExecutor,
  'browser.agent': createBrowserAgentExecutor,
};

export const BUILT_IN_CAPABILITIES: readonly string[] = Object.keys(BUILT_IN_EXECUTORS);

/**
 * Builds the executors a worker offers: the built-ins named in `capabilities` (all by default) plus
 * `extra` ones (an embedding application's own). A capability offered twice is a mistake, not an override.
 */
export function createExecutorRegistry(
  environment: ExecutorEnvironment,
  { capabilities = BUILT_IN_CAPABILITIES, extra = [] }: { capabilities?: readonly string[]; extra?: readonly ExecutorFactory[] } = {},
): ReadonlyMap<string, Executor<never>> {
  const registry = new Map<string, Executor<never>>();
  const add = (executor: Executor<never>) => {
    if (registry.has(executor.capability)) throw new Error(`executor ${executor.capability} is registered twice`);
    registry.set(executor.capability, executor);
  };
  for (const capability of capabilities) {
    const factory = BUILT_IN_EXECUTORS[capability];
    if (!factory) throw new Error(`unknown capability ${capability} (built-in: ${BUILT_IN_CAPABILITIES.join(', ')})`);
    const executor = factory(environment);
    if (executor === undefined) continue; // not usable here: the factory logged why, the capability is not advertised
    if (executor.capability !== capability) throw new Error(`executor registered as ${capability} calls itself ${executor.capability}`);
    add(executor);
  }
  for (const factory of extra) add(factory(environment));
  // Executors sharing a budget share one limit: two limits for one budget would mean neither.
  const limits = new Map<string, { limit: number; capability: string }>();
  for (const executor of registry.values()) {
    const budget = executor.concurrency;
    if (!budget) continue;
    const seen = limits.get(budget.budget);
    if (seen && seen.limit !== budget.limit) throw new Error(`executors ${seen.capability} and ${executor.capability} share budget ${budget.budget} with different limits (${seen.limit}, ${budget.limit})`);
    limits.set(budget.budget, { limit: budget.limit, capability: executor.capability });
  }
  return registry;
}
