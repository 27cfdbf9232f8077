import { auditV1 } from '@orchestra/proto';
import {
  createGrpcServer,
  createPrincipalVerifier,
  createSubgraphHttp,
  servicePrincipal,
  newRequestId,
  recordAudit,
  type Logger,
  type Metrics,
  type Pool,
  type RequestContext,
  type ServiceHandle,
} from '@orchestra/lib';
import { isAbsolute, resolve } from 'node:path';
import type { AuditConfig } from './config';
import { createAuditGrpcService } from './grpc/audit-service';
import { createResolvers, SERVICE_NAME } from './resolvers';
import { runRetention, type RetentionSettings } from './retention/archive';
import { typeDefs } from './type-defs';

export interface AuditServiceDeps {
  config: Pick<AuditConfig, 'INTERNAL_TOKEN' | 'PRINCIPAL_PUBLIC_KEY' | 'AUDIT_RETENTION_DAYS' | 'AUDIT_ARCHIVE_DIR' | 'AUDIT_RETENTION_INTERVAL_MS' | 'AUDIT_RETENTION_ENABLED'>;
  pool: Pool;
  log: Logger;
  metrics: Metrics;
  /** The clock retention reads (tests move it). */
  now?: () => Date;
}

export interface AuditServiceHandle extends ServiceHandle {
  /** One retention pass over every chain now (also runs on its timer once started). */
  runRetention(): ReturnType<typeof runRetention>;
  retention: RetentionSettings;
}

/**
 * The audit service: AuditService.Record over gRPC (what every service's outbox relay calls) and the
 * audit subgraph over HTTP; retention runs on a timer once started. It does not deliver its own
 * outbox: main.ts starts a relay pointing at this service once it listens (its address is only known then).
 */
export function createAuditService({ config, pool, log: rootLog, metrics, now = () => new Date() }: AuditServiceDeps): AuditServiceHandle {
  const log = rootLog.child({ component: 'audit' });
  const retention: RetentionSettings = {
    windowMs: config.AUDIT_RETENTION_DAYS * 86_400_000,
    archiveDir: isAbsolute(config.AUDIT_ARCHIVE_DIR) ? config.AUDIT_ARCHIVE_DIR : resolve(config.AUDIT_ARCHIVE_DIR),
  };
  const archived = metrics.counter('audit_retention_archived_events_total', 'Audit events archived to files and deleted by retention');

  const http = createSubgraphHttp<RequestContext>({
    name: SERVICE_NAME,
    typeDefs,
    resolvers: createResolvers({ pool, log, retention, now }),
    verifier: createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY),
    log,
    metrics,
    readiness: { postgres: () => pool.query('SELECT 1') },
    audit: { service: SERVICE_NAME, pool, log },
  });
  const grpc = createGrpcServer({ service: SERVICE_NAME, log, metrics, internalToken: config.INTERNAL_TOKEN });
  grpc.add(auditV1.AuditServiceService, createAuditGrpcService({ pool, metrics }), 'orchestra.audit.v1.AuditService');

  const retentionPass = async () => {
    const result = await runRetention(pool, now(), retention, log, async (tx, checkpoint) => {
      // Archiving deletes from the trail, so it is on the record too, as the service's own act.
      await recordAudit(tx, SERVICE_NAME, servicePrincipal(SERVICE_NAME, newRequestId(), checkpoint.orgId ?? undefined), {
        action: 'audit.archive',
        targetType: 'AuditChain',
        targetId: checkpoint.chain,
        orgId: checkpoint.orgId ?? undefined,
        diff: { fromSequence: checkpoint.fromSeq, throughSequence: checkpoint.throughSeq, eventCount: checkpoint.eventCount, archiveFile: checkpoint.archiveFile },
      });
    });
    archived.inc(result.archivedEvents);
    return result;
  };

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  let stopped = false;
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      inFlight = retentionPass()
        .catch((err: unknown) => log.error('audit retention pass failed', { err }))
        .finally(() => {
          inFlight = undefined;
          if (!stopped) schedule(config.AUDIT_RETENTION_INTERVAL_MS);
        });
    }, delayMs);
    timer.unref();
  };

  return {
    name: SERVICE_NAME,
    http,
    grpc,
    retention,
    runRetention: retentionPass,
    start() {
      if (config.AUDIT_RETENTION_ENABLED) {
        schedule(0);
        log.info('audit retention scheduled', { windowDays: config.AUDIT_RETENTION_DAYS, archiveDir: retention.archiveDir, intervalMs: config.AUDIT_RETENTION_INTERVAL_MS });
      }
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      await grpc.stop();
      await http.close();
    },
  };
}
