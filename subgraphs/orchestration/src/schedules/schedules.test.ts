import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { MAX_FIRES_KEPT } from './ticker';

/**
 * Schedules against the real service (PostgreSQL, Redis): ticks fire once each with two
 * orchestration replicas ticking, overlap and catch-up policies after a restart, bad input refused
 * with nothing written, and another organization sees and changes nothing.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const operator = userPrincipal(orgId, 'operator');
const viewer = userPrincipal(orgId, 'viewer');
const stranger = userPrincipal(randomUUID(), 'admin');
const admin = userPrincipal(orgId, 'admin');

const SCHEDULE_FIELDS = 'id cron timezone paused overlap catchUp catchUpLimit nextFireAt nextRuns(n: 3) fires(first: 100) { tickAt outcome reason run { id status idempotencyKey startedByName } }';
interface Fire {
  tickAt: string;
  outcome: 'STARTED' | 'SKIPPED' | 'QUEUED' | 'MISSED';
  reason: string | null;
  run: { id: string; status: string; idempotencyKey: string; startedByName: string } | null;
}
interface ScheduleView {
  id: string;
  cron: string;
  timezone: string;
  paused: boolean;
  nextFireAt: string | null;
  nextRuns: string[];
  fires: Fire[];
}

async function workflow(name: string): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name, steps: [{ id: 'a', capability: 'noop', input: { who: '{{ input.who }}' } }] },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function createSchedule(input: Record<string, unknown>, principal = operator): Promise<ScheduleView> {
  const res = await t.graphql<{ createSchedule: ScheduleView }>(principal, `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { ${SCHEDULE_FIELDS} } }`, { i: input });
  expect(res.errors).toBeUndefined();
  return res.data!.createSchedule;
}

async function scheduleOf(id: string, principal = viewer): Promise<ScheduleView | null> {
  const res = await t.graphql<{ schedule: ScheduleView | null }>(principal, `query($id: ID!) { schedule(id: $id) { ${SCHEDULE_FIELDS} } }`, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.schedule;
}

const mutate = (principal: typeof operator, name: string, id: string) => t.graphql(principal, `mutation($id: ID!) { ${name}(id: $id) { id paused } }`, { id });

beforeAll(async () => {
  t = await startTestOrchestration({ SCHEDULE_TICK_INTERVAL_MS: '100', SCHEDULE_MISFIRE_GRACE_MS: '5000' });
});
afterAll(async () => {
  await t.stop();
});

describe('bad input', () => {
  it('refuses an invalid cron, an unknown time zone and other bad fields by name, writing nothing', async () => {
    const workflowId = await workflow('bad-input');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ workflowId, cron: '61 * * * *' }, 'input.cron'],
      [{ workflowId, cron: 'every day at noon' }, 'input.cron'],
      [{ workflowId, cron: '0 * * * *', timezone: 'Europe/Atlantis' }, 'input.timezone'],
      [{ workflowId, cron: '0 * * * *', input: { who: 'x', pad: 'y'.repeat(70 * 1024) } }, 'input.input'],
      [{ workflowId, cron: '0 * * * *', input: {} }, 'input.input'],
      [{ workflowId, cron: '0 * * * *', input: { who: 'x' }, catchUp: 'ALL', catchUpLimit: 0 }, 'input.catchUpLimit'],
    ];
    for (const [input, field] of cases) {
      const res = await t.graphql(operator, `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }`, { i: input });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const unknown = await t.graphql(operator, `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }`, { i: { workflowId: randomUUID(), cron: '0 * * * *' } });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.workflowId' });
    const listed = await t.graphql<{ schedules: unknown[] }>(viewer, `query($w: ID) { schedules(workflowId: $w) { id } }`, { w: workflowId });
    expect(listed.data?.schedules).toEqual([]);
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM schedules WHERE workflow_id = $1`, [workflowId]);
    expect(rows[0].n).toBe(0);
  });

  it('lets a viewer read but not create schedules', async () => {
    const workflowId = await workflow('viewer-refused');
    const res = await t.graphql(viewer, `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }`, { i: { workflowId, cron: '0 * * * *', input: { who: 'v' } } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('next runs', () => {
  it('previews a cron before it is saved, refusing a bad one as createSchedule does', async () => {
    const preview = `query($c: String!, $z: String, $n: Int) { cronPreview(cron: $c, timezone: $z, n: $n) { cron timezone nextRuns } }`;
    const ok = await t.graphql<{ cronPreview: { cron: string; timezone: string; nextRuns: string[] } }>(viewer, preview, { c: ' 0  3 * * * ', z: 'Europe/Berlin', n: 3 });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.cronPreview.cron).toBe('0 3 * * *');
    expect(ok.data!.cronPreview.nextRuns).toHaveLength(3);
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect(ok.data!.cronPreview.nextRuns.every((at) => /T0[12]:00:00\.000Z$/.test(at))).toBe(true);
    const refusals: Array<[Record<string, unknown>, string, string]> = [
      [{ c: 'every day' }, 'cron', 'INVALID_CRON'],
      [{ c: '* * * * * *', z: 'Mars/Olympus' }, 'timezone', 'INVALID_TIMEZONE'],
      [{ c: '0 * * * *', n: 51 }, 'n', 'OUT_OF_RANGE'],
    ];
    for (const [vars, field, reason] of refusals) {
      const res = await t.graphql(viewer, preview, vars);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
  });

  it('lists the next ticks in the schedule time zone and audits the creation', async () => {
    const workflowId = await workflow('next-runs');
    const s = await createSchedule({ workflowId, cron: '0 9 * * *', timezone: 'Asia/Tokyo', input: { who: 'tokyo' } });
    // 09:00 in Tokyo (UTC+9, no DST) is 00:00Z.
    expect(s.nextRuns).toHaveLength(3);
    for (const at of s.nextRuns) expect(at).toMatch(/T00:00:00\.000Z$/);
    expect(s.nextFireAt).toBe(s.nextRuns[0]);
    const audit = await t.pool.query(`SELECT event FROM audit_outbox WHERE event->>'targetId' = $1`, [s.id]);
    expect(audit.rows.map((r: { event: { action: string } }) => r.event.action)).toContain('schedule.create');
    await mutate(operator, 'deleteSchedule', s.id);
  });
});

describe('firing', () => {
  it('fires an every-second schedule once per tick with two orchestration replicas ticking', async () => {
    await t.startReplica();
    const workflowId = await workflow('every-second');
    const s = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'both' }, overlap: 'CANCEL_PREVIOUS' });
    await eventually(async () => ((await scheduleOf(s.id))?.fires.filter((f) => f.outcome === 'STARTED').length ?? 0) >= 6, { timeoutMs: 30_000, what: '6 ticks fired' });
    expect((await mutate(operator, 'pauseSchedule', s.id)).errors).toBeUndefined();
    const fires = (await scheduleOf(s.id))!.fires.slice().reverse();
    // Every tick from the first to the last, one second apart, each started exactly one run of its own.
    const seconds = fires.map((f) => Date.parse(f.tickAt) / 1000);
    expect(seconds).toEqual(seconds.map((_, i) => (seconds[0] as number) + i));
    expect(fires.every((f) => f.outcome === 'STARTED' && f.run !== null)).toBe(true);
    expect(new Set(fires.map((f) => f.run!.id)).size).toBe(fires.length);
    for (const f of fires) expect(f.run!.idempotencyKey).toBe(`schedule:${s.id}:${f.tickAt}`);
    expect(fires[0]!.run!.startedByName).toBe(`schedule ${s.id}`);
    // CANCEL_PREVIOUS: every run but the last was cancelled by the next tick.
    expect(fires.slice(0, -1).every((f) => f.run!.status === 'CANCELLED')).toBe(true);
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1`, [workflowId]);
    expect(rows[0].n).toBe(fires.length);
    expect(t.log.lines.filter((l) => l['msg'] === 'schedule tick failed (retried next pass)' || l['msg'] === 'schedule pass failed')).toEqual([]);
  });

  it('fires many schedules of one organization once per tick each, their runs started together, with two replicas ticking', async () => {
    // Two replicas are ticking (the test above started the second). 12 schedules due on the same
    // seconds land in the same batches: each tick of each is handled exactly once, by one replica.
    // Fires and runs are read from the tables (one query each, not a GraphQL call per schedule).
    const overlaps = ['SKIP', 'QUEUE', 'CANCEL_PREVIOUS'] as const;
    const workflowId = await workflow('many-at-once');
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) ids.push((await createSchedule({ workflowId, cron: '* * * * * *', input: { who: `s${i}` }, overlap: overlaps[i % 3] })).id);
    const handled = async () =>
      (await t.pool.query<{ schedule_id: string; n: number }>(`SELECT schedule_id, count(*)::int AS n FROM schedule_fires WHERE schedule_id = ANY($1::uuid[]) AND outcome <> 'MISSED' GROUP BY schedule_id`, [ids])).rows;
    await eventually(async () => {
      const rows = await handled();
      return rows.length === ids.length && rows.every((r) => r.n >= 3);
    }, { timeoutMs: 60_000, what: '3 handled ticks of every schedule' });
    await t.pool.query(`UPDATE schedules SET paused = true WHERE id = ANY($1::uuid[])`, [ids]);
    const { rows: fires } = await t.pool.query<{ schedule_id: string; tick_at: Date; outcome: string; run_id: string | null; key: string | null; started_by: string | null; status: string | null; who: string | null }>(
      `SELECT f.schedule_id, f.tick_at, f.outcome, f.run_id, r.idempotency_key AS key, r.started_by_display AS started_by, r.status, r.input->>'who' AS who
         FROM schedule_fires f LEFT JOIN runs r ON r.id = f.run_id WHERE f.schedule_id = ANY($1::uuid[]) ORDER BY f.schedule_id, f.tick_at`,
      [ids],
    );
    for (const [i, id] of ids.entries()) {
      const mine = fires.filter((f) => f.schedule_id === id);
      // One row per tick (the primary key says so too); every started run is its own, keyed by its tick and schedule.
      expect(new Set(mine.map((f) => f.tick_at.getTime())).size).toBe(mine.length);
      const started = mine.filter((f) => f.outcome === 'STARTED');
      expect(new Set(started.map((f) => f.run_id)).size).toBe(started.length);
      for (const f of started) expect(f).toMatchObject({ key: `schedule:${id}:${f.tick_at.toISOString()}`, started_by: `schedule ${id}`, who: `s${i}` });
      const overlap = overlaps[i % 3];
      // No worker runs noop here, so a run never ends by itself: SKIP and QUEUE start one run, CANCEL_PREVIOUS one per tick.
      if (overlap === 'CANCEL_PREVIOUS') {
        expect(mine.filter((f) => f.outcome !== 'MISSED').every((f) => f.outcome === 'STARTED')).toBe(true);
        expect(started.slice(0, -1).every((f) => f.status === 'CANCELLED')).toBe(true);
      } else {
        expect(started).toHaveLength(1);
        expect(mine.filter((f) => f.outcome === (overlap === 'SKIP' ? 'SKIPPED' : 'QUEUED')).length).toBeGreaterThanOrEqual(2);
      }
      const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1 AND input->>'who' = $2`, [workflowId, `s${i}`]);
      expect(rows[0].n).toBe(started.length);
    }
    expect(t.log.lines.filter((l) => l['msg'] === 'schedule tick failed (retried next pass)' || l['msg'] === 'schedule pass failed' || l['msg'] === 'a batch of schedule ticks failed; handling its schedules one per transaction')).toEqual([]);
  }, 120_000);

  it('SKIP: a tick while its run has not ended is skipped and recorded', async () => {
    const workflowId = await workflow('skip');
    const s = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'skip' }, overlap: 'SKIP' });
    // No worker runs noop here: the first run stays QUEUED.
    const view = await eventually(async () => {
      const v = await scheduleOf(s.id);
      return v && v.fires.filter((f) => f.outcome === 'SKIPPED').length >= 2 ? v : undefined;
    }, { timeoutMs: 30_000, what: 'two skipped ticks' });
    await mutate(operator, 'pauseSchedule', s.id);
    const started = view.fires.filter((f) => f.outcome === 'STARTED');
    expect(started).toHaveLength(1);
    for (const f of view.fires.filter((x) => x.outcome === 'SKIPPED')) expect(f.reason).toContain(started[0]!.run!.id);
  });

  it('QUEUE: ticks wait behind the running run and start when it ends', async () => {
    const workflowId = await workflow('queue');
    const s = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'queue' }, overlap: 'QUEUE' });
    const first = await eventually(async () => {
      const v = await scheduleOf(s.id);
      return v && v.fires.filter((f) => f.outcome === 'QUEUED').length >= 2 ? v.fires.find((f) => f.outcome === 'STARTED') : undefined;
    }, { timeoutMs: 30_000, what: 'two queued ticks' });
    await mutate(operator, 'pauseSchedule', s.id);
    const cancelled = await t.graphql(operator, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: first.run!.id });
    expect(cancelled.errors).toBeUndefined();
    // Paused: nothing more fires. Resumed: the oldest queued tick starts (before any new tick).
    await mutate(operator, 'resumeSchedule', s.id);
    const second = await eventually(async () => (await scheduleOf(s.id))?.fires.filter((f) => f.outcome === 'STARTED').length === 2 || undefined, {
      timeoutMs: 30_000,
      what: 'the queued tick to start',
    });
    expect(second).toBe(true);
    await mutate(operator, 'pauseSchedule', s.id);
    const fires = (await scheduleOf(s.id))!.fires.slice().reverse();
    const startedTicks = fires.filter((f) => f.outcome === 'STARTED').map((f) => f.tickAt);
    const firstQueued = fires.find((f) => f.tickAt > first.tickAt);
    expect(startedTicks[1]).toBe(firstQueued!.tickAt);
  });
});

describe('catch-up after a restart', () => {
  it('runs the ticks missed while down per policy: NONE none, LAST the latest, ALL the latest N', async () => {
    // An hourly schedule at a minute half an hour from now: its latest missed tick is long past the grace.
    const minute = (new Date().getUTCMinutes() + 30) % 60;
    const cron = `${minute} * * * *`;
    const ids: Record<string, string> = {};
    for (const [catchUp, catchUpLimit] of [['NONE', null], ['LAST', null], ['ALL', 3]] as const) {
      const workflowId = await workflow(`catch-up-${catchUp}`);
      ids[catchUp] = (await createSchedule({ workflowId, cron, input: { who: catchUp }, overlap: 'CANCEL_PREVIOUS', catchUp, ...(catchUpLimit ? { catchUpLimit } : {}) })).id;
    }
    await t.stopService();
    // While down, six ticks pass: the schedules were last handled six hours ago.
    await t.pool.query(`UPDATE schedules SET next_fire_at = next_fire_at - interval '6 hours' WHERE id = ANY($1::uuid[])`, [Object.values(ids)]);
    await t.restart();
    const moved = async (id: string) => {
      const { rows } = await t.pool.query(`SELECT next_fire_at > now() AS ahead FROM schedules WHERE id = $1`, [id]);
      return rows[0].ahead === true;
    };
    for (const id of Object.values(ids)) await eventually(() => moved(id), { timeoutMs: 20_000, what: `schedule ${id} handled after the restart` });
    const started = async (id: string) => (await scheduleOf(id))!.fires.filter((f) => f.outcome === 'STARTED').map((f) => f.tickAt);
    expect(await started(ids['NONE']!)).toEqual([]);
    const last = await started(ids['LAST']!);
    expect(last).toHaveLength(1);
    const all = await started(ids['ALL']!);
    expect(all).toHaveLength(3);
    // The latest missed ticks, an hour apart, the last of them LAST's.
    const hours = all.map((at) => Date.parse(at)).sort((a, b) => a - b);
    expect(hours[1]! - hours[0]!).toBe(3_600_000);
    expect(hours[2]! - hours[1]!).toBe(3_600_000);
    expect(new Date(hours[2]!).toISOString()).toBe(last[0]);
    expect(hours[2]!).toBeLessThan(Date.now());
    // The ticks each policy dropped are recorded as MISSED, with why (not only logged).
    const missed = async (id: string) => (await scheduleOf(id))!.fires.filter((f) => f.outcome === 'MISSED');
    const none = await missed(ids['NONE']!);
    expect(none).toHaveLength(6);
    expect(none.every((f) => f.run === null && /catchUp NONE runs no missed tick/.test(f.reason ?? ''))).toBe(true);
    expect((await missed(ids['LAST']!)).map((f) => f.tickAt).every((at) => Date.parse(at) < Date.parse(last[0]!))).toBe(true);
    expect(await missed(ids['LAST']!)).toHaveLength(5);
    const allMissed = await missed(ids['ALL']!);
    expect(allMissed).toHaveLength(3);
    expect(allMissed[0]!.reason).toMatch(/catchUp ALL runs only the latest 3 missed ticks/);
  });

  it('keeps the newest handled ticks of a schedule, and every queued one', async () => {
    const workflowId = await workflow('fire-retention');
    const schedule = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'retention' }, overlap: 'SKIP' });
    await mutate(operator, 'pauseSchedule', schedule.id);
    // 600 old handled ticks and one queued tick older than all of them.
    await t.pool.query(
      `INSERT INTO schedule_fires (schedule_id, org_id, tick_at, outcome, reason)
       SELECT $1::uuid, $2::uuid, now() - interval '1 day' + g * interval '1 second', 'SKIPPED', 'old' FROM generate_series(1, 600) g
       UNION ALL SELECT $1::uuid, $2::uuid, now() - interval '2 days', 'QUEUED', 'queued'`,
      [schedule.id, orgId],
    );
    await mutate(operator, 'resumeSchedule', schedule.id);
    const count = async (outcome?: string) => {
      const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM schedule_fires WHERE schedule_id = $1 AND ($2::text IS NULL OR outcome = $2)`, [schedule.id, outcome ?? null]);
      return rows[0].n as number;
    };
    await eventually(async () => (await count('STARTED')) + (await count('SKIPPED')) > 0 && (await count()) <= MAX_FIRES_KEPT + 1, { timeoutMs: 20_000, what: 'the old ticks pruned' });
    await mutate(operator, 'pauseSchedule', schedule.id);
    expect(await count('QUEUED')).toBe(1);
    // The oldest of the old ticks went first: those left are the newest of them, one a second.
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n, extract(epoch FROM max(tick_at) - min(tick_at))::int AS span FROM schedule_fires WHERE schedule_id = $1 AND reason = 'old'`, [schedule.id]);
    expect(rows[0].n).toBeLessThan(MAX_FIRES_KEPT);
    expect(rows[0].span).toBe(rows[0].n - 1);
  });
});

describe('organizations', () => {
  it('another organization neither sees nor changes a schedule, its ticks or its runs', async () => {
    const workflowId = await workflow('isolated');
    const s = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'mine' }, overlap: 'SKIP' });
    await eventually(async () => ((await scheduleOf(s.id))?.fires.length ?? 0) > 0, { timeoutMs: 20_000, what: 'a tick' });
    expect(await scheduleOf(s.id, stranger)).toBeNull();
    const listed = await t.graphql<{ schedules: Array<{ id: string }> }>(stranger, `{ schedules { id } }`);
    expect(listed.data?.schedules).toEqual([]);
    for (const name of ['pauseSchedule', 'resumeSchedule', 'deleteSchedule']) {
      expect((await mutate(stranger, name, s.id)).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    }
    const updated = await t.graphql(stranger, `mutation($id: ID!) { updateSchedule(id: $id, input: { cron: "0 0 * * *" }) { id } }`, { id: s.id });
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    const foreign = await t.graphql(stranger, `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }`, { i: { workflowId, cron: '0 * * * *', input: { who: 'x' } } });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.workflowId' });
    const view = await scheduleOf(s.id);
    expect(view?.paused).toBe(false);
    expect(view?.cron).toBe('* * * * * *');
    await mutate(operator, 'deleteSchedule', s.id);
    expect(await scheduleOf(s.id)).toBeNull();
  });
});

describe('runs started for later', () => {
  const START = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id status startAt tasks { status } } } }`;
  interface Started {
    startRun: { run: { id: string; status: string; startAt: string | null; tasks: Array<{ status: string }> } };
  }
  const runOf = async (id: string, principal = viewer) =>
    (await t.graphql<{ run: { status: string; startAt: string | null; tasks: Array<{ status: string }> } | null }>(principal, `query($id: ID!) { run(id: $id) { status startAt tasks { status } } }`, { id })).data?.run;

  it('is SCHEDULED until startAt, then QUEUED with its first tasks queued', async () => {
    const workflowId = await workflow('later');
    const startAt = new Date(Date.now() + 2_000).toISOString();
    const res = await t.graphql<Started>(operator, START, { i: { workflowId, input: { who: 'later' }, startAt } });
    expect(res.errors).toBeUndefined();
    const { run } = res.data!.startRun;
    expect(run.status).toBe('SCHEDULED');
    expect(run.startAt).toBe(startAt);
    expect(run.tasks.map((x) => x.status)).toEqual(['PENDING']);
    const queued = await eventually(async () => {
      const now = await runOf(run.id);
      return now?.status === 'QUEUED' ? now : undefined;
    }, { timeoutMs: 20_000, what: 'the delayed run to be queued' });
    expect(queued.tasks.map((x) => x.status)).toEqual(['QUEUED']);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(startAt));
  });

  it('can be cancelled before it starts, and never starts then; another organization can do neither', async () => {
    const workflowId = await workflow('later-cancelled');
    const res = await t.graphql<Started>(operator, START, { i: { workflowId, input: { who: 'x' }, startAt: new Date(Date.now() + 3_600_000).toISOString() } });
    const { id } = res.data!.startRun.run;
    expect(await runOf(id, stranger)).toBeNull();
    const foreign = await t.graphql(stranger, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id });
    expect(foreign.errors?.[0]?.extensions?.['code']).toBeDefined();
    expect((await runOf(id))?.status).toBe('SCHEDULED');
    const cancelled = await t.graphql<{ cancelRun: { status: string; tasks: Array<{ status: string }> } }>(operator, `mutation($id: ID!) { cancelRun(id: $id) { status tasks { status } } }`, { id });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data?.cancelRun).toEqual({ status: 'CANCELLED', tasks: [{ status: 'CANCELLED' }] });
    // Even with its time moved to the past, a cancelled run is not queued.
    await t.pool.query(`UPDATE runs SET start_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    await t.service.schedules.tickOnce();
    expect((await runOf(id))?.status).toBe('CANCELLED');
  });

  it('refuses a startAt more than a year ahead, naming the field', async () => {
    const workflowId = await workflow('later-refused');
    const res = await t.graphql(operator, START, { i: { workflowId, input: { who: 'x' }, startAt: new Date(Date.now() + 2 * 366 * 86_400_000).toISOString() } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.startAt' });
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1`, [workflowId]);
    expect(rows[0].n).toBe(0);
  });
});

describe('one bad schedule', () => {
  it('does not hold back the other schedules of its organization handled in the same transaction', async () => {
    const workflowId = await workflow('batch-neighbours');
    const good = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'good' }, overlap: 'CANCEL_PREVIOUS' });
    const bad = await createSchedule({ workflowId, cron: '* * * * * *', input: { who: 'bad' }, overlap: 'CANCEL_PREVIOUS' });
    // A row no API would write (a cron that no longer parses): handling it throws inside the batch.
    await t.pool.query(`UPDATE schedules SET cron = 'not a cron' WHERE id = $1`, [bad.id]);
    const firedBefore = (await scheduleOf(good.id))?.fires.filter((f) => f.outcome === 'STARTED').length ?? 0;
    await eventually(async () => ((await scheduleOf(good.id))?.fires.filter((f) => f.outcome === 'STARTED').length ?? 0) >= firedBefore + 3, { timeoutMs: 30_000, what: 'the good schedule to keep firing' });
    expect(t.log.lines.some((l) => l['msg'] === 'a batch of schedule ticks failed; handling its schedules one per transaction' && l['orgId'] === orgId)).toBe(true);
    expect(t.log.lines.some((l) => l['msg'] === 'schedule tick failed (retried next pass)' && l['scheduleId'] === bad.id)).toBe(true);
    expect(t.log.lines.some((l) => l['msg'] === 'schedule tick failed (retried next pass)' && l['scheduleId'] === good.id)).toBe(false);
    expect((await mutate(operator, 'pauseSchedule', good.id)).errors).toBeUndefined();
    await t.pool.query(`UPDATE schedules SET paused = true WHERE id = $1`, [bad.id]);
  });
});
