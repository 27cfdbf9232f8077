import { auditV1 } from '@orchestra/proto';
import { newId, type Principal } from '@orchestra/lib';
import { auditEvent, member, startAuditForTest, type AuditUnderTest } from '../test-harness';

let audit: AuditUnderTest;
const orgA = newId();
const orgB = newId();
const alice = newId();
const bob = newId();
const keyId = newId();
const adminA = member(orgA, 'admin');
const ownerA = member(orgA, 'owner');
const adminB = member(orgB, 'admin');
const t = (iso: string) => new Date(iso);

// Org A's trail, in the order it was recorded (sequence 1..6).
const seeded = [
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-01T10:00:00Z'), action: 'member.invite', targetType: 'Membership', targetId: 'm1', actor: { id: alice, userId: alice, display: 'alice@a.test' } }),
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-02T10:00:00Z'), action: 'member.role.change', targetType: 'Membership', targetId: 'm1', outcome: 'FORBIDDEN', actor: { id: bob, userId: bob, display: 'bob@a.test' } }),
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-03T10:00:00Z'), service: 'orchestration', action: 'run.start', targetType: 'Run', targetId: 'r1', actor: { kind: auditV1.ActorKind.ACTOR_KIND_API_KEY, id: keyId, apiKeyId: keyId, display: '=HYPERLINK("http://evil")' } }),
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-04T10:00:00Z'), service: 'orchestration', action: 'run.cancel', targetType: 'Run', targetId: 'r1', outcome: 'BAD_USER_INPUT', actor: { id: alice, userId: alice } }),
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-05T10:00:00Z'), action: 'member.remove', targetType: 'Membership', targetId: 'm2', actor: { id: alice, userId: alice }, diff: { before: { note: 'a "quoted", multi\nline value' } } }),
  auditEvent({ orgId: orgA, occurredAt: t('2026-01-06T10:00:00Z'), action: 'apikey.create', targetType: 'ApiKey', targetId: 'k1', actor: { id: bob, userId: bob } }),
];
const secretOfB = auditEvent({ orgId: orgB, action: 'member.invite', actor: { id: alice, userId: alice } });

const idsOf = (connection: { edges: Array<{ node: { id: string } }> }) => connection.edges.map((e) => e.node.id);
const ids = (...indexes: number[]) => indexes.map((i) => seeded[i]!.eventId);

