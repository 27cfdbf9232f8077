export { createIdentityService, type IdentityService, type IdentityServiceDeps } from './service';
export { identityConfigSchema, type IdentityConfig } from './config';
export { typeDefs, migrationsDir } from './schema';
export { API_KEY_SCOPES } from './api-keys/scopes';
export { ensureFirstAdmin } from './first-admin';
export { TENANT_ROLE as IDENTITY_TENANT_ROLE } from './deps';
