import { newRequestId, type Logger, type Principal, type Queryable } from '@orchestra/lib';
import type { DueRows } from '../engine/due-rows';
import type { Engine } from '../engine/engine';
import { queueReadyTasks, setRunStatus, tasksOfRun } from '../engine/transitions';
import { camelRow, type RunRow } from '../store/rows';

/**
 * Runs started for later (startRun's startAt): SCHEDULED until their time, then made QUEUED with
 * their first tasks queued, each in a transaction of its organization that claims the run with
 * FOR UPDATE SKIP LOCKED (replicas share the work; a run is queued once). The schedule ticker's
 * loop runs this on every beat.
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

/** The runs whose time has come, as due rows of the schedule ticker's loop (engine/due-rows.ts): each queued in its own transaction. */
export function delayedRuns(engine: Engine, log: Logger, passSize: number): DueRows<{ id: string; orgId: string }> {
  return {
    passSize,
    findDue: (limit) => dueDelayedRuns(engine.pool, limit),
    async handle([ref]) {
      const { id, orgId } = ref!;
      const queued = await engine.change(starter(orgId), async (ctx) => {
        const run = await claimDelayedRun(ctx.tx, id);
        if (!run) return false;
        const now = await setRunStatus(ctx, run, { status: 'QUEUED', message: `its start time ${run.startAt?.toISOString() ?? ''} came` });
        await queueReadyTasks(ctx, now, await tasksOfRun(ctx, run.id));
        return true;
      });
      if (queued) log.info('delayed run queued', { runId: id, orgId });
      return queued ? 1 : 0;
    },
    describe: (ref) => ({ runId: ref.id, orgId: ref.orgId }),
    messages: { rowFailed: 'a delayed run could not be queued (retried next pass)', batchFailed: 'a batch of delayed runs failed; queuing them one per transaction' },
  };
}
