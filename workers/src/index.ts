// The worker as a library: the factory, its config schema and the executor contract.
export { createWorker, type WorkerDeps, type WorkerHandle } from './worker';
export { workerConfigSchema, loadWorkerConfig, type WorkerConfig } from './config';
export { BUILT_IN_CAPABILITIES, BUILT_IN_EXECUTORS, createExecutorRegistry } from './executors/registry';
export {
  RetryableError,
  defineExecutor,
  type Executor,
  type ExecutorContext,
  type ExecutorEnvironment,
  type ExecutorFactory,
  type ExecutorLogLevel,
  type JsonValue,
} from './executors/types';
export { createResourceProbe, parseNvidiaSmiCsv, type ResourceProbe } from './resources';
