import { auditV1 } from '@orchestra/proto';
import { newId, withTenantTransaction } from '@orchestra/lib';
import { GENESIS_HASH, eventHash } from '../chain/hash';
import { AUDIT_TENANT_ROLE } from '../migrate';
import { auditEvent, startAuditForTest, type AuditUnderTest } from '../test-harness';

let audit: AuditUnderTest;

beforeAll(async () => {
  audit = await startAuditForTest('auditrec');
});

afterAll(async () => {
  await audit.stop();
});

interface ChainRow {
  id: string;
  chain: string;
  chain_seq: string;
  prev_hash: string;
  hash: string;
}
const chainRows = async (chain: string) =>
  (await audit.pool.query<ChainRow>('SELECT id, chain, chain_seq, prev_hash, hash FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [chain])).rows;

describe('AuditService.Record', () => {
  it('stores each event once: a re-sent batch and a repeat inside a batch are duplicates', async () => {
    const orgId = newId();
    const batch = [auditEvent({ orgId }), auditEvent({ orgId })];
    await expect(audit.record(batch)).resolves.toEqual({ stored: 2, duplicates: 0 });
    await expect(audit.record(batch)).resolves.toEqual({ stored: 0, duplicates: 2 });
    const third = auditEvent({ orgId });
    await expect(audit.record([batch[0]!, third, third])).resolves.toEqual({ stored: 1, duplicates: 2 });
    const rows = await chainRows(orgId);
    expect(rows.map((r) => [r.id, Number(r.chain_seq)])).toEqual([
      [batch[0]!.eventId, 1],
      [batch[1]!.eventId, 2],
      [third.eventId, 3],
    ]);
    expect(audit.metrics.registry.getSingleMetric('orchestra_audit_events_duplicate_total')).toBeDefined();
  });

  it('chains each org separately and puts events without an org in the platform chain', async () => {
    const [orgA, orgB] = [newId(), newId()];
    const events = [auditEvent({ orgId: orgA }), auditEvent({ orgId: orgB }), auditEvent({ orgId: orgA }), auditEvent({ orgId: '', action: 'auth.login', outcome: 'UNAUTHENTICATED', actor: { kind: auditV1.ActorKind.ACTOR_KIND_ANONYMOUS, id: 'anonymous' } })];
    await expect(audit.record(events)).resolves.toEqual({ stored: 4, duplicates: 0 });

    const a = await chainRows(orgA);
    expect(a.map((r) => Number(r.chain_seq))).toEqual([1, 2]);
    expect(a[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(a[1]!.prev_hash).toBe(a[0]!.hash);
    expect((await chainRows(orgB)).map((r) => [r.id, r.prev_hash])).toEqual([[events[1]!.eventId, GENESIS_HASH]]);
    const platform = await chainRows('platform');
    expect(platform.map((r) => r.id)).toContain(events[3]!.eventId);
    const { rows } = await audit.pool.query('SELECT org_id, actor_kind, outcome FROM audit_events WHERE id = $1', [events[3]!.eventId]);
    expect(rows[0]).toEqual({ org_id: null, actor_kind: 'anonymous', outcome: 'UNAUTHENTICATED' });
  });

  it('hashes a canonical encoding: the stored hash is reproducible from the stored fields', async () => {
    const orgId = newId();
    const event = auditEvent({ orgId, diff: { z: 1, a: { y: [1, 'two', null], b: true } }, actor: { display: 'ada@example.com', userId: newId() } });
    await audit.record([event]);
    const [row] = await chainRows(orgId);
    const expected = eventHash(
      {
        id: event.eventId,
        orgId,
        sequence: 1,
        occurredAt: event.occurredAt!,
        service: 'identity',
        actor: { kind: 'user', id: 'someone', userId: event.actor!.userId, apiKeyId: null, display: 'ada@example.com' },
        action: event.action,
        targetType: event.targetType,
        targetId: event.targetId,
        outcome: 'success',
        requestId: event.requestId,
        ip: event.ip,
        userAgent: event.userAgent,
        // Key order does not matter to the canonical encoding.
        diff: { a: { b: true, y: [1, 'two', null] }, z: 1 },
      },
      GENESIS_HASH,
    );
    expect(row!.hash).toBe(expected);
  });

  it('keeps one unbroken chain when batches for the same org arrive at once', async () => {
    const orgId = newId();
    const batches = Array.from({ length: 8 }, () => Array.from({ length: 5 }, () => auditEvent({ orgId })));
    const results = await Promise.all(batches.map((b) => audit.record(b)));
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(40);
    const rows = await chainRows(orgId);
    expect(rows.map((r) => Number(r.chain_seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    rows.forEach((row, i) => expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash));
    const { rows: head } = await audit.pool.query('SELECT last_seq::int AS last_seq, last_hash FROM audit_chains WHERE chain = $1', [orgId]);
    expect(head[0]).toEqual({ last_seq: 40, last_hash: rows[39]!.hash });
  });

  it('stores a batch sent twice at once (the same ids, two orgs, one of them new) once, in unbroken chains', async () => {
    const [known, fresh] = [newId(), newId()];
    await audit.record([auditEvent({ orgId: known })]);
    const batch = Array.from({ length: 60 }, (_, i) => auditEvent({ orgId: i % 3 === 0 ? fresh : known }));
    const results = await Promise.all([audit.record(batch), audit.record(batch), audit.record(batch.slice(10, 30))]);
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(60);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(60 + 20);
    for (const [chain, count] of [[known, 41], [fresh, 20]] as const) {
      const rows = await chainRows(chain);
      expect(rows.map((r) => Number(r.chain_seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      rows.forEach((row, i) => expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash));
      const { rows: head } = await audit.pool.query('SELECT last_seq::int AS last_seq, last_hash FROM audit_chains WHERE chain = $1', [chain]);
      expect(head[0]).toEqual({ last_seq: count, last_hash: rows[count - 1]!.hash });
    }
  });

  it.each([
    ['eventId', { eventId: 'not-a-uuid' }, 'events[1].eventId'],
    ['orgId', { orgId: 'acme' }, 'events[1].orgId'],
    ['action', { action: ' ' }, 'events[1].action'],
    ['targetType', { targetType: '' }, 'events[1].targetType'],
    ['occurredAt', { occurredAt: undefined }, 'events[1].occurredAt'],
    ['actor kind', { actor: { kind: auditV1.ActorKind.ACTOR_KIND_UNSPECIFIED } }, 'events[1].actor.kind'],
  ])('refuses a batch with a bad %s, naming the field, and stores none of it', async (_name, override, field) => {
    const orgId = newId();
    const good = auditEvent({ orgId });
    await expect(audit.record([good, auditEvent({ orgId, ...override })])).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await chainRows(orgId)).toEqual([]);
  });

  it('refuses callers without the service token', async () => {
    const { AuditServiceClient } = auditV1;
    const { insecureCredentials, unaryCall } = await import('@orchestra/lib');
    const client = new AuditServiceClient(audit.grpcAddress, insecureCredentials());
    await expect(unaryCall(client, client.record.bind(client), { events: [auditEvent()] }, { internalToken: 'x'.repeat(40) })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    client.close();
  });

  it('stores text PostgreSQL would refuse (NUL, lone surrogates) instead of losing the event', async () => {
    const orgId = newId();
    await expect(audit.record([auditEvent({ orgId, targetId: 'a\u0000b', diff: { 'k\u0000': 'x\uD800y' } })])).resolves.toEqual({ stored: 1, duplicates: 0 });
    const { rows } = await audit.pool.query('SELECT target_id, diff FROM audit_events WHERE chain = $1', [orgId]);
    expect(rows[0]).toEqual({ target_id: 'a\uFFFDb', diff: { 'k\uFFFD': 'x\uFFFDy' } });
  });
});

describe('append-only storage', () => {
  it('lets the tenant role read its org only and write nothing', async () => {
    const [orgA, orgB] = [newId(), newId()];
    const [a, b] = [auditEvent({ orgId: orgA }), auditEvent({ orgId: orgB })];
    await audit.record([a, b]);
    const asTenant = <T>(fn: Parameters<typeof withTenantTransaction<T>>[3]) => withTenantTransaction(audit.pool, AUDIT_TENANT_ROLE, { orgId: orgA }, fn);
    const seen = await asTenant(async (tx) => (await tx.query<{ id: string }>('SELECT id FROM audit_events')).rows.map((r) => r.id));
    expect(seen).toEqual([a.eventId]);
    await expect(asTenant((tx) => tx.query("UPDATE audit_events SET outcome = 'success' WHERE id = $1", [a.eventId]))).rejects.toThrow(/permission denied/);
    await expect(asTenant((tx) => tx.query('DELETE FROM audit_events WHERE id = $1', [a.eventId]))).rejects.toThrow(/permission denied/);
    await expect(asTenant((tx) => tx.query('UPDATE audit_chains SET last_seq = 0'))).rejects.toThrow(/permission denied/);
  });

  it('refuses UPDATE and DELETE even for the owner role (only retention may delete)', async () => {
    const orgId = newId();
    const event = auditEvent({ orgId });
    await audit.record([event]);
    await expect(audit.pool.query("UPDATE audit_events SET outcome = 'FORBIDDEN' WHERE id = $1", [event.eventId])).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(audit.pool.query('DELETE FROM audit_events WHERE id = $1', [event.eventId])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(audit.pool.query('TRUNCATE audit_events CASCADE')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await chainRows(orgId)).toHaveLength(1);
  });
});
