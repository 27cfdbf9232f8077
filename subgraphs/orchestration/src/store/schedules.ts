import type { Queryable } from '@orchestra/lib';
import type { ScheduleCatchUp, ScheduleOverlap } from '../schedules/fire-plan';
import { camelRow, camelRows } from './rows';

/** A schedule of a workflow (rows → domain objects here). */
export interface ScheduleRow {
  id: string;
  orgId: string;
  workflowId: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  overlap: ScheduleOverlap;
  catchUp: ScheduleCatchUp;
  catchUpLimit: number;
  paused: boolean;
  nextFireAt: Date;
  lastFireAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type ScheduleFireOutcome = 'STARTED' | 'SKIPPED' | 'QUEUED' | 'MISSED';

export interface ScheduleFireRow {
  scheduleId: string;
  orgId: string;
  tickAt: Date;
  outcome: ScheduleFireOutcome;
  runId: string | null;
  reason: string | null;
  firedAt: Date;
}

const COLUMNS = 'id, org_id, workflow_id, cron, timezone, input, overlap, catch_up, catch_up_limit, paused, next_fire_at, last_fire_at, created_by, created_at, updated_at';
const one = (rows: unknown[]): ScheduleRow | undefined => (rows[0] ? camelRow<ScheduleRow>(rows[0] as Record<string, unknown>) : undefined);

export type NewSchedule = Omit<ScheduleRow, 'paused' | 'lastFireAt' | 'createdAt' | 'updatedAt'>;

export async function insertSchedule(db: Queryable, s: NewSchedule): Promise<ScheduleRow> {
  const { rows } = await db.query(
    `INSERT INTO schedules (id, org_id, workflow_id, cron, timezone, input, overlap, catch_up, catch_up_limit, next_fire_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
    [s.id, s.orgId, s.workflowId, s.cron, s.timezone, JSON.stringify(s.input), s.overlap, s.catchUp, s.catchUpLimit, s.nextFireAt, s.createdBy],
  );
  return one(rows) as ScheduleRow;
}

export type ScheduleChange = Partial<Pick<ScheduleRow, 'cron' | 'timezone' | 'input' | 'overlap' | 'catchUp' | 'catchUpLimit' | 'paused' | 'nextFireAt' | 'lastFireAt'>>;

/** Changes a schedule (the caller holds its row lock); undefined when there is none. */
export async function updateSchedule(db: Queryable, id: string, c: ScheduleChange): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(
    `UPDATE schedules SET cron = coalesce($2, cron), timezone = coalesce($3, timezone), input = coalesce($4::jsonb, input), overlap = coalesce($5, overlap),
            catch_up = coalesce($6, catch_up), catch_up_limit = coalesce($7, catch_up_limit), paused = coalesce($8, paused), next_fire_at = coalesce($9, next_fire_at),
            last_fire_at = coalesce($10, last_fire_at), updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      c.cron ?? null,
      c.timezone ?? null,
      c.input === undefined ? null : JSON.stringify(c.input),
      c.overlap ?? null,
      c.catchUp ?? null,
      c.catchUpLimit ?? null,
      c.paused ?? null,
      c.nextFireAt ?? null,
      c.lastFireAt ?? null,
    ],
  );
  return one(rows);
}

export async function deleteSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`DELETE FROM schedules WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return one(rows);
}

export async function findSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE id = $1`, [id]);
  return one(rows);
}

/** Locks a schedule's row until the transaction ends (waits for another holder). */
export async function lockSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`, [id]);
  return one(rows);
}

/**
 * Claims a schedule for the ticker: its row locked when it is due (or has queued ticks) and no
 * other transaction holds it (SKIP LOCKED: another replica is handling it right now).
 */
export async function claimSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM schedules s
      WHERE id = $1 AND NOT paused
        AND (next_fire_at <= now() OR EXISTS (SELECT 1 FROM schedule_fires f WHERE f.schedule_id = s.id AND f.outcome = 'QUEUED'))
      FOR UPDATE SKIP LOCKED`,
    [id],
  );
  return one(rows);
}

