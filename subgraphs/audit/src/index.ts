export { auditConfigSchema, type AuditConfig } from './config';
export { createAuditService, type AuditServiceDeps, type AuditServiceHandle } from './service';
export { typeDefs } from './type-defs';
export { AUDIT_TENANT_ROLE, migrateAudit, migrationsDir } from './migrate';
export { GENESIS_HASH, canonicalJson, eventHash, type ChainedEvent } from './chain/hash';
export { verifyArchiveFile } from './retention/archive';
