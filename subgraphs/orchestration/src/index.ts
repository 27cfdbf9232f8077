export { createOrchestrationService, type OrchestrationService, type OrchestrationServiceDeps } from './service';
export { orchestrationConfigSchema, type OrchestrationConfig } from './config';
export { typeDefs, migrationsDir } from './schema';
export { SERVICE, TENANT_ROLE } from './engine/engine';
