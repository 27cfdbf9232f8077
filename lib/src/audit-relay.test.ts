import { join } from 'node:path';
import { auditV1 } from '@orchestra/proto';
import { recordAudit } from './audit';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './audit-relay';
import { createPool, type Pool } from './db';
import { AppError } from './errors';
import { createGrpcServer, type GrpcServer } from './grpc-server';
import { newId } from './ids';
import { createMemoryLogger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { runMigrations } from './migrate';
import type { Principal } from './principal';
import { createTestSchema, eventually, TEST_DATABASE_URL, TEST_INTERNAL_TOKEN } from './testing';

// The relay's mechanics are tested here against a small recording AuditService on a real gRPC port
// (lib cannot depend on subgraphs/audit); subgraphs/audit runs this relay against the real service.

const log = createMemoryLogger();
const orgId = newId();
const user: Principal = { kind: 'user', id: 'u1', userId: 'u1', orgId, role: 'admin', scopes: [], requestId: 'req_relay', display: 'ada@example.com', ip: '10.0.0.1', userAgent: 'jest' };
let pool: Pool;
let schema: string;
let drop: () => Promise<void>;

/** What the recording audit server received, in order. */
let received: auditV1.AuditEvent[] = [];
/** Record calls that stored events, in order: their sizes. */
let calls: number[] = [];
/** When set, the next Record call waits for it before answering. */
let gate: Promise<void> | undefined;
let onGateReached: (() => void) | undefined;
let server: GrpcServer | undefined;
let port = 0;

async function startAudit(): Promise<void> {
  const s = createGrpcServer({ service: 'relay-test-audit', log, internalToken: TEST_INTERNAL_TOKEN });
  s.add(
    auditV1.AuditServiceService,
    {
      async record(request) {
        const bad = request.events.find((e) => e.action === 'bad.event');
        if (bad) throw new AppError('BAD_USER_INPUT', `event ${bad.eventId}: action "bad.event" is not allowed`, { field: 'events.action' });
        // An event that trips a bug in the audit service: it answers INTERNAL for the whole batch.
        if (request.events.some((e) => e.action === 'crash.event')) throw new Error('audit store exploded');
        if (gate) {
          const waitFor = gate;
          gate = undefined;
          onGateReached?.();
          await waitFor;
        }
        received.push(...request.events);
        calls.push(request.events.length);
        return { stored: request.events.length, duplicates: 0 };
      },
    },
    'orchestra.audit.v1.AuditService',
  );
  port = await s.listen('127.0.0.1', port);
  s.setServing('SERVING');
  server = s;
}

async function stopAudit(): Promise<void> {
  await server?.stop(100);
  server = undefined;
}

const relays: OutboxRelay[] = [];
function relay(overrides: Partial<OutboxRelayOptions> = {}, metrics: Metrics = createMetrics('relay-test', { defaultMetrics: false })): OutboxRelay {
  const r = createOutboxRelay({
    pool,
    schema,
    service: 'relay-test',
    auditGrpcAddress: `127.0.0.1:${port}`,
    internalToken: TEST_INTERNAL_TOKEN,
    log,
    metrics,
    ...overrides,
  });
  relays.push(r);
  return r;
}

const record = (action = 'note.create', principal: Principal = user) => recordAudit(pool, 'relay-test', principal, { action, targetType: 'Note', targetId: newId(), diff: { body: 'hello', token: 'secret' } });

interface OutboxState {
  id: string;
  attempts: number;
  delivered_at: Date | null;
  last_error: string | null;
  last_error_code: string | null;
  due_in_ms: number;
}
async function outbox(): Promise<OutboxState[]> {
  const { rows } = await pool.query<OutboxState>(
    `SELECT id, attempts, delivered_at, last_error, last_error_code,
            (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS due_in_ms
       FROM audit_outbox ORDER BY created_at, id`,
  );
  return rows;
}

beforeAll(async () => {
  const test = await createTestSchema('librelay');
  schema = test.schema;
  drop = test.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'lib-relay-test', log });
  await runMigrations({ pool, schema, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: 'orchestra_libtest_tenant', log });
  await startAudit();
});

beforeEach(async () => {
  received = [];
  calls = [];
  await pool.query('DELETE FROM audit_outbox');
  if (!server) await startAudit();
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await stopAudit();
  await pool.end();
  await drop();
});

