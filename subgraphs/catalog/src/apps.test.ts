import { newId } from '@orchestra/lib';
import { APP_FIELDS, startCatalog, userOf, type CatalogUnderTest } from './test-kit';

let catalog: CatalogUnderTest;
const orgId = newId();
const admin = userOf(orgId, 'admin');

beforeAll(async () => {
  catalog = await startCatalog();
});

afterAll(async () => {
  await catalog.stop();
});

const CREATE = `mutation ($input: CreateAppInput!) { createApp(input: $input) { ${APP_FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAppInput!) { updateApp(id: $id, input: $input) { ${APP_FIELDS} } }`;

async function createApp(input: Record<string, unknown>) {
  const { data, errors } = await catalog.graphql(CREATE, { input }, admin);
  expect(errors).toBeUndefined();
  return data.createApp;
}

const outboxEvents = async (targetId: string) => {
  const { rows } = await catalog.pool.query<{ event: { action: string; outcome: string; targetId: string; diff: any; actor: { id: string } } }>(
    "SELECT event FROM audit_outbox WHERE event->>'targetId' = $1 ORDER BY created_at, id",
    [targetId],
  );
  return rows.map((r) => r.event);
};

const countApps = async () => Number((await catalog.pool.query<{ n: string }>('SELECT count(*) AS n FROM apps WHERE org_id = $1', [orgId])).rows[0]!.n);

describe('creating apps', () => {
  it('creates an app with defaults: active, owned by the caller, tags normalized, no config yet', async () => {
    const app = await createApp({ slug: 'support-bot', name: '  Support bot ', description: 'Answers tickets', tags: ['LLM', 'support', 'llm'] });
    expect(app).toMatchObject({
      slug: 'support-bot',
      name: 'Support bot',
      description: 'Answers tickets',
      status: 'ACTIVE',
      tags: ['llm', 'support'],
      owner: { id: admin.userId },
      healthCheckUrl: null,
      configSchemaVersion: 1,
      currentConfig: null,
    });
    const events = await outboxEvents(app.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'app.create', outcome: 'success', actor: { id: admin.id } });
    expect(events[0]!.diff.after).toMatchObject({ slug: 'support-bot', status: 'active' });
  });

  it('refuses a slug already used in the organization with CONFLICT naming it, and writes nothing', async () => {
    const before = await countApps();
    const { data, errors } = await catalog.graphql(CREATE, { input: { slug: 'support-bot', name: 'Another' } }, admin);
    expect(data).toBeNull();
    expect(errors?.[0]).toMatchObject({
      message: 'an app with slug "support-bot" already exists in this organization',
      extensions: { code: 'CONFLICT', reason: 'SLUG_TAKEN', field: 'input.slug' },
    });
    expect(await countApps()).toBe(before);
    const { rows } = await catalog.pool.query("SELECT event FROM audit_outbox WHERE event->>'action' = 'app.create' AND event->>'outcome' = 'CONFLICT'");
    expect(rows).toHaveLength(1);
  });

  it.each([
    ['an invalid slug', { slug: 'Support Bot!', name: 'x' }, 'input.slug', 'INVALID_SLUG'],
    ['a one-character slug', { slug: 'a', name: 'x' }, 'input.slug', 'INVALID_SLUG'],
    ['a slug ending in a hyphen', { slug: 'bot-', name: 'x' }, 'input.slug', 'INVALID_SLUG'],
    ['an empty name', { slug: 'ok-slug', name: '   ' }, 'input.name', 'EMPTY'],
    ['a bad tag', { slug: 'ok-slug', name: 'x', tags: ['fine', 'not fine'] }, 'input.tags[1]', 'INVALID_TAG'],
    ['a non-http health URL', { slug: 'ok-slug', name: 'x', healthCheckUrl: 'ftp://example.com/health' }, 'input.healthCheckUrl', 'INVALID_URL'],
    ['a health URL with credentials', { slug: 'ok-slug', name: 'x', healthCheckUrl: 'https://u:p@example.com/health' }, 'input.healthCheckUrl', 'INVALID_URL'],
    ['an owner id that is not an id', { slug: 'ok-slug', name: 'x', ownerId: 'bob' }, 'input.ownerId', 'INVALID_ID'],
    ['a name that is too long', { slug: 'ok-slug', name: 'n'.repeat(101) }, 'input.name', 'TOO_LONG'],
    ['a description that is too long', { slug: 'ok-slug', name: 'x', description: 'd'.repeat(2001) }, 'input.description', 'TOO_LONG'],
    ['too many tags', { slug: 'ok-slug', name: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'input.tags', 'TOO_MANY_TAGS'],
    ['a config schema that is not JSON Schema', { slug: 'ok-slug', name: 'x', configSchema: { type: 'objekt' } }, 'input.configSchema', 'INVALID_JSON_SCHEMA'],
    ['a first config that fails its schema', { slug: 'ok-slug', name: 'x', configSchema: { type: 'object', required: ['model'] }, config: {} }, 'input.config', 'CONFIG_INVALID'],
  ])('refuses %s with BAD_USER_INPUT naming the field, writing nothing', async (_name, input, field, reason) => {
    const before = await countApps();
    const { errors } = await catalog.graphql(CREATE, { input }, admin);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    expect(await countApps()).toBe(before);
  });

  it('publishes a first config as version 1 when one is given', async () => {
    const app = await createApp({
      slug: 'summarizer',
      name: 'Summarizer',
      configSchema: { type: 'object', properties: { maxWords: { type: 'integer', maximum: 500 } } },
      config: { maxWords: 200 },
      healthCheckUrl: 'https://summarizer.example.com/healthz',
    });
    expect(app).toMatchObject({ healthCheckUrl: 'https://summarizer.example.com/healthz', currentConfig: { version: 1, config: { maxWords: 200 }, isCurrent: true } });
  });
});

