import { env, subgraphEnv } from '@orchestra/lib';
import { z } from 'zod';

/** The audit process's environment, parsed once in main.ts. */
export const auditConfigSchema = z.object({
  ...subgraphEnv('audit', 4104, 50054),
  /** Events that occurred longer ago than this are archived to a file and deleted. */
  AUDIT_RETENTION_DAYS: env.int(365, { min: 1, max: 36_500 }),
  /** Where retention writes its JSON-lines archives (one folder per chain). Relative paths start at the working directory. */
  AUDIT_ARCHIVE_DIR: env.string('.orchestra/audit-archive'),
  /** How often the retention pass runs (the first one runs at start). */
  AUDIT_RETENTION_INTERVAL_MS: env.int(3_600_000, { min: 1_000, max: 7 * 86_400_000 }),
  /** Set to false on replicas that should not run retention (any number may: chains are locked while archived). */
  AUDIT_RETENTION_ENABLED: env.bool(true),
  /**
   * Where chain heads are witnessed outside the database (JSON lines, one file per host); point it at
   * storage the database's administrators cannot write. Relative paths start at the working directory.
   */
  AUDIT_WITNESS_DIR: env.string('.orchestra/audit-witness'),
  /** How often heads that moved are witnessed (the first pass runs at start). */
  AUDIT_WITNESS_INTERVAL_MS: env.int(60_000, { min: 1_000, max: 86_400_000 }),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
