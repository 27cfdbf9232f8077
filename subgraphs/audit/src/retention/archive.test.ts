import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryLogger, newId, withSystemTransaction } from '@orchestra/lib';
import { latestCheckpoint, listCheckpoints } from '../store/checkpoints';
import { auditEvent, member, startAuditForTest, type AuditUnderTest } from '../test-harness';
import { archiveChain, archiveExpired, verifyArchiveFile } from './archive';

let audit: AuditUnderTest;
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

beforeAll(async () => {
  // The default window: a year.
  audit = await startAuditForTest('auditret');
});

afterAll(async () => {
  await audit.stop();
});

const VERIFY = 'query { verifyAuditChain { ok checkedEvents firstSequence lastSequence anchor break { reason sequence } } }';
const remaining = async (chain: string) =>
  (await audit.pool.query<{ seq: number }>('SELECT chain_seq::int AS seq FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [chain])).rows.map((r) => r.seq);
const outboxEvents = async () => (await audit.pool.query<{ event: Record<string, any> }>('SELECT event FROM audit_outbox ORDER BY created_at, id')).rows.map((r) => r.event);

describe('retention', () => {
  it('archives the expired start of each chain to a file, deletes it, and keeps the rest verifiable', async () => {
    const orgId = newId();
    // Sequence 1-3 are old, 4-5 recent, 6 old but recorded after recent ones (so it is kept for now).
    const events = [daysAgo(400), daysAgo(390), daysAgo(380), daysAgo(10), daysAgo(1), daysAgo(500)].map((occurredAt) => auditEvent({ orgId, occurredAt }));
    await audit.record(events);
    const platformOld = auditEvent({ orgId: '', occurredAt: daysAgo(700), action: 'auth.login', outcome: 'UNAUTHENTICATED' });
    await audit.record([platformOld]);

    const result = await audit.handle.runRetention();
    expect(result.failedChains).toEqual([]);
    expect(await remaining(orgId)).toEqual([4, 5, 6]);
    expect((await audit.pool.query('SELECT 1 FROM audit_events WHERE id = $1', [platformOld.eventId])).rowCount).toBe(0);

    const checkpoint = (await latestCheckpoint(audit.pool, orgId))!;
    expect(checkpoint).toMatchObject({ fromSeq: 1, throughSeq: 3, eventCount: 3, firstPrevHash: '0'.repeat(64) });
    const lines = (await readFile(join(audit.archiveDir, checkpoint.archiveFile), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(events.slice(0, 3).map((e) => e.eventId));
    expect(lines[2].hash).toBe(checkpoint.lastHash);
    await expect(verifyArchiveFile(audit.archiveDir, checkpoint)).resolves.toEqual({ ok: true, eventCount: 3, problem: null });

    // The chain still verifies: event 4 links to the archive's last hash.
    const { data } = await audit.graphql<{ verifyAuditChain: unknown }>(VERIFY, {}, member(orgId, 'admin'));
    expect(data!.verifyAuditChain).toEqual({ ok: true, checkedEvents: 3, firstSequence: 4, lastSequence: 6, anchor: 'ARCHIVE_CHECKPOINT', break: null });
    const archives = await audit.graphql<{ auditArchives: Array<Record<string, unknown>> }>(
      'query { auditArchives { fromSequence throughSequence eventCount archiveFile archiveSha256 lastHash } }',
      {},
      member(orgId, 'admin'),
    );
    expect(archives.data!.auditArchives).toEqual([
      { fromSequence: 1, throughSequence: 3, eventCount: 3, archiveFile: checkpoint.archiveFile, archiveSha256: checkpoint.archiveSha256, lastHash: checkpoint.lastHash },
    ]);

    // Deleting from the trail is itself recorded, as the audit service's act.
    const recorded = (await outboxEvents()).filter((e) => e['action'] === 'audit.archive' && e['targetId'] === orgId);
    expect(recorded).toEqual([expect.objectContaining({ orgId, actor: expect.objectContaining({ kind: 'service', id: 'audit' }), diff: expect.objectContaining({ fromSequence: 1, throughSequence: 3, eventCount: 3 }) })]);

    // A second pass finds nothing more to archive.
    await expect(audit.handle.runRetention()).resolves.toMatchObject({ archivedEvents: 0, files: 0 });
  });

  it('continues a chain from its last checkpoint, in files of bounded size', async () => {
    const orgId = newId();
    await audit.record(Array.from({ length: 7 }, (_, i) => auditEvent({ orgId, occurredAt: daysAgo(400 - i) })));
    const log = createMemoryLogger();
    const settings = { ...audit.handle.retention, maxEventsPerArchive: 3 };
    const written = await archiveExpired(audit.pool, orgId, daysAgo(365), settings, log);
    expect(written.map((c) => [c.fromSeq, c.throughSeq])).toEqual([
      [1, 3],
      [4, 6],
      [7, 7],
    ]);
    expect(written[1]!.firstPrevHash).toBe(written[0]!.lastHash);
    expect(written[2]!.firstPrevHash).toBe(written[1]!.lastHash);
    for (const checkpoint of written) await expect(verifyArchiveFile(audit.archiveDir, checkpoint)).resolves.toMatchObject({ ok: true });
    expect(await readdir(join(audit.archiveDir, orgId))).toHaveLength(3);

    // Everything is archived: the chain verifies against the head, and new events link to the archive.
    expect(await remaining(orgId)).toEqual([]);
    const admin = member(orgId, 'admin');
    expect((await audit.graphql<{ verifyAuditChain: { ok: boolean } }>(VERIFY, {}, admin)).data!.verifyAuditChain).toMatchObject({ ok: true, checkedEvents: 0 });
    await audit.record([auditEvent({ orgId })]);
    expect((await audit.graphql<{ verifyAuditChain: unknown }>(VERIFY, {}, admin)).data!.verifyAuditChain).toMatchObject({ ok: true, checkedEvents: 1, firstSequence: 8, anchor: 'ARCHIVE_CHECKPOINT' });
  });

  it('detects an archive file that was edited', async () => {
    const orgId = newId();
    await audit.record([auditEvent({ orgId, occurredAt: daysAgo(400) }), auditEvent({ orgId, occurredAt: daysAgo(399) })]);
    const [checkpoint] = await archiveExpired(audit.pool, orgId, daysAgo(365), audit.handle.retention, createMemoryLogger());
    const file = join(audit.archiveDir, checkpoint!.archiveFile);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"outcome":"success"', '"outcome":"FORBIDDEN"'));
    await expect(verifyArchiveFile(audit.archiveDir, checkpoint!)).resolves.toMatchObject({ ok: false, problem: 'event 1 was changed after it was archived' });
  });

  it('refuses to archive or delete a broken chain', async () => {
    const orgId = newId();
    const events = [auditEvent({ orgId, occurredAt: daysAgo(400) }), auditEvent({ orgId, occurredAt: daysAgo(399) })];
    await audit.record(events);
    const client = await audit.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query("UPDATE audit_events SET action = 'nothing.happened' WHERE id = $1", [events[1]!.eventId]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await expect(archiveChain(audit.pool, orgId, daysAgo(365), audit.handle.retention, createMemoryLogger())).rejects.toMatchObject({
      code: 'CONFLICT',
      reason: 'AUDIT_CHAIN_BROKEN',
      message: expect.stringContaining('broken at sequence 2'),
    });
    expect(await remaining(orgId)).toEqual([1, 2]);
    expect(await listCheckpoints(audit.pool, orgId)).toEqual([]);
    await expect(readdir(join(audit.archiveDir, orgId))).resolves.toEqual([]);
    // The timer's pass reports it and carries on with the other chains.
    const pass = await audit.handle.runRetention();
    expect(pass.failedChains).toContain(orgId);
    expect(audit.log.lines.some((l) => l['msg'] === 'audit retention failed for a chain' && l['chain'] === orgId)).toBe(true);
  });

  it('lets two retention runs on one chain never archive the same range twice', async () => {
    const orgId = newId();
    await audit.record(Array.from({ length: 4 }, (_, i) => auditEvent({ orgId, occurredAt: daysAgo(400 - i) })));
    const log = createMemoryLogger();
    await withSystemTransaction(audit.pool, async (tx) => {
      // Another replica holds the chain's retention lock...
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('orchestra-audit-retention:' || $1))", [orgId]);
      // ...so this run skips the chain instead of waiting or archiving it twice.
      await expect(archiveChain(audit.pool, orgId, daysAgo(365), audit.handle.retention, log)).resolves.toBeUndefined();
    });
    await expect(archiveChain(audit.pool, orgId, daysAgo(365), audit.handle.retention, log)).resolves.toMatchObject({ fromSeq: 1, throughSeq: 4 });
  });
});

describe('archiveExpiredAuditEvents mutation', () => {
  const MUTATION = 'mutation { archiveExpiredAuditEvents { fromSequence throughSequence eventCount } }';

  it("lets an owner run retention for their org now, and only their org", async () => {
    const [orgId, otherOrg] = [newId(), newId()];
    await audit.record([auditEvent({ orgId, occurredAt: daysAgo(400) }), auditEvent({ orgId }), auditEvent({ orgId: otherOrg, occurredAt: daysAgo(400) })]);
    const owner = member(orgId, 'owner');
    const { data, errors } = await audit.graphql(MUTATION, {}, owner);
    expect(errors).toBeUndefined();
    expect(data).toEqual({ archiveExpiredAuditEvents: [{ fromSequence: 1, throughSequence: 1, eventCount: 1 }] });
    expect(await remaining(orgId)).toEqual([2]);
    expect(await remaining(otherOrg)).toEqual([1]);
    const recorded = (await outboxEvents()).filter((e) => e['action'] === 'audit.archive' && e['orgId'] === orgId);
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'success', actor: expect.objectContaining({ kind: 'user', id: owner.id }) })]);

    // Nothing left to archive: the run is still on the record.
    await expect(audit.graphql(MUTATION, {}, owner)).resolves.toMatchObject({ data: { archiveExpiredAuditEvents: [] } });
    expect((await outboxEvents()).filter((e) => e['action'] === 'audit.archive' && e['orgId'] === orgId)).toHaveLength(2);
  });

  it('refuses an admin (owners only) and records the refusal', async () => {
    const orgId = newId();
    await audit.record([auditEvent({ orgId, occurredAt: daysAgo(400) })]);
    const admin = member(orgId, 'admin');
    const { errors } = await audit.graphql(MUTATION, {}, admin);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(await remaining(orgId)).toEqual([1]);
    const recorded = (await outboxEvents()).filter((e) => e['action'] === 'audit.archive' && e['orgId'] === orgId);
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'FORBIDDEN', actor: expect.objectContaining({ id: admin.id }) })]);
  });
});
