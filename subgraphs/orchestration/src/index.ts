export { createOrchestrationService, type OrchestrationService, type OrchestrationServiceDeps } from './service';
export { orchestrationConfigSchema, type OrchestrationConfig } from './config';
export { typeDefs, migrationsDir } from './schema';
export { SERVICE, TENANT_ROLE } from './engine/engine';
// The aggregate behind the metrics charts, for the run-metrics benchmark (bench/run-metrics.ts).
export { runMetrics } from './metrics/run-metrics-read';
export { runMetricsFromRuns, type RunMetricsScope } from './metrics/run-metrics';
export { HIST_RELATIVE_ERROR } from './metrics/histogram';
export { createRunMetricsRollup, type RunMetricsRollup } from './metrics/rollup-job';
export { RUN_METRICS_FAILURE_CODES } from './metrics/resolvers';
