import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { newId } from '@orchestra/lib';
import { checkChain } from './check';
import { eventHash, type ChainedEvent } from './hash';
import { verifyChain } from './verify';
import { auditEvent, member, startAuditForTest, type AuditUnderTest } from '../test-harness';

let audit: AuditUnderTest;

beforeAll(async () => {
  audit = await startAuditForTest('auditver');
});

afterAll(async () => {
  await audit.stop();
});

const VERIFY = `query($from: DateTime, $to: DateTime) {
  verifyAuditChain(from: $from, to: $to) {
    ok checkedEvents firstSequence lastSequence anchor
    break { reason sequence expected actual message event { id sequence outcome } }
  }
}`;
interface Verification {
  ok: boolean;
  checkedEvents: number;
  firstSequence: number | null;
  lastSequence: number | null;
  anchor: string;
  break: null | { reason: string; sequence: number; expected: string | null; actual: string | null; message: string; event: { id: string; sequence: number; outcome: string } | null };
}

/** A fresh org with `n` events a day apart (2026-03-01, 03-02, ...); resolves to their ids in order. */
async function orgWithEvents(n: number): Promise<{ orgId: string; ids: string[] }> {
  const orgId = newId();
  const events = Array.from({ length: n }, (_, i) => auditEvent({ orgId, occurredAt: new Date(Date.UTC(2026, 2, 1 + i, 12)) }));
  await audit.record(events);
  return { orgId, ids: events.map((e) => e.eventId) };
}

async function verify(orgId: string, range: { from?: string; to?: string } = {}): Promise<Verification> {
  const { data, errors } = await audit.graphql<{ verifyAuditChain: Verification }>(VERIFY, range, member(orgId, 'admin'));
  expect(errors).toBeUndefined();
  return data!.verifyAuditChain;
}

/** What an intruder with database access does: bypass the append-only trigger and change rows. */
async function tamper(sql: string, params: unknown[]): Promise<void> {
  const client = await audit.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, params);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