describe('audit outbox relay', () => {
  it('delivers pending events as a batch and marks them delivered', async () => {
    const events = [
      await record(),
      await record(),
      await recordAudit(pool, 'relay-test', { kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'req_anon' }, { action: 'auth.login', targetType: 'User', outcome: 'UNAUTHENTICATED' }),
    ];
    const metrics = createMetrics('relay-test', { defaultMetrics: false });
    await expect(relay({}, metrics).deliverOnce()).resolves.toBe(3);

    expect(received.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(received[0]).toMatchObject({
      orgId,
      service: 'relay-test',
      action: 'note.create',
      actor: { kind: auditV1.ActorKind.ACTOR_KIND_USER, id: 'u1', userId: 'u1', display: 'ada@example.com' },
      requestId: 'req_relay',
      ip: '10.0.0.1',
      userAgent: 'jest',
      outcome: 'success',
      diff: { body: 'hello', token: '[REDACTED]' },
    });
    expect(received[0]?.occurredAt?.toISOString()).toBe(events[0]?.occurredAt);
    // No org travels as "" (the platform chain).
    expect(received[2]).toMatchObject({ orgId: '', actor: { kind: auditV1.ActorKind.ACTOR_KIND_ANONYMOUS }, outcome: 'UNAUTHENTICATED' });

    const rows = await outbox();
    expect(rows.every((r) => r.delivered_at !== null && r.attempts === 1 && r.last_error === null)).toBe(true);
    await expect(relay().deliverOnce()).resolves.toBe(0);
    expect(received).toHaveLength(3);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/orchestra_audit_outbox_delivered_total\{service="relay-test"\} 3/);
  });

  it('never lets two replicas send the same event (SKIP LOCKED)', async () => {
    for (let i = 0; i < 6; i += 1) await record();
    const [a, b] = [relay({ batchSize: 3 }), relay({ batchSize: 3 })];
    let release: () => void = () => undefined;
    gate = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (onGateReached = resolve));

    // Replica A claims the first three and is held inside the Record call, its rows still locked.
    const first = a.deliverOnce();
    await reached;
    // Replica B must skip A's locked rows instead of waiting for them, and take the other three.
    await expect(b.deliverOnce()).resolves.toBe(3);
    await expect(b.deliverOnce()).resolves.toBe(0);
    release();
    await expect(first).resolves.toBe(3);

    const ids = received.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(6);
    expect(ids).toHaveLength(6);
    expect((await outbox()).every((r) => r.delivered_at !== null)).toBe(true);
  });

  it('keeps events while audit is down and delivers them once it is back', async () => {
    await stopAudit();
    const events = [await record(), await record(), await record()];
    const metrics = createMetrics('relay-test', { defaultMetrics: false });
    // A backoff far longer than the test: only the relay's probe and release can deliver in time.
    const r = relay({ pollMs: 50, baseBackoffMs: 60 * 60 * 1000, maxBackoffMs: 60 * 60 * 1000 }, metrics);
    await r.start();

    await eventually(async () => (await outbox()).every((row) => row.attempts >= 1), { what: 'failed delivery attempts' });
    await eventually(async () => (await outbox()).filter((row) => row.attempts >= 2).length > 0, { what: 'a probe while audit is down' });
    const down = await outbox();
    expect(down.every((row) => row.delivered_at === null && row.last_error_code === 'UNAVAILABLE' && row.last_error !== null)).toBe(true);
    // The rows got their backoff (about an hour, jittered between half and all of it).
    expect(down.every((row) => row.due_in_ms > 20 * 60 * 1000)).toBe(true);
    await eventually(async () => /orchestra_audit_outbox_pending\{service="relay-test"\} 3/.test(await metrics.registry.metrics()), { what: 'pending gauge' });
    expect(await metrics.registry.metrics()).toMatch(/orchestra_audit_outbox_failed_total\{code="UNAVAILABLE",service="relay-test"\} [1-9]/);
    expect(received).toHaveLength(0);

    await startAudit();
    await eventually(async () => (await outbox()).every((row) => row.delivered_at !== null), { what: 'delivery after audit came back' });
    expect(received.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(log.lines.some((l) => l['msg'] === 'audit service reachable again: delivering the backlog')).toBe(true);
  });

  it('isolates an event audit rejects and delivers the rest of its batch', async () => {
    const good1 = await record();
    const bad = await record('bad.event');
    const good2 = await record();
    // A backoff far longer than the test: the refused event's next attempt is measured from its
    // transaction's start (now()), and a loaded machine can spend the default 250–500 ms in the sends.
    const r = relay({ baseBackoffMs: 60 * 60 * 1000, maxBackoffMs: 60 * 60 * 1000 });
    await expect(r.deliverOnce()).resolves.toBe(2);
    expect(received.map((e) => e.eventId)).toEqual([good1.eventId, good2.eventId]);

    const badRow = (await outbox()).find((row) => row.id === bad.eventId);
    expect(badRow).toMatchObject({ delivered_at: null, attempts: 1, last_error_code: 'BAD_USER_INPUT' });
    expect(badRow?.last_error).toContain('"bad.event" is not allowed');
    expect(badRow?.due_in_ms).toBeGreaterThan(0);
    // It waits for its backoff and is never dropped.
    await expect(r.deliverOnce()).resolves.toBe(0);
    expect((await outbox()).filter((row) => row.delivered_at === null).map((row) => row.id)).toEqual([bad.eventId]);
    expect(log.lines.some((l) => l['msg'] === 'audit service rejected an event: it stays in the outbox' && l['eventId'] === bad.eventId)).toBe(true);
  });

  it('does not let an event that makes audit fail hold up the others', async () => {
    const crash = await record('crash.event');
    const good1 = await record();
    const r = relay();
    // In one batch: audit fails (INTERNAL), so the batch is resent one by one and good1 gets through.
    await expect(r.deliverOnce()).resolves.toBe(1);
    expect((await outbox()).find((row) => row.id === crash.eventId)).toMatchObject({ delivered_at: null, attempts: 1, last_error_code: 'INTERNAL' });

    // Alone, it fails again; the relay then probes, taking the event that waited longest for its
    // retry: the new one, not the culprit (whose retry is in the future).
    await pool.query('UPDATE audit_outbox SET next_attempt_at = now() WHERE id = $1', [crash.eventId]);
    await expect(r.deliverOnce()).resolves.toBe(0);
    const good2 = await record();
    await expect(r.deliverOnce()).resolves.toBe(1);
    expect(received.map((e) => e.eventId)).toEqual([good1.eventId, good2.eventId]);
    expect((await outbox()).filter((row) => row.delivered_at === null).map((row) => row.id)).toEqual([crash.eventId]);
  });

  it('wakes on the outbox NOTIFY instead of waiting for its poll', async () => {
    const r = relay({ pollMs: 60 * 60 * 1000 });
    await r.start();
    await eventually(() => log.lines.some((l) => l['msg'] === 'audit relay started'), { what: 'relay start' });
    const event = await record();
    await eventually(() => received.some((e) => e.eventId === event.eventId), { what: 'delivery woken by NOTIFY' });
  });

  it('with gatherMs, sends a steady stream of events in few batches, and a lone event at once (issue 11)', async () => {
    const r = relay({ pollMs: 60 * 60 * 1000, gatherMs: 1_500 });
    await r.start();
    await eventually(() => log.lines.some((l) => l['msg'] === 'audit relay started'), { what: 'relay start' });
    // A lone event after a quiet spell is not held back for the gathering time.
    const sentAt = Date.now();
    const lone = await record();
    await eventually(() => received.some((e) => e.eventId === lone.eventId), { what: 'the lone event' });
    const loneMs = Date.now() - sentAt;
    expect(loneMs).toBeLessThan(1_500);
    // A stream of 24 events over ~1.2 s, each insert a NOTIFY: without gathering, a batch per wake-up.
    const stream: string[] = [];
    for (let i = 0; i < 24; i += 1) {
      stream.push((await record()).eventId);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await eventually(() => stream.every((id) => received.some((e) => e.eventId === id)), { timeoutMs: 15_000, what: 'the stream delivered' });
    // The first batch after the lone one waits out the 1.5 s since it, so the whole stream goes in one or two.
    expect(calls.length - 1).toBeLessThanOrEqual(2);
    expect(calls.slice(1).reduce((a, b) => a + b, 0)).toBe(24);
  });

  it('while idle on LISTEN, retries an event at its next attempt time rather than after its longest sleep (issue 11)', async () => {
    const bad = await record('bad.event');
    // An hour between looks unless something is due: only the row's own retry time brings the relay back.
    const r = relay({ pollMs: 20, idlePollMs: 60 * 60 * 1000, baseBackoffMs: 200, maxBackoffMs: 200 });
    await r.start();
    await eventually(async () => ((await outbox()).find((row) => row.id === bad.eventId)?.attempts ?? 0) >= 3, { timeoutMs: 20_000, what: 'three attempts of the rejected event' });
  });

  it('prunes delivered rows after the keep window, never pending ones', async () => {
    const old = await record();
    const recent = await record();
    await relay().deliverOnce();
    const waiting = await record();
    await pool.query("UPDATE audit_outbox SET delivered_at = now() - interval '2 days' WHERE id = $1", [old.eventId]);
    // A pending row that is old must stay too.
    await pool.query("UPDATE audit_outbox SET created_at = now() - interval '3 days' WHERE id = $1", [waiting.eventId]);

    await expect(relay({ keepDeliveredMs: 24 * 60 * 60 * 1000 }).pruneDelivered()).resolves.toBe(1);
    expect((await outbox()).map((row) => row.id).sort()).toEqual([recent.eventId, waiting.eventId].sort());
  });

  it('without an audit address, leaves events in the outbox and says so', async () => {
    const event = await record();
    const r = relay({ auditGrpcAddress: undefined });
    await r.start();
    await expect(r.deliverOnce()).resolves.toBe(0);
    expect((await outbox()).map((row) => [row.id, row.delivered_at])).toEqual([[event.eventId, null]]);
    expect(log.lines.some((l) => String(l['msg']).startsWith('AUDIT_GRPC_ADDR is not set'))).toBe(true);
  });
});
