export { createOrchestrationService, type OrchestrationService, type OrchestrationServiceDeps } from './service';
export { orchestrationConfigSchema, type OrchestrationConfig } from './config';
export { typeDefs, migrationsDir } from './schema';
export { SERVICE, TENANT_ROLE } from './engine/engine';
// The aggregate behind the metrics charts, for the run-metrics benchmark (bench/run-metrics.ts).
export { runMetrics, type RunMetricsScope } from './metrics/run-metrics';
export { RUN_METRICS_FAILURE_CODES } from './metrics/resolvers';