describe('verifyAuditChain', () => {
  it('passes an untouched chain from genesis', async () => {
    const { orgId } = await orgWithEvents(5);
    await expect(verify(orgId)).resolves.toEqual({ ok: true, checkedEvents: 5, firstSequence: 1, lastSequence: 5, anchor: 'GENESIS', break: null });
  });

  it('reports an event edited directly in PostgreSQL at that event', async () => {
    const { orgId, ids } = await orgWithEvents(5);
    await tamper("UPDATE audit_events SET outcome = 'FORBIDDEN' WHERE id = $1", [ids[2]]);
    const result = await verify(orgId);
    expect(result).toMatchObject({ ok: false, checkedEvents: 2, break: { reason: 'HASH_MISMATCH', sequence: 3, event: { id: ids[2], sequence: 3, outcome: 'FORBIDDEN' } } });
    expect(result.break!.message).toContain('was changed after it was recorded');
    expect(result.break!.expected).not.toBe(result.break!.actual);
  });

  it('reports an edited and re-hashed event where the next one no longer links to it', async () => {
    const { orgId, ids } = await orgWithEvents(4);
    const { rows } = await audit.pool.query('SELECT * FROM audit_events WHERE id = $1', [ids[1]]);
    const row = rows[0];
    const forged = eventHash(
      {
        id: row.id,
        orgId: row.org_id,
        sequence: 2,
        occurredAt: row.occurred_at,
        service: row.service,
        actor: { kind: row.actor_kind, id: 'someone-else', userId: row.actor_user_id, apiKeyId: row.actor_api_key_id, display: row.actor_display },
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        outcome: row.outcome,
        requestId: row.request_id,
        ip: row.ip,
        userAgent: row.user_agent,
        diff: row.diff,
      },
      row.prev_hash,
    );
    await tamper("UPDATE audit_events SET actor_id = 'someone-else', hash = $2 WHERE id = $1", [ids[1], forged]);
    await expect(verify(orgId)).resolves.toMatchObject({ ok: false, break: { reason: 'PREVIOUS_HASH_MISMATCH', sequence: 3, event: { id: ids[2] }, actual: row.hash, expected: forged } });
  });

  it('reports a re-hashed last event against the chain head', async () => {
    const { orgId, ids } = await orgWithEvents(3);
    const { rows } = await audit.pool.query('SELECT * FROM audit_events WHERE id = $1', [ids[2]]);
    const row = rows[0];
    const forged = eventHash(
      {
        id: row.id,
        orgId: row.org_id,
        sequence: 3,
        occurredAt: row.occurred_at,
        service: row.service,
        actor: { kind: row.actor_kind, id: row.actor_id, userId: row.actor_user_id, apiKeyId: row.actor_api_key_id, display: row.actor_display },
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        outcome: 'success-after-all',
        requestId: row.request_id,
        ip: row.ip,
        userAgent: row.user_agent,
        diff: row.diff,
      },
      row.prev_hash,
    );
    await tamper("UPDATE audit_events SET outcome = 'success-after-all', hash = $2 WHERE id = $1", [ids[2], forged]);
    const result = await verify(orgId);
    expect(result).toMatchObject({ ok: false, checkedEvents: 3, break: { reason: 'HASH_MISMATCH', sequence: 3, event: { id: ids[2] }, expected: row.hash, actual: forged } });
    expect(result.break!.message).toContain('does not match the chain head');
  });

  it('reports a deleted event as missing where the gap starts', async () => {
    const { orgId, ids } = await orgWithEvents(5);
    await tamper('DELETE FROM audit_events WHERE id = $1', [ids[1]]);
    await expect(verify(orgId)).resolves.toMatchObject({ ok: false, checkedEvents: 1, break: { reason: 'MISSING_EVENTS', sequence: 2, event: { id: ids[2] } } });
  });

  it('reports deleted events at the end of the chain (the chain head remembers them)', async () => {
    const { orgId, ids } = await orgWithEvents(4);
    await tamper('DELETE FROM audit_events WHERE id = ANY($1::uuid[])', [[ids[2], ids[3]]]);
    await expect(verify(orgId)).resolves.toMatchObject({ ok: false, checkedEvents: 2, break: { reason: 'MISSING_EVENTS', sequence: 3, event: null } });
  });

  it('reports deleted events at the start of the chain', async () => {
    const { orgId, ids } = await orgWithEvents(3);
    await tamper('DELETE FROM audit_events WHERE id = $1', [ids[0]]);
    await expect(verify(orgId)).resolves.toMatchObject({ ok: false, checkedEvents: 0, break: { reason: 'MISSING_EVENTS', sequence: 1 } });
  });

  it('verifies a time range, anchored on the event before it', async () => {
    const { orgId, ids } = await orgWithEvents(6);
    await tamper("UPDATE audit_events SET target_id = 'other' WHERE id = $1", [ids[4]]);
    // Events 2..4 (March 2nd to 4th) are intact: the range passes, linked to event 1.
    await expect(verify(orgId, { from: '2026-03-02T00:00:00Z', to: '2026-03-04T23:59:59Z' })).resolves.toEqual({
      ok: true,
      checkedEvents: 3,
      firstSequence: 2,
      lastSequence: 4,
      anchor: 'PREVIOUS_EVENT',
      break: null,
    });
    await expect(verify(orgId, { from: '2026-03-04T00:00:00Z' })).resolves.toMatchObject({ ok: false, checkedEvents: 1, break: { reason: 'HASH_MISMATCH', sequence: 5, event: { id: ids[4] } } });
  });

  it('passes an empty range and an org without events', async () => {
    const { orgId } = await orgWithEvents(2);
    await expect(verify(orgId, { from: '2030-01-01T00:00:00Z' })).resolves.toMatchObject({ ok: true, checkedEvents: 0, anchor: 'NONE' });
    await expect(verify(newId())).resolves.toMatchObject({ ok: true, checkedEvents: 0 });
  });

  it('checks the platform chain, which no tenant can query, for operators', async () => {
    const event = auditEvent({ orgId: '', action: 'auth.login', outcome: 'UNAUTHENTICATED' });
    await audit.record([event, auditEvent({ orgId: '', action: 'auth.login' })]);
    await expect(checkChain(audit.pool, 'platform', audit.archiveDir, audit.handle.witness)).resolves.toMatchObject({ ok: true, chain: { ok: true, anchor: 'GENESIS' }, archives: [] });
    await tamper("UPDATE audit_events SET outcome = 'success' WHERE id = $1", [event.eventId]);
    await expect(checkChain(audit.pool, 'platform', audit.archiveDir, audit.handle.witness)).resolves.toMatchObject({ ok: false, chain: { break: { reason: 'HASH_MISMATCH', eventId: event.eventId } } });
  });

  it('refuses from later than to', async () => {
    const { errors } = await audit.graphql(VERIFY, { from: '2026-03-05T00:00:00Z', to: '2026-03-01T00:00:00Z' }, member(newId(), 'owner'));
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
  });
});

/** An audit_events row as the hash sees it. */
const chained = (row: Record<string, any>): ChainedEvent => ({
  id: row['id'],
  orgId: row['org_id'],
  sequence: Number(row['chain_seq']),
  occurredAt: row['occurred_at'],
  service: row['service'],
  actor: { kind: row['actor_kind'], id: row['actor_id'], userId: row['actor_user_id'], apiKeyId: row['actor_api_key_id'], display: row['actor_display'] },
  action: row['action'],
  targetType: row['target_type'],
  targetId: row['target_id'],
  outcome: row['outcome'],
  requestId: row['request_id'],
  ip: row['ip'],
  userAgent: row['user_agent'],
  diff: row['diff'],
});