export async function listSchedules(db: Queryable, filter: { workflowId?: string | undefined }, limit: number): Promise<ScheduleRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE ($1::uuid IS NULL OR workflow_id = $1) ORDER BY id LIMIT $2`, [filter.workflowId ?? null, limit]);
  return camelRows<ScheduleRow>(rows as Array<Record<string, unknown>>);
}

export async function countSchedules(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
  return rows[0]?.n ?? 0;
}

/**
 * Schedules (of every organization: a system read) that are due or have queued ticks, most overdue
 * first. Unlocked: the ticker claims each in a transaction of its organization.
 */
export async function dueSchedules(db: Queryable, limit: number): Promise<Array<{ id: string; orgId: string }>> {
  const { rows } = await db.query<{ id: string; org_id: string }>(
    `(SELECT id, org_id, next_fire_at FROM schedules WHERE NOT paused AND next_fire_at <= now() ORDER BY next_fire_at LIMIT $1)
     UNION
     (SELECT s.id, s.org_id, s.next_fire_at FROM schedules s
       WHERE NOT s.paused AND s.id IN (SELECT DISTINCT schedule_id FROM schedule_fires WHERE outcome = 'QUEUED') LIMIT $1)
     ORDER BY next_fire_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, orgId: r.org_id }));
}

/** Runs this schedule started that have not ended, oldest first. */
export async function activeRunsOfSchedule(db: Queryable, scheduleId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT r.id FROM schedule_fires f JOIN runs r ON r.id = f.run_id
      WHERE f.schedule_id = $1 AND r.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY f.tick_at`,
    [scheduleId],
  );
  return rows.map((r) => r.id);
}

/** The oldest ticks queued behind a running run (overlap QUEUE). */
export async function queuedFires(db: Queryable, scheduleId: string, limit: number): Promise<Date[]> {
  const { rows } = await db.query<{ tick_at: Date }>(`SELECT tick_at FROM schedule_fires WHERE schedule_id = $1 AND outcome = 'QUEUED' ORDER BY tick_at LIMIT $2`, [scheduleId, limit]);
  return rows.map((r) => r.tick_at);
}

export async function countQueuedFires(db: Queryable, scheduleId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM schedule_fires WHERE schedule_id = $1 AND outcome = 'QUEUED'`, [scheduleId]);
  return rows[0]?.n ?? 0;
}

/** Records what a tick did (a queued tick that starts later is updated in place). */
export async function recordFires(db: Queryable, fires: ReadonlyArray<Omit<ScheduleFireRow, 'firedAt'>>): Promise<void> {
  if (fires.length === 0) return;
  await db.query(
    `INSERT INTO schedule_fires (schedule_id, org_id, tick_at, outcome, run_id, reason)
     SELECT schedule_id, org_id, tick_at, outcome, run_id, reason FROM jsonb_to_recordset($1::jsonb)
         AS f(schedule_id uuid, org_id uuid, tick_at timestamptz, outcome text, run_id uuid, reason text)
     ON CONFLICT (schedule_id, tick_at) DO UPDATE SET outcome = excluded.outcome, run_id = excluded.run_id, reason = excluded.reason, fired_at = now()
       WHERE schedule_fires.outcome = 'QUEUED'`,
    [
      JSON.stringify(
        fires.map((f) => ({ schedule_id: f.scheduleId, org_id: f.orgId, tick_at: f.tickAt.toISOString(), outcome: f.outcome, run_id: f.runId, reason: f.reason === null ? null : f.reason.slice(0, 500) })),
      ),
    ],
  );
}

/**
 * Bounded retention of a schedule's fires: the newest `keep` handled ticks stay (QUEUED ones always,
 * they are still to run). A walk of `keep` entries of the primary key, then a range delete.
 */
export async function pruneFires(db: Queryable, scheduleId: string, keep: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM schedule_fires
      WHERE schedule_id = $1 AND outcome <> 'QUEUED'
        AND tick_at < (SELECT tick_at FROM schedule_fires WHERE schedule_id = $1 ORDER BY tick_at DESC OFFSET $2::int - 1 LIMIT 1)`,
    [scheduleId, keep],
  );
  return rowCount ?? 0;
}

export async function listFires(db: Queryable, scheduleId: string, limit: number): Promise<ScheduleFireRow[]> {
  const { rows } = await db.query(`SELECT * FROM schedule_fires WHERE schedule_id = $1 ORDER BY tick_at DESC LIMIT $2`, [scheduleId, limit]);
  return camelRows<ScheduleFireRow>(rows as Array<Record<string, unknown>>);
}

/** The runs a schedule started, newest tick first. */
export async function runIdsOfSchedule(db: Queryable, scheduleId: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ run_id: string }>(`SELECT run_id FROM schedule_fires WHERE schedule_id = $1 AND run_id IS NOT NULL ORDER BY tick_at DESC LIMIT $2`, [scheduleId, limit]);
  return rows.map((r) => r.run_id);
}