describe('reading and listing apps', () => {
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    for (const [slug, name, tags] of [
      ['alpha-agent', 'Alpha agent', ['agents', 'gpu']],
      ['beta-agent', 'beta agent', ['agents']],
      ['gamma-rag', 'Gamma RAG', ['rag', 'gpu']],
    ] as const) {
      ids[slug] = (await createApp({ slug, name, tags, description: `the ${name}` })).id;
    }
  });

  it('reads an app by id and by slug; unknown ones are null', async () => {
    const { data } = await catalog.graphql(`query ($id: ID!, $other: ID!) { app(id: $id) { slug } appBySlug(slug: "beta-agent") { id } missing: app(id: $other) { id } none: appBySlug(slug: "nope") { id } }`, { id: ids['alpha-agent'], other: newId() }, admin);
    expect(data).toEqual({ app: { slug: 'alpha-agent' }, appBySlug: { id: ids['beta-agent'] }, missing: null, none: null });
  });

  it('pages newest first with cursors and a total count', async () => {
    const page = `query ($after: String) { apps(first: 2, after: $after, filter: { tags: ["agents"] }) { totalCount edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await catalog.graphql(page, {}, admin)).data.apps;
    expect(first.totalCount).toBe(2);
    expect(first.edges.map((e: any) => e.node.slug)).toEqual(['beta-agent', 'alpha-agent']);
    expect(first.pageInfo.hasNextPage).toBe(false);

    const all = `query ($after: String) { apps(first: 2, after: $after) { totalCount edges { node { slug } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const res: any = (await catalog.graphql(all, { after }, admin)).data.apps;
      total = res.totalCount;
      seen.push(...res.edges.map((e: any) => e.node.slug));
      if (!res.pageInfo.hasNextPage) break;
      after = res.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen.slice(0, 3)).toEqual(['gamma-rag', 'beta-agent', 'alpha-agent']);
  });

  it('orders by name case-insensitively, across pages', async () => {
    const query = `query ($after: String) { apps(first: 1, after: $after, orderBy: NAME, filter: { search: "agent" }) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    const one = (await catalog.graphql(query, {}, admin)).data.apps;
    const two = (await catalog.graphql(query, { after: one.pageInfo.endCursor }, admin)).data.apps;
    expect([one.edges[0].node.name, two.edges[0].node.name]).toEqual(['Alpha agent', 'beta agent']);
    expect(two.pageInfo.hasNextPage).toBe(false);
  });

  it('searches name, slug and description, treating % and _ literally', async () => {
    const search = async (text: string) =>
      (await catalog.graphql(`query ($s: String) { apps(filter: { search: $s }) { edges { node { slug } } } }`, { s: text }, admin)).data.apps.edges.map((e: any) => e.node.slug).sort();
    expect(await search('RAG')).toEqual(['gamma-rag']);
    expect(await search('the beta')).toEqual(['beta-agent']);
    expect(await search('%')).toEqual([]);
  });

  it('filters by every tag given', async () => {
    const { data } = await catalog.graphql(`{ apps(filter: { tags: ["gpu", "agents"] }) { edges { node { slug } } } }`, {}, admin);
    expect(data.apps.edges.map((e: any) => e.node.slug)).toEqual(['alpha-agent']);
  });

  it('refuses a cursor it did not hand out and a page size out of range', async () => {
    const bad = await catalog.graphql(`{ apps(after: "garbage") { totalCount } }`, {}, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after', reason: 'INVALID_CURSOR' });
    const big = await catalog.graphql(`{ apps(first: 1000) { totalCount } }`, {}, admin);
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

describe('updating apps', () => {
  let id: string;
  beforeAll(async () => {
    id = (await createApp({ slug: 'translator', name: 'Translator', tags: ['nlp'], healthCheckUrl: 'https://translator.example.com/health' })).id;
  });

  it('changes only the fields given, and records the diff', async () => {
    const { data, errors } = await catalog.graphql(UPDATE, { id, input: { name: 'Translator v2', tags: ['nlp', 'prod'] } }, admin);
    expect(errors).toBeUndefined();
    expect(data.updateApp).toMatchObject({ slug: 'translator', name: 'Translator v2', tags: ['nlp', 'prod'], healthCheckUrl: 'https://translator.example.com/health' });
    const update = (await outboxEvents(id)).find((e) => e.action === 'app.update')!;
    expect(update.diff).toEqual({ before: { name: 'Translator', tags: ['nlp'] }, after: { name: 'Translator v2', tags: ['nlp', 'prod'] } });
  });

  it('clears the health-check URL (and stops monitoring) with null', async () => {
    expect((await catalog.pool.query('SELECT 1 FROM app_health WHERE app_id = $1', [id])).rowCount).toBe(1);
    const { data } = await catalog.graphql(UPDATE, { id, input: { healthCheckUrl: null } }, admin);
    expect(data.updateApp.healthCheckUrl).toBeNull();
    expect((await catalog.pool.query('SELECT 1 FROM app_health WHERE app_id = $1', [id])).rowCount).toBe(0);
  });

  it('refuses to take another app\'s slug', async () => {
    const { errors } = await catalog.graphql(UPDATE, { id, input: { slug: 'support-bot' } }, admin);
    expect(errors?.[0]).toMatchObject({ message: 'an app with slug "support-bot" already exists in this organization', extensions: { code: 'CONFLICT', field: 'input.slug' } });
  });

  it('answers NOT_FOUND for an unknown app', async () => {
    const { errors } = await catalog.graphql(UPDATE, { id: newId(), input: { name: 'x' } }, admin);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'APP_NOT_FOUND' });
  });
});

describe('status transitions', () => {
  const move = async (mutation: string, id: string) => catalog.graphql(`mutation ($id: ID!) { ${mutation}(id: $id) { status } }`, { id }, admin);
  let id: string;
  beforeAll(async () => {
    id = (await createApp({ slug: 'lifecycle', name: 'Lifecycle', healthCheckUrl: 'https://lifecycle.example.com/health' })).id;
  });

  it('pauses, resumes, archives, restores (paused) and deletes an app, auditing each', async () => {
    expect((await move('pauseApp', id)).data).toEqual({ pauseApp: { status: 'PAUSED' } });
    const again = await move('pauseApp', id);
    expect(again.errors?.[0]).toMatchObject({ message: 'cannot pause app lifecycle: it is already paused', extensions: { code: 'CONFLICT', reason: 'INVALID_STATUS_TRANSITION' } });
    expect((await move('resumeApp', id)).data).toEqual({ resumeApp: { status: 'ACTIVE' } });
    expect((await move('restoreApp', id)).errors?.[0]?.message).toBe('cannot restore app lifecycle: it is active (restore works on archived apps)');

    const notYet = await catalog.graphql(`mutation ($id: ID!) { deleteApp(id: $id) }`, { id }, admin);
    expect(notYet.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'APP_NOT_ARCHIVED' });

    expect((await move('archiveApp', id)).data).toEqual({ archiveApp: { status: 'ARCHIVED' } });
    // Archived apps are not probed.
    const { rows } = await catalog.pool.query<{ next: string }>("SELECT next_check_at::text AS next FROM app_health WHERE app_id = $1", [id]);
    expect(rows[0]?.next).toBe('infinity');
    // ... are read-only ...
    const edit = await catalog.graphql(UPDATE, { id, input: { name: 'x' } }, admin);
    expect(edit.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'APP_ARCHIVED' } });
    // ... and left out of lists unless asked for.
    const listed = async (filter: string) =>
      (await catalog.graphql(`{ apps(first: 100${filter}) { edges { node { id } } } }`, {}, admin)).data.apps.edges.some((e: any) => e.node.id === id);
    expect(await listed('')).toBe(false);
    expect(await listed(', filter: { status: [ARCHIVED] }')).toBe(true);

    expect((await move('restoreApp', id)).data).toEqual({ restoreApp: { status: 'PAUSED' } });
    expect((await move('archiveApp', id)).data).toEqual({ archiveApp: { status: 'ARCHIVED' } });
    const deleted = await catalog.graphql(`mutation ($id: ID!) { deleteApp(id: $id) }`, { id }, admin);
    expect(deleted.data).toEqual({ deleteApp: id });
    expect((await catalog.graphql(`query ($id: ID!) { app(id: $id) { id } }`, { id }, admin)).data).toEqual({ app: null });

    const actions = (await outboxEvents(id)).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual([
      'app.create:success',
      'app.pause:success',
      'app.pause:CONFLICT',
      'app.resume:success',
      'app.restore:CONFLICT',
      'app.delete:CONFLICT',
      'app.archive:success',
      'app.update:CONFLICT',
      'app.restore:success',
      'app.archive:success',
      'app.delete:success',
    ]);
  });
});

describe('federation', () => {
  it('resolves App entities of the caller\'s organization in one batch, and nothing of another', async () => {
    const ids = [(await createApp({ slug: 'entity-a', name: 'Entity A' })).id, (await createApp({ slug: 'entity-b', name: 'Entity B' })).id];
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on App { name } } }`;
    const representations = [...ids, newId()].map((id) => ({ __typename: 'App', id }));
    const mine = await catalog.graphql(query, { r: representations }, admin);
    expect(mine.data).toEqual({ _entities: [{ name: 'Entity A' }, { name: 'Entity B' }, null] });
    const theirs = await catalog.graphql(query, { r: representations }, userOf(newId(), 'owner'));
    expect(theirs.data).toEqual({ _entities: [null, null, null] });
  });
});
