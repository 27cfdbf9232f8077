import { newRequestId, type Logger, type Principal, type Queryable } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { queueReadyTasks, setRunStatus, tasksOfRun } from '../engine/transitions';
import { camelRow, type RunRow } from '../store/rows';

/**
 * Runs started for later (startRun's startAt): SCHEDULED until their time, then made QUEUED with
 * their first tasks queued, each in a transaction of its organization that claims the run with
 * FOR UPDATE SKIP LOCKED (replicas share the work; a run is queued once). The schedule ticker
 * calls this on every pass.
 */

/** Runs whose startAt has come (of every organization: a system read, no locks), oldest first. */
async function dueDelayedRuns(db: Queryable, limit: number): Promise<Array<{ id: string; orgId: string }>> {
  const { rows } = await db.query<{ id: string; org_id: string }>(`SELECT id, org_id FROM runs WHERE status = 'SCHEDULED' AND start_at <= now() ORDER BY start_at LIMIT $1`, [limit]);
  return rows.map((r) => ({ id: r.id, orgId: r.org_id }));
}

async function claimDelayedRun(db: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await db.query(`SELECT * FROM runs WHERE id = $1 AND status = 'SCHEDULED' AND start_at <= now() FOR UPDATE SKIP LOCKED`, [id]);
  return rows[0] ? camelRow<RunRow>(rows[0] as Record<string, unknown>) : undefined;
}

const starter = (orgId: string): Principal => ({ kind: 'service', id: 'delayed-runs', orgId, scopes: [], display: 'delayed run start', requestId: newRequestId() });

/** Queues the runs whose time has come; resolves to how many this process queued. */
export async function startDueDelayedRuns(engine: Engine, log: Logger, limit: number): Promise<number> {
  const due = await engine.inSystem((tx) => dueDelayedRuns(tx, limit));
  let started = 0;
  for (const ref of due) {
    try {
      const queued = await engine.change(starter(ref.orgId), async (ctx) => {
        const run = await claimDelayedRun(ctx.tx, ref.id);
        if (!run) return false;
        const now = await setRunStatus(ctx, run, { status: 'QUEUED', message: `its start time ${run.startAt?.toISOString() ?? ''} came` });
        await queueReadyTasks(ctx, now, await tasksOfRun(ctx, run.id));
        return true;
      });
      if (queued) {
        started += 1;
        log.info('delayed run queued', { runId: ref.id, orgId: ref.orgId });
      }
    } catch (err) {
      log.error('a delayed run could not be queued (retried next pass)', { err, runId: ref.id, orgId: ref.orgId });
    }
  }
  return started;
}