const LOG = `query Log($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id sequence action outcome targetId actor { kind id userId display } occurredAt diff hash prevHash } }
    pageInfo { hasNextPage endCursor }
  }
}`;
type LogData = { auditLog: { edges: Array<{ cursor: string; node: { id: string; sequence: number; actor: { kind: string } } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
const log = (filter: Record<string, unknown> | undefined, principal: Principal = adminA, extra: Record<string, unknown> = {}) =>
  audit.graphql<LogData>(LOG, { filter, ...extra }, principal);

beforeAll(async () => {
  audit = await startAuditForTest('auditq');
  await audit.record(seeded);
  await audit.record([secretOfB]);
});

afterAll(async () => {
  await audit.stop();
});

describe('auditLog', () => {
  it('lists the org trail newest first, with cursor pagination', async () => {
    const first = await log(undefined, adminA, { first: 4 });
    expect(first.errors).toBeUndefined();
    expect(idsOf(first.data!.auditLog)).toEqual(ids(5, 4, 3, 2));
    expect(first.data!.auditLog.edges.map((e) => e.node.sequence)).toEqual([6, 5, 4, 3]);
    expect(first.data!.auditLog.pageInfo.hasNextPage).toBe(true);
    const second = await log(undefined, ownerA, { first: 4, after: first.data!.auditLog.pageInfo.endCursor });
    expect(idsOf(second.data!.auditLog)).toEqual(ids(1, 0));
    expect(second.data!.auditLog.pageInfo).toEqual({ hasNextPage: false, endCursor: second.data!.auditLog.edges[1]!.cursor });
  });

  it.each([
    ['actor', { actorId: alice }, [4, 3, 0]],
    ['actor kind', { actorKind: 'API_KEY' }, [2]],
    ['exact action', { action: 'run.start' }, [2]],
    ['action prefix', { action: 'member.*' }, [4, 1, 0]],
    ['actions left out (the noise toggle)', { excludeActions: ['run.start', 'run.cancel', 'member.invite'] }, [5, 4, 1]],
    ['a prefix with actions left out', { action: 'member.*', excludeActions: ['member.remove'] }, [1, 0]],
    ['target', { targetType: 'Membership', targetId: 'm1' }, [1, 0]],
    ['success', { outcome: 'success' }, [5, 4, 2, 0]],
    ['any failure', { outcome: 'failure' }, [3, 1]],
    ['one error code', { outcome: 'FORBIDDEN' }, [1]],
    ['time range (inclusive)', { from: '2026-01-02T10:00:00Z', to: '2026-01-04T10:00:00.000Z' }, [3, 2, 1]],
    ['combined', { actorId: alice, outcome: 'success', from: '2026-01-02T00:00:00Z' }, [4]],
  ])('filters by %s', async (_name, filter, expected) => {
    const { data, errors } = await log(filter);
    expect(errors).toBeUndefined();
    expect(idsOf(data!.auditLog)).toEqual(ids(...expected));
  });

  it('shows actor, diff and hashes', async () => {
    const { data } = await log({ action: 'run.start' });
    expect(data!.auditLog.edges[0]!.node).toMatchObject({ actor: { kind: 'API_KEY', id: keyId, display: '=HYPERLINK("http://evil")' }, outcome: 'success', targetId: 'r1' });
    const remove = await log({ action: 'member.remove' });
    expect(remove.data!.auditLog.edges[0]!.node).toMatchObject({ diff: { before: { note: 'a "quoted", multi\nline value' } }, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it.each([
    ['first too large', { first: 500 }, 'first'],
    ['first zero', { first: 0 }, 'first'],
    ['a foreign cursor', { after: 'bm90LWEtY3Vyc29y' }, 'after'],
    ['an unknown outcome', { filter: { outcome: 'MAYBE' } }, 'filter.outcome'],
    ['an empty actor', { filter: { actorId: ' ' } }, 'filter.actorId'],
    ['a wildcard in the middle', { filter: { action: 'member.*.x' } }, 'filter.action'],
    ['more than 20 actions left out', { filter: { excludeActions: Array.from({ length: 21 }, (_, i) => `a.${i}`) } }, 'filter.excludeActions'],
    ['an empty action left out', { filter: { excludeActions: ['auth.refresh', ' '] } }, 'filter.excludeActions[1]'],
    ['from after to', { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, 'filter.from'],
  ])('refuses %s, naming the field', async (_name, variables, field) => {
    const { data, errors } = await audit.graphql(LOG, variables, adminA);
    expect(data).toBeNull();
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('refuses a time that is not ISO-8601', async () => {
    const { errors } = await log({ from: 'yesterday' });
    expect(errors?.[0]?.extensions['code']).toBe('BAD_USER_INPUT');
    expect(errors?.[0]?.message).toContain('DateTime expects an ISO-8601 date-time');
  });
});

describe('who may read the audit log', () => {
  const queries: Array<[string, string, Record<string, unknown>]> = [
    ['auditLog', LOG, {}],
    ['auditEvent', 'query($id: ID!) { auditEvent(id: $id) { id } }', { id: seeded[0]!.eventId }],
    ['auditLogExport', 'query { auditLogExport(format: CSV) { content } }', {}],
    ['verifyAuditChain', 'query { verifyAuditChain { ok } }', {}],
    ['auditArchives', 'query { auditArchives { id } }', {}],
    ['User.activity', 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { activity { edges { node { id } } } } } }', { r: [{ __typename: 'User', id: alice }] }],
  ];

  it.each(queries)('a viewer and an operator get FORBIDDEN from %s', async (_name, query, variables) => {
    for (const role of ['viewer', 'operator'] as const) {
      const { errors } = await audit.graphql(query, variables, member(orgA, role));
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    }
  });

  it('an API key gets FORBIDDEN', async () => {
    const key: Principal = { kind: 'apiKey', id: keyId, apiKeyId: keyId, orgId: orgA, scopes: ['runs:read', 'runs:write'], requestId: 'req_key' };
    const { errors } = await audit.graphql(LOG, {}, key);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' });
  });

  it('a user without an organization gets FORBIDDEN', async () => {
    const { errors } = await audit.graphql(LOG, {}, { ...adminA, orgId: undefined });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_ORGANIZATION' });
  });
});

describe('tenant isolation', () => {
  it("shows org B's admin only org B's events, whatever the filter", async () => {
    const { data } = await log(undefined, adminB);
    expect(idsOf(data!.auditLog)).toEqual([secretOfB.eventId]);
    expect(idsOf((await log({ actorId: alice }, adminB)).data!.auditLog)).toEqual([secretOfB.eventId]);
    expect(idsOf((await log({ action: 'run.start' }, adminB)).data!.auditLog)).toEqual([]);
  });

  it("does not return another org's event by id", async () => {
    const other = await audit.graphql<{ auditEvent: unknown }>('query($id: ID!) { auditEvent(id: $id) { id } }', { id: seeded[0]!.eventId }, adminB);
    expect(other.data).toEqual({ auditEvent: null });
    const own = await audit.graphql<{ auditEvent: { id: string } }>('query($id: ID!) { auditEvent(id: $id) { id } }', { id: seeded[0]!.eventId }, adminA);
    expect(own.data).toEqual({ auditEvent: { id: seeded[0]!.eventId } });
  });

  it('exports and verifies only the caller org', async () => {
    const exported = await audit.graphql<{ auditLogExport: { content: string; eventCount: number } }>('query { auditLogExport(format: JSON_LINES) { content eventCount } }', {}, adminB);
    expect(exported.data!.auditLogExport.eventCount).toBe(1);
    expect(exported.data!.auditLogExport.content).toContain(secretOfB.eventId);
    const verified = await audit.graphql<{ verifyAuditChain: { ok: boolean; checkedEvents: number } }>('query { verifyAuditChain { ok checkedEvents } }', {}, adminB);
    expect(verified.data).toEqual({ verifyAuditChain: { ok: true, checkedEvents: 1 } });
  });
});

describe('User.activity (federation)', () => {
  const ACTIVITY = `query($r: [_Any!]!, $filter: AuditLogFilter) {
    _entities(representations: $r) { ... on User { id activity(filter: $filter) { edges { node { id action } } } } }
  }`;
  type ActivityData = { _entities: Array<{ id: string; activity: { edges: Array<{ node: { id: string } }> } }> };

  it("lists what a user did in the caller's org, newest first", async () => {
    const { data, errors } = await audit.graphql<ActivityData>(ACTIVITY, { r: [{ __typename: 'User', id: alice }, { __typename: 'User', id: bob }] }, adminA);
    expect(errors).toBeUndefined();
    expect(idsOf(data!._entities[0]!.activity)).toEqual(ids(4, 3, 0));
    expect(idsOf(data!._entities[1]!.activity)).toEqual(ids(5, 1));
    const filtered = await audit.graphql<ActivityData>(ACTIVITY, { r: [{ __typename: 'User', id: alice }], filter: { outcome: 'failure' } }, adminA);
    expect(idsOf(filtered.data!._entities[0]!.activity)).toEqual(ids(3));
  });

  it("does not show what the user did in another org", async () => {
    const { data } = await audit.graphql<ActivityData>(ACTIVITY, { r: [{ __typename: 'User', id: alice }] }, adminB);
    expect(idsOf(data!._entities[0]!.activity)).toEqual([secretOfB.eventId]);
  });
});

describe('auditLogExport', () => {
  const EXPORT = `query($format: AuditExportFormat!, $filter: AuditLogFilter, $first: Int, $after: String) {
    auditLogExport(format: $format, filter: $filter, first: $first, after: $after) { format contentType fileName content eventCount nextCursor }
  }`;
  type ExportData = { auditLogExport: { format: string; contentType: string; fileName: string; content: string; eventCount: number; nextCursor: string | null } };
  const exportPage = (variables: Record<string, unknown>) => audit.graphql<ExportData>(EXPORT, variables, adminA);

  it('exports a filtered range as JSON lines, oldest first, with every chained field', async () => {
    const { data, errors } = await exportPage({ format: 'JSON_LINES', filter: { action: 'member.*' } });
    expect(errors).toBeUndefined();
    const page = data!.auditLogExport;
    expect(page).toMatchObject({ format: 'JSON_LINES', contentType: 'application/x-ndjson', eventCount: 3, nextCursor: null, fileName: `audit-log-${orgA}-all_all.jsonl` });
    const lines = page.content.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(ids(0, 1, 4));
    expect(lines[0]).toMatchObject({ orgId: orgA, sequence: 1, action: 'member.invite', actor: { kind: 'user', id: alice, display: 'alice@a.test' }, prevHash: '0'.repeat(64) });
    expect(lines[2].diff).toEqual({ before: { note: 'a "quoted", multi\nline value' } });
  });

  it('exports CSV in pages whose concatenation is one file with one header', async () => {
    const first = await exportPage({ format: 'CSV', first: 4 });
    expect(first.data!.auditLogExport).toMatchObject({ contentType: 'text/csv; charset=utf-8', eventCount: 4 });
    expect(first.data!.auditLogExport.nextCursor).not.toBeNull();
    const second = await exportPage({ format: 'CSV', first: 4, after: first.data!.auditLogExport.nextCursor });
    expect(second.data!.auditLogExport).toMatchObject({ eventCount: 2, nextCursor: null });
    const csv = first.data!.auditLogExport.content + second.data!.auditLogExport.content;

    const records = parseCsv(csv);
    expect(records[0]).toEqual(expect.arrayContaining(['id', 'sequence', 'occurredAt', 'actorId', 'action', 'outcome', 'diff', 'prevHash', 'hash']));
    expect(records).toHaveLength(7);
    const header = records[0]!;
    const rows = records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
    expect(rows.map((r) => r['id'])).toEqual(ids(0, 1, 2, 3, 4, 5));
    // A value a spreadsheet would run as a formula is defused; quotes, commas and newlines survive.
    expect(rows[2]!['actorDisplay']).toBe('\'=HYPERLINK("http://evil")');
    expect(JSON.parse(rows[4]!['diff']!)).toEqual({ before: { note: 'a "quoted", multi\nline value' } });
  });

  it('puts the export itself on the record (once per export)', async () => {
    const before = await outboxActions();
    await exportPage({ format: 'CSV', filter: { outcome: 'failure' } });
    const after = await outboxActions();
    expect(after.filter((a) => a.action === 'audit.export').length - before.filter((a) => a.action === 'audit.export').length).toBe(1);
    expect(after.at(-1)).toMatchObject({ action: 'audit.export', orgId: orgA, diff: { format: 'CSV', filter: { outcome: 'failure' } } });
  });

  it('refuses a page larger than 10000', async () => {
    const { errors } = await exportPage({ format: 'CSV', first: 10_001 });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

async function outboxActions(): Promise<Array<{ action: string; orgId: string; diff: unknown }>> {
  const { rows } = await audit.pool.query<{ event: { action: string; orgId: string; diff: unknown } }>('SELECT event FROM audit_outbox ORDER BY created_at, id');
  return rows.map((r) => r.event);
}

/** A strict RFC 4180 reader, so the test checks the quoting rather than trusting it. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  if (cell !== '' || record.length > 0) records.push([...record, cell]);
  return records;
}
