import { auditV1 } from '@orchestra/proto';
import {
  createGrpcServer,
  loadGrpcTls,
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
import { createWitness, type Witness } from './chain/witness';
import { createAuditGrpcService } from './grpc/audit-service';
import { createResolvers, SERVICE_NAME } from './resolvers';
import { runRetention, type RetentionSettings } from './retention/archive';
import { listChains } from './store/chains';
import { typeDefs } from './type-defs';

export interface AuditServiceDeps {
  config: Pick<
    AuditConfig,
    | 'INTERNAL_TOKEN'
    | 'GRPC_TLS_DIR'
    | 'GRPC_TLS_MUTUAL'
    | 'PRINCIPAL_PUBLIC_KEY'
    | 'AUDIT_RETENTION_DAYS'
    | 'AUDIT_ARCHIVE_DIR'
    | 'AUDIT_RETENTION_INTERVAL_MS'
    | 'AUDIT_RETENTION_ENABLED'
    | 'AUDIT_WITNESS_DIR'
    | 'AUDIT_WITNESS_INTERVAL_MS'
  >;
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
  /** Witnesses every chain head that moved since the last pass now (also runs on its timer once started). */
  witnessHeads(): Promise<number>;
  witness: Witness;
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
  const witness = createWitness({ dir: isAbsolute(config.AUDIT_WITNESS_DIR) ? config.AUDIT_WITNESS_DIR : resolve(config.AUDIT_WITNESS_DIR), log, now });
  const witnessed = metrics.counter('audit_witnessed_heads_total', 'Audit chain heads copied to the witness files outside the database');
  const archived = metrics.counter('audit_retention_archived_events_total', 'Audit events archived to files and deleted by retention');

  const http = createSubgraphHttp<RequestContext>({
    name: SERVICE_NAME,
    typeDefs,
    resolvers: createResolvers({ pool, log, retention, witness, now }),
    verifier: createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY),
    log,
    metrics,
    readiness: { postgres: () => pool.query('SELECT 1') },
    audit: { service: SERVICE_NAME, pool, log },
  });
  const grpc = createGrpcServer({ service: SERVICE_NAME, log, metrics, internalToken: config.INTERNAL_TOKEN, tls: loadGrpcTls(config) });
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

  // The highest sequence witnessed per chain (read back from the files on the first pass).
  let witnessedSeq: Map<string, number> | undefined;
  const witnessPass = async (): Promise<number> => {
    witnessedSeq ??= await witness.latest();
    const moved = (await listChains(pool)).filter((h) => h.lastSeq > (witnessedSeq!.get(h.chain) ?? 0));
    await witness.record(moved.map((h) => ({ chain: h.chain, seq: h.lastSeq, hash: h.lastHash })));
    for (const h of moved) witnessedSeq.set(h.chain, h.lastSeq);
    witnessed.inc(moved.length);
    return moved.length;
  };

  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  /** Runs `pass` now-ish and then every `intervalMs`, one at a time, until stop. */
  const every = (what: string, intervalMs: number, pass: () => Promise<unknown>, delayMs = 0) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const running: Promise<unknown> = pass()
        .catch((err: unknown) => log.error(`audit ${what} pass failed`, { err }))
        .finally(() => {
          inFlight.delete(running);
          if (!stopped) every(what, intervalMs, pass, intervalMs);
        });
      inFlight.add(running);
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };

  return {
    name: SERVICE_NAME,
    http,
    grpc,
    retention,
    runRetention: retentionPass,
    witness,
    witnessHeads: witnessPass,
    start() {
      if (config.AUDIT_RETENTION_ENABLED) {
        every('retention', config.AUDIT_RETENTION_INTERVAL_MS, retentionPass);
        log.info('audit retention scheduled', { windowDays: config.AUDIT_RETENTION_DAYS, archiveDir: retention.archiveDir, intervalMs: config.AUDIT_RETENTION_INTERVAL_MS });
      }
      every('witness', config.AUDIT_WITNESS_INTERVAL_MS, witnessPass);
      log.info('audit chain heads witnessed outside the database', { witnessDir: witness.dir, intervalMs: config.AUDIT_WITNESS_INTERVAL_MS });
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(inFlight);
      // A last pass, so the heads of events recorded since the previous one are witnessed too.
      await witnessPass().catch((err: unknown) => log.error('audit witness pass failed', { err }));
      await grpc.stop();
      await http.close();
    },
  };
}
