import type { Logger } from '@orchestra/lib';
import type { ArtifactObjects, Engine } from '../engine/engine';
import { deleteArtifacts, lockExpiredArtifacts } from '../store/artifacts';

/**
 * The artifact retention job: artifacts older than their organization's retention (default
 * ARTIFACT_RETENTION_DAYS) leave the store and the table. Safe with several replicas: each batch
 * locks its rows FOR UPDATE SKIP LOCKED, so two passes never take the same artifact. The objects
 * are deleted while the rows are locked, before the rows: a store failure rolls the batch back and
 * the next pass tries again (deleting an object twice is harmless; a row whose object is gone would not be).
 */

export interface RetentionPass {
  deleted: number;
  byOrg: Record<string, number>;
}

const BATCH = 200;
/** Batches one pass deletes at most (the rest waits for the next pass). */
const MAX_BATCHES = 50;

export async function runArtifactRetentionPass(engine: Engine, objects: ArtifactObjects, log: Logger): Promise<RetentionPass> {
  const pass: RetentionPass = { deleted: 0, byOrg: {} };
  for (let i = 0; i < MAX_BATCHES; i += 1) {
    const batch = await engine.inSystem(async (tx) => {
      const expired = await lockExpiredArtifacts(tx, engine.config.ARTIFACT_RETENTION_DAYS, BATCH);
      if (expired.length === 0) return expired;
      await objects.delete(expired.map((a) => a.storageKey));
      await deleteArtifacts(
        tx,
        expired.map((a) => a.id),
      );
      return expired;
    });
    for (const a of batch) pass.byOrg[a.orgId] = (pass.byOrg[a.orgId] ?? 0) + 1;
    pass.deleted += batch.length;
    if (batch.length < BATCH) break;
  }
  if (pass.deleted > 0) {
    for (const [orgId, count] of Object.entries(pass.byOrg)) log.info('expired artifacts deleted', { orgId, count });
  }
  log.debug('artifact retention pass done', { deleted: pass.deleted, orgs: Object.keys(pass.byOrg).length });
  return pass;
}

export interface RetentionJob {
  start(): void;
  stop(): Promise<void>;
}

/** Runs a pass every ARTIFACT_RETENTION_INTERVAL_MS (the first one a little after start). */
export function createArtifactRetentionJob(engine: Engine, objects: ArtifactObjects, log: Logger): RetentionJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = runArtifactRetentionPass(engine, objects, log)
      .catch((err: unknown) => log.error('artifact retention pass failed', { err }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, engine.config.ARTIFACT_RETENTION_INTERVAL_MS);
      });
  };
  return {
    start() {
      timer = setTimeout(tick, Math.min(10_000, engine.config.ARTIFACT_RETENTION_INTERVAL_MS));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
