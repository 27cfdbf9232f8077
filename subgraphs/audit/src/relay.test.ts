import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryLogger,
  createMetrics,
  createOutboxRelay,
  createPool,
  createTestSchema,
  eventually,
  newId,
  recordAudit,
  runMigrations,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  withTenantTransaction,
  type OutboxRelay,
  type Pool,
  type Principal,
} from '@orchestra/lib';
import { member, startAuditForTest, type AuditUnderTest } from './test-harness';

// lib's outbox relay, run by a "producer" service with a schema of its own, delivering to the real
// audit service over gRPC: the path every service's audit events take.

const PRODUCER_ROLE = 'orchestra_auditproducer_tenant';
let audit: AuditUnderTest;
let producer: { pool: Pool; schema: string; drop: () => Promise<void>; emptyDir: string };
let relay: OutboxRelay;
const log = createMemoryLogger('producer');
const orgId = newId();
const actor: Principal = member(orgId, 'admin');

const produce = (action: string) =>
  withTenantTransaction(producer.pool, PRODUCER_ROLE, { orgId }, (tx) => recordAudit(tx, 'producer', actor, { action, targetType: 'Thing', targetId: newId(), diff: { after: { name: 'x' } } }));
const stored = async (eventId: string) => (await audit.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE id = $1', [eventId])).rows[0]!.n;
const outboxRow = async (eventId: string) =>
  (await producer.pool.query<{ attempts: number; delivered_at: Date | null; last_error_code: string | null }>('SELECT attempts, delivered_at, last_error_code FROM audit_outbox WHERE id = $1', [eventId])).rows[0]!;

beforeAll(async () => {
  audit = await startAuditForTest('auditrelay');
  const { schema, drop } = await createTestSchema('producer');
  const emptyDir = await mkdtemp(join(tmpdir(), 'orchestra-no-migrations-'));
  const pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'producer-test', log });
  await runMigrations({ pool, schema, dir: emptyDir, tenantRole: PRODUCER_ROLE, log });
  producer = { pool, schema, drop, emptyDir };
  relay = startRelay();
  await relay.start();
});

const startRelay = (): OutboxRelay =>
  createOutboxRelay({
    pool: producer.pool,
    schema: producer.schema,
    service: 'producer',
    auditGrpcAddress: audit.grpcAddress,
    internalToken: TEST_INTERNAL_TOKEN,
    log,
    metrics: createMetrics('producer', { defaultMetrics: false }),
    pollMs: 100,
  });

afterAll(async () => {
  await relay.stop();
  await producer.pool.end();
  await producer.drop();
  await rm(producer.emptyDir, { recursive: true, force: true });
  await audit.stop();
});

describe('outbox relay → AuditService', () => {
  it('delivers an event written in a tenant transaction exactly once', async () => {
    const event = await produce('thing.create');
    await eventually(async () => (await stored(event.eventId)) === 1, { what: 'event stored by audit' });
    // The relay commits delivered_at after audit answered: a moment after audit committed.
    await eventually(async () => (await outboxRow(event.eventId)).delivered_at !== null, { what: 'outbox row marked delivered' });
    const { data } = await audit.graphql<{ auditLog: { edges: Array<{ node: Record<string, unknown> }> } }>(
      'query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { id service action actor { id display } } } } }',
      { f: { action: 'thing.create' } },
      member(orgId, 'admin'),
    );
    expect(data!.auditLog.edges.map((e) => e.node)).toEqual([{ id: event.eventId, service: 'producer', action: 'thing.create', actor: { id: actor.id, display: actor.display } }]);
  });

  it('keeps events while audit is down and delivers them, once each, after it comes back', async () => {
    await audit.stopService();
    const events = [await produce('thing.update'), await produce('thing.update'), await produce('thing.delete')];
    // The relay finds audit gone, then probes it with the oldest event on each poll.
    await eventually(async () => (await outboxRow(events[0]!.eventId)).attempts >= 2, { what: 'repeated failed delivery attempts' });
    expect(await outboxRow(events[0]!.eventId)).toMatchObject({ delivered_at: null, last_error_code: 'UNAVAILABLE' });
    for (const event of events) expect((await outboxRow(event.eventId)).delivered_at).toBeNull();

    await audit.restart();
    await eventually(async () => (await Promise.all(events.map((e) => stored(e.eventId)))).every((n) => n === 1), { what: 'delivery after audit came back' });
    await eventually(async () => (await Promise.all(events.map((e) => outboxRow(e.eventId)))).every((row) => row.delivered_at !== null), { what: 'outbox rows marked delivered' });
    const verified = await audit.graphql<{ verifyAuditChain: { ok: boolean; checkedEvents: number } }>('{ verifyAuditChain { ok checkedEvents } }', {}, member(orgId, 'owner'));
    expect(verified.data!.verifyAuditChain).toEqual({ ok: true, checkedEvents: 4 });
  });

  it('stores a re-sent event once (a relay that crashed after sending, before marking it delivered)', async () => {
    const event = await produce('thing.archive');
    await eventually(async () => (await outboxRow(event.eventId)).delivered_at !== null, { what: 'first delivery' });
    // The relay crashes after audit stored the event and before its own commit: it comes back and finds
    // the row undelivered. (A live relay idle on LISTEN would see a row undelivered by hand, without a
    // NOTIFY, only at its longest sleep, 30 s.)
    await relay.stop();
    await producer.pool.query('UPDATE audit_outbox SET delivered_at = NULL WHERE id = $1', [event.eventId]);
    relay = startRelay();
    await relay.start();
    await eventually(async () => (await outboxRow(event.eventId)).delivered_at !== null, { what: 'second delivery' });
    expect(await stored(event.eventId)).toBe(1);
    expect((await outboxRow(event.eventId)).attempts).toBe(2);
  });
});
