import { newId, withTenantTransaction } from '@orchestra/lib';
import { CATALOG_TENANT_ROLE } from './apps/catalog';
import { apiKeyOf, startCatalog, userOf, type CatalogUnderTest } from './test-kit';

let catalog: CatalogUnderTest;
const orgA = newId();
const orgB = newId();
const adminA = userOf(orgA, 'admin');
const adminB = userOf(orgB, 'admin');
let appA: string;

const CREATE = `mutation ($input: CreateAppInput!) { createApp(input: $input) { id slug } }`;

beforeAll(async () => {
  catalog = await startCatalog();
  const created = await catalog.graphql(CREATE, { input: { slug: 'shared-name', name: 'A app', tags: ['a'], config: { secretSauce: 1 } } }, adminA);
  expect(created.errors).toBeUndefined();
  appA = created.data.createApp.id;
});

afterAll(async () => {
  await catalog.stop();
});

describe('tenant isolation', () => {
  it('lets each organization use the same slug', async () => {
    const { data, errors } = await catalog.graphql(CREATE, { input: { slug: 'shared-name', name: 'B app' } }, adminB);
    expect(errors).toBeUndefined();
    expect(data.createApp.slug).toBe('shared-name');
  });

  it("never shows one organization's apps to another, through any query", async () => {
    const { data } = await catalog.graphql(
      `query ($id: ID!) {
        app(id: $id) { id }
        appBySlug(slug: "shared-name") { name }
        apps(first: 100, filter: { status: [ACTIVE, PAUSED, ARCHIVED] }) { totalCount edges { node { id } } }
        _entities(representations: [{ __typename: "App", id: $id }]) { ... on App { name } }
      }`,
      { id: appA },
      adminB,
    );
    expect(data.app).toBeNull();
    expect(data.appBySlug).toEqual({ name: 'B app' });
    expect(data.apps.edges.map((e: any) => e.node.id)).not.toContain(appA);
    expect(data.apps.totalCount).toBe(1);
    expect(data._entities).toEqual([null]);
  });

  it("cannot change another organization's app: it does not exist for them", async () => {
    for (const [mutation, args] of [
      ['updateApp(id: $id, input: { name: "hijacked" }) { id }', {}],
      ['pauseApp(id: $id) { id }', {}],
      ['archiveApp(id: $id) { id }', {}],
      ['publishAppConfig(id: $id, config: { secretSauce: 2 }) { version }', {}],
      ['rollbackAppConfig(id: $id, version: 1) { version }', {}],
      ['setAppConfigSchema(id: $id, schema: { type: "object" }) { id }', {}],
    ] as const) {
      const { errors } = await catalog.graphql(`mutation ($id: ID!) { ${mutation} }`, { id: appA, ...args }, adminB);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    }
    const { data } = await catalog.graphql(`query ($id: ID!) { app(id: $id) { name status currentConfig { version config } } }`, { id: appA }, adminA);
    expect(data.app).toEqual({ name: 'A app', status: 'ACTIVE', currentConfig: { version: 1, config: { secretSauce: 1 } } });
  });

  it('is enforced by row-level security, whatever the SQL asks for', async () => {
    const seen = await withTenantTransaction(catalog.pool, CATALOG_TENANT_ROLE, { orgId: orgB }, async (tx) => ({
      apps: (await tx.query('SELECT id FROM apps WHERE id = $1', [appA])).rowCount,
      versions: (await tx.query('SELECT 1 FROM app_config_versions WHERE app_id = $1', [appA])).rowCount,
      schemas: (await tx.query('SELECT 1 FROM app_config_schemas WHERE app_id = $1', [appA])).rowCount,
      activations: (await tx.query('SELECT 1 FROM app_config_activations WHERE app_id = $1', [appA])).rowCount,
      updated: (await tx.query("UPDATE apps SET name = 'x' WHERE id = $1", [appA])).rowCount,
    }));
    expect(seen).toEqual({ apps: 0, versions: 0, schemas: 0, activations: 0, updated: 0 });
    await expect(
      withTenantTransaction(catalog.pool, CATALOG_TENANT_ROLE, { orgId: orgB }, (tx) =>
        tx.query("INSERT INTO apps (id, org_id, slug, name, config_schema_version) VALUES ($1, $2, 'sneaky', 'x', 1)", [newId(), orgA]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('refuses a principal without an organization', async () => {
    const { errors } = await catalog.graphql(`{ apps { totalCount } }`, {}, { ...userOf(orgA, 'admin'), orgId: undefined });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_ORGANIZATION' });
  });
});

describe('roles', () => {
  const viewer = userOf(orgA, 'viewer');
  const operator = userOf(orgA, 'operator');

  it('lets viewers read everything about apps, and change nothing', async () => {
    const read = await catalog.graphql(`query ($id: ID!) { app(id: $id) { name configSchema currentConfig { version } configVersions { edges { node { version } } } } }`, { id: appA }, viewer);
    expect(read.errors).toBeUndefined();
    expect(read.data.app.name).toBe('A app');
    const { errors } = await catalog.graphql(CREATE, { input: { slug: 'by-viewer', name: 'x' } }, viewer);
    expect(errors?.[0]).toMatchObject({ message: 'Mutation.createApp needs role admin or higher (you are viewer)', extensions: { code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' } });
    const pause = await catalog.graphql(`mutation ($id: ID!) { pauseApp(id: $id) { id } }`, { id: appA }, viewer);
    expect(pause.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'operator' });
  });

  it('lets operators pause and resume, but not archive, publish, roll back or edit', async () => {
    expect((await catalog.graphql(`mutation ($id: ID!) { pauseApp(id: $id) { status } }`, { id: appA }, operator)).data).toEqual({ pauseApp: { status: 'PAUSED' } });
    expect((await catalog.graphql(`mutation ($id: ID!) { resumeApp(id: $id) { status } }`, { id: appA }, operator)).data).toEqual({ resumeApp: { status: 'ACTIVE' } });
    for (const mutation of [
      'archiveApp(id: $id) { id }',
      'updateApp(id: $id, input: { name: "x" }) { id }',
      'publishAppConfig(id: $id, config: {}) { version }',
      'rollbackAppConfig(id: $id, version: 1) { version }',
      'setAppConfigSchema(id: $id, schema: { type: "object" }) { id }',
      'deleteApp(id: $id)',
    ]) {
      const { errors } = await catalog.graphql(`mutation ($id: ID!) { ${mutation} }`, { id: appA }, operator);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW', requiredRole: 'admin' });
    }
  });

  it('records refused mutations in the audit outbox with their outcome', async () => {
    const { rows } = await catalog.pool.query<{ event: { action: string; outcome: string; actor: { id: string } } }>(
      "SELECT event FROM audit_outbox WHERE event->'actor'->>'id' = $1 ORDER BY created_at, id",
      [operator.id],
    );
    expect(rows.map((r) => `${r.event.action}:${r.event.outcome}`)).toEqual([
      'app.pause:success',
      'app.resume:success',
      'app.archive:FORBIDDEN',
      'app.update:FORBIDDEN',
      'app.config.publish:FORBIDDEN',
      'app.config.rollback:FORBIDDEN',
      'app.config_schema.set:FORBIDDEN',
      'app.delete:FORBIDDEN',
    ]);
  });
});

describe('API keys', () => {
  it('with apps:read, read the public fields of apps', async () => {
    const key = apiKeyOf(orgA, ['apps:read']);
    const { data, errors } = await catalog.graphql(
      `query ($id: ID!) { app(id: $id) { id slug name status tags createdAt } apps { totalCount edges { node { slug } } } }`,
      { id: appA },
      key,
    );
    expect(errors).toBeUndefined();
    expect(data.app).toMatchObject({ slug: 'shared-name', status: 'ACTIVE', tags: ['a'] });
    expect(data.apps.totalCount).toBe(1);
  });

  it('never read configs or owners, even with apps:read', async () => {
    const key = apiKeyOf(orgA, ['apps:read']);
    const { data, errors } = await catalog.graphql(`query ($id: ID!) { app(id: $id) { currentConfig { config } } }`, { id: appA }, key);
    expect(data.app).toEqual({ currentConfig: null });
    expect(errors?.[0]).toMatchObject({ message: 'App.currentConfig is not available to API keys', extensions: { code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' } });
  });

  it('without apps:read, read nothing', async () => {
    const { errors } = await catalog.graphql(`{ apps { totalCount } }`, {}, apiKeyOf(orgA, ['runs:read']));
    expect(errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'MISSING_SCOPE', requiredScopes: ['apps:read'] } });
  });

  it('cannot change apps, whatever their scopes', async () => {
    const { errors } = await catalog.graphql(CREATE, { input: { slug: 'by-key', name: 'x' } }, apiKeyOf(orgA, ['apps:read', 'apps:write']));
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' });
  });

  it("of one organization never see another's apps", async () => {
    const { data } = await catalog.graphql(`query ($id: ID!) { app(id: $id) { id } }`, { id: appA }, apiKeyOf(orgB, ['apps:read']));
    expect(data.app).toBeNull();
  });
});

describe('the subgraph behind the gateway', () => {
  it('refuses requests without the gateway signature, _entities included', async () => {
    const { data, errors } = await catalog.graphql(`query ($id: ID!) { _entities(representations: [{ __typename: "App", id: $id }]) { ... on App { name } } }`, { id: appA });
    expect(data).toBeNull();
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_MISSING' });
  });
});