/**
 * The careful intruder: changes the outcome of event `seq` and recomputes the hash of every event
 * from there on, and the chain head, so every link inside the database holds.
 */
async function rewriteChain(orgId: string, seq: number, outcome: string): Promise<void> {
  const { rows } = await audit.pool.query('SELECT * FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [orgId]);
  let prev = rows[seq - 2]?.hash ?? '0'.repeat(64);
  for (const row of rows.slice(seq - 1)) {
    const event = chained(row);
    if (event.sequence === seq) event.outcome = outcome;
    const hash = eventHash(event, prev);
    await tamper('UPDATE audit_events SET outcome = $2, prev_hash = $3, hash = $4 WHERE id = $1', [row.id, event.outcome, prev, hash]);
    prev = hash;
  }
  await tamper('UPDATE audit_chains SET last_hash = $2 WHERE chain = $1', [orgId, prev]);
}

describe('chain heads witnessed outside the database', () => {
  it('catches a rewrite whose hashes were all recomputed, which the links alone cannot', async () => {
    const { orgId, ids } = await orgWithEvents(5);
    await expect(audit.handle.witnessHeads()).resolves.toBeGreaterThanOrEqual(1);
    await expect(verify(orgId)).resolves.toMatchObject({ ok: true, checkedEvents: 5 });
    await rewriteChain(orgId, 2, 'success-after-all');
    // Inside the database everything links up again.
    await expect(verifyChain(audit.pool, orgId, {})).resolves.toMatchObject({ ok: true, checkedEvents: 5 });
    const result = await verify(orgId);
    expect(result).toMatchObject({ ok: false, checkedEvents: 4, break: { reason: 'WITNESS_MISMATCH', sequence: 5, event: { id: ids[4] } } });
    expect(result.break!.message).toMatch(/is not the event witnessed outside the database at that position on .*: the chain was rewritten and re-hashed at or before sequence 5/);
  });

  it('catches the end of a chain cut off with its head rewound', async () => {
    const { orgId, ids } = await orgWithEvents(4);
    await audit.handle.witnessHeads();
    const { rows } = await audit.pool.query('SELECT hash FROM audit_events WHERE id = $1', [ids[1]]);
    await tamper('DELETE FROM audit_events WHERE id = ANY($1::uuid[])', [[ids[2], ids[3]]]);
    await tamper('UPDATE audit_chains SET last_seq = 2, last_hash = $2 WHERE chain = $1', [orgId, rows[0].hash]);
    await expect(verifyChain(audit.pool, orgId, {})).resolves.toMatchObject({ ok: true, checkedEvents: 2 });
    const result = await verify(orgId);
    expect(result).toMatchObject({ ok: false, checkedEvents: 2, break: { reason: 'MISSING_EVENTS', sequence: 3, event: null } });
    expect(result.break!.message).toMatch(/^events 3 to 4 of the chain are missing \(the chain was witnessed outside the database at sequence 4 on /);
  });

  it('witnesses only heads that moved, in a file outside the database, and remembers them across restarts', async () => {
    const { orgId } = await orgWithEvents(2);
    await audit.handle.witnessHeads();
    await expect(audit.handle.witnessHeads()).resolves.toBe(0);
    await audit.record([auditEvent({ orgId })]);
    await expect(audit.handle.witnessHeads()).resolves.toBe(1);
    const witnessed = await audit.handle.witness.read(orgId);
    expect(witnessed.heads.map((h) => h.seq)).toEqual([2, 3]);
    // Each chain has a folder of its own in the witness directory (verifying one reads only it).
    expect(readdirSync(join(audit.witnessDir, orgId))).toEqual([expect.stringMatching(/^witness-.+\.jsonl$/)]);
    const { rows } = await audit.pool.query('SELECT last_hash FROM audit_chains WHERE chain = $1', [orgId]);
    expect(witnessed.heads.at(-1)!.hash).toBe(rows[0].last_hash);
    await audit.restart();
    await expect(audit.handle.witnessHeads()).resolves.toBe(0);
    const { data } = await audit.graphql<{ verifyAuditChain: { ok: boolean; witnessedHeadsChecked: number } }>(
      '{ verifyAuditChain { ok witnessedHeadsChecked } }',
      {},
      member(orgId, 'admin'),
    );
    expect(data!.verifyAuditChain).toEqual({ ok: true, witnessedHeadsChecked: 2 });
  });
});

