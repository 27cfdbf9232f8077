import { newId } from '@orchestra/lib';
import { startCatalog, userOf, type CatalogUnderTest } from './test-kit';

let catalog: CatalogUnderTest;
const orgId = newId();
const admin = userOf(orgId, 'admin');
let appId: string;

const schemaV1 = {
  type: 'object',
  properties: {
    model: {
      type: 'object',
      properties: { name: { type: 'string' }, temperature: { type: 'number', minimum: 0, maximum: 2 } },
      required: ['name'],
      additionalProperties: false,
    },
    systemPrompt: { type: 'string' },
  },
  required: ['model'],
};

const PUBLISH = `mutation ($appId: ID!, $config: JSON!, $message: String) {
  publishAppConfig(id: $appId, config: $config, message: $message) { version config schemaVersion message isCurrent createdBy { id } }
}`;
const ROLLBACK = `mutation ($appId: ID!, $version: Int!, $reason: String) {
  rollbackAppConfig(id: $appId, version: $version, reason: $reason) { version config isCurrent }
}`;
const SET_SCHEMA = `mutation ($appId: ID!, $schema: JSON!, $config: JSON) {
  setAppConfigSchema(id: $appId, schema: $schema, config: $config) { configSchemaVersion configSchema currentConfig { version config schemaVersion } }
}`;
const STATE = `query ($id: ID!) { app(id: $id) {
  configSchemaVersion
  currentConfig { version config }
  configVersions(first: 50) { edges { node { version isCurrent schemaVersion } } }
  configActivations(first: 50) { edges { node { version previousVersion kind reason activatedBy { id } } } }
} }`;

const state = async () => (await catalog.graphql(STATE, { id: appId }, admin)).data.app;
const versionCount = async () => Number((await catalog.pool.query<{ n: string }>('SELECT count(*) AS n FROM app_config_versions WHERE app_id = $1', [appId])).rows[0]!.n);

beforeAll(async () => {
  catalog = await startCatalog();
  const { data, errors } = await catalog.graphql(
    `mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`,
    { input: { slug: 'chat', name: 'Chat', configSchema: schemaV1, config: { model: { name: 'small', temperature: 0.2 } } } },
    admin,
  );
  expect(errors).toBeUndefined();
  appId = data.createApp.id;
});

afterAll(async () => {
  await catalog.stop();
});

describe('publishing config versions', () => {
  it('validates against the schema and names the failing path; nothing is written', async () => {
    const { data, errors } = await catalog.graphql(PUBLISH, { appId, config: { model: { name: 'large', temperature: 3 } } }, admin);
    expect(data).toBeNull();
    expect(errors?.[0]).toMatchObject({
      message: "config does not match the app's config schema: /model/temperature must be <= 2",
      extensions: { code: 'BAD_USER_INPUT', field: 'config', reason: 'CONFIG_INVALID', violations: [{ path: '/model/temperature', message: 'must be <= 2' }] },
    });
    expect(await versionCount()).toBe(1);
    const { rows } = await catalog.pool.query("SELECT event FROM audit_outbox WHERE event->>'action' = 'app.config.publish'");
    expect(rows.map((r) => [r.event.targetId, r.event.outcome])).toEqual([[appId, 'BAD_USER_INPUT']]);
  });

  it('refuses a config larger than 256 KiB', async () => {
    const { errors } = await catalog.graphql(PUBLISH, { appId, config: { model: { name: 'x' }, systemPrompt: 'p'.repeat(300 * 1024) } }, admin);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config', reason: 'CONFIG_TOO_LARGE' });
    expect(await versionCount()).toBe(1);
  });

  it('lists every failing path: missing, extra and mistyped fields', async () => {
    const { errors } = await catalog.graphql(PUBLISH, { appId, config: { model: { temperature: 'hot', topP: 1 }, systemPrompt: 7 } }, admin);
    const violations = errors?.[0]?.extensions['violations'];
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: '/model/name', message: 'is required' },
        { path: '/model/topP', message: 'is not allowed (not in the schema)' },
        { path: '/model/temperature', message: 'must be number' },
        { path: '/systemPrompt', message: 'must be string' },
      ]),
    );
    expect(errors?.[0]?.message).toContain('/model/name is required');
  });

  it('publishes a valid config as the next version and makes it current', async () => {
    const { data, errors } = await catalog.graphql(PUBLISH, { appId, config: { model: { name: 'large', temperature: 1.5 } }, message: 'bigger model' }, admin);
    expect(errors).toBeUndefined();
    expect(data.publishAppConfig).toEqual({ version: 2, config: { model: { name: 'large', temperature: 1.5 } }, schemaVersion: 1, message: 'bigger model', isCurrent: true, createdBy: { id: admin.userId } });
    const now = await state();
    expect(now.currentConfig.version).toBe(2);
    expect(now.configVersions.edges.map((e: any) => [e.node.version, e.node.isCurrent])).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it('keeps versions immutable, even to direct SQL', async () => {
    await expect(catalog.pool.query(`UPDATE app_config_versions SET config = '{}' WHERE app_id = $1 AND version = 1`, [appId])).rejects.toThrow(
      'app_config_versions rows are immutable',
    );
  });
});

describe('rollback', () => {
  it('makes an earlier version current again, recorded as a rollback', async () => {
    const { data, errors } = await catalog.graphql(ROLLBACK, { appId, version: 1, reason: 'large model too slow' }, admin);
    expect(errors).toBeUndefined();
    expect(data.rollbackAppConfig).toEqual({ version: 1, config: { model: { name: 'small', temperature: 0.2 } }, isCurrent: true });
    const now = await state();
    expect(now.currentConfig).toEqual({ version: 1, config: { model: { name: 'small', temperature: 0.2 } } });
    // No new version: the versions are the same two, v1 is current.
    expect(now.configVersions.edges.map((e: any) => [e.node.version, e.node.isCurrent])).toEqual([
      [2, false],
      [1, true],
    ]);
    expect(now.configActivations.edges.map((e: any) => e.node)).toEqual([
      { version: 1, previousVersion: 2, kind: 'ROLLBACK', reason: 'large model too slow', activatedBy: { id: admin.userId } },
      { version: 2, previousVersion: 1, kind: 'PUBLISH', reason: 'bigger model', activatedBy: { id: admin.userId } },
      { version: 1, previousVersion: null, kind: 'PUBLISH', reason: 'initial config', activatedBy: { id: admin.userId } },
    ]);
    const { rows } = await catalog.pool.query("SELECT event FROM audit_outbox WHERE event->>'action' = 'app.config.rollback' AND event->>'targetId' = $1", [appId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].event.diff).toEqual({ version: 1, previousVersion: 2, reason: 'large model too slow' });
  });

  it('refuses the current version, and an unknown one', async () => {
    const current = await catalog.graphql(ROLLBACK, { appId, version: 1 }, admin);
    expect(current.errors?.[0]).toMatchObject({ message: 'config version 1 of app chat is already current', extensions: { code: 'CONFLICT' } });
    const unknown = await catalog.graphql(ROLLBACK, { appId, version: 99 }, admin);
    expect(unknown.errors?.[0]).toMatchObject({ message: 'app chat has no config version 99', extensions: { code: 'NOT_FOUND', field: 'version' } });
  });

  it('numbers the next publish after the highest version, not after the current one', async () => {
    const { data } = await catalog.graphql(PUBLISH, { appId, config: { model: { name: 'medium' } } }, admin);
    expect(data.publishAppConfig.version).toBe(3);
  });
});

describe('changing the schema', () => {
  const schemaV2 = {
    ...schemaV1,
    properties: { ...schemaV1.properties, maxTokens: { type: 'integer', minimum: 1 } },
    required: ['model', 'maxTokens'],
  };

  it('refuses a schema the current config does not satisfy, naming its failing paths; nothing changes', async () => {
    const { data, errors } = await catalog.graphql(SET_SCHEMA, { appId, schema: schemaV2 }, admin);
    expect(data).toBeNull();
    expect(errors?.[0]).toMatchObject({
      message: expect.stringContaining('the current config (version 3) of app chat does not satisfy the new schema: /maxTokens is required'),
      extensions: { code: 'CONFLICT', reason: 'CURRENT_CONFIG_DOES_NOT_MATCH_SCHEMA', violations: [{ path: '/maxTokens', message: 'is required' }] },
    });
    expect((await state()).configSchemaVersion).toBe(1);
  });

  it('refuses a schema that is not a valid JSON Schema', async () => {
    const { errors } = await catalog.graphql(SET_SCHEMA, { appId, schema: { type: 'object', properties: { a: { type: 'strnig' } } } }, admin);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schema', reason: 'INVALID_JSON_SCHEMA' });
  });

  it('refuses a migrated config that does not fit the new schema', async () => {
    const { errors } = await catalog.graphql(SET_SCHEMA, { appId, schema: schemaV2, config: { model: { name: 'medium' }, maxTokens: 0 } }, admin);
    expect(errors?.[0]).toMatchObject({ message: 'config does not match the new schema: /maxTokens must be >= 1', extensions: { code: 'BAD_USER_INPUT', field: 'config' } });
    expect((await state()).configSchemaVersion).toBe(1);
  });

  it('replaces the schema together with a config that fits it, in one step', async () => {
    const { data, errors } = await catalog.graphql(SET_SCHEMA, { appId, schema: schemaV2, config: { model: { name: 'medium' }, maxTokens: 512 } }, admin);
    expect(errors).toBeUndefined();
    expect(data.setAppConfigSchema).toEqual({
      configSchemaVersion: 2,
      configSchema: schemaV2,
      currentConfig: { version: 4, config: { model: { name: 'medium' }, maxTokens: 512 }, schemaVersion: 2 },
    });
  });

  it('accepts a schema the current config already satisfies without a new config', async () => {
    const schemaV3 = { ...schemaV2, properties: { ...schemaV2.properties, tools: { type: 'array', items: { type: 'string' } } } };
    const { data } = await catalog.graphql(SET_SCHEMA, { appId, schema: schemaV3 }, admin);
    expect(data.setAppConfigSchema).toMatchObject({ configSchemaVersion: 3, currentConfig: { version: 4 } });
  });

  it('refuses to roll back to a version that no longer fits the schema, naming the paths', async () => {
    const { errors } = await catalog.graphql(ROLLBACK, { appId, version: 2 }, admin);
    expect(errors?.[0]).toMatchObject({
      message: "config version 2 of app chat does not satisfy the app's current config schema: /maxTokens is required",
      extensions: { code: 'CONFLICT', reason: 'CONFIG_DOES_NOT_MATCH_SCHEMA', field: 'version' },
    });
    expect((await state()).currentConfig.version).toBe(4);
  });

  it('refuses config changes to an archived app', async () => {
    await catalog.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { status } }`, { id: appId }, admin);
    const { errors } = await catalog.graphql(PUBLISH, { appId, config: { model: { name: 'x' }, maxTokens: 5 } }, admin);
    expect(errors?.[0]).toMatchObject({ message: 'cannot publish a config of app chat: it is archived (restore it first)', extensions: { code: 'CONFLICT', reason: 'APP_ARCHIVED' } });
  });
});

describe('a schema pattern that backtracks catastrophically', () => {
  it('refuses the config after the time limit, keeps answering other requests meanwhile, and writes nothing', async () => {
    const created = await catalog.graphql(
      `mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`,
      { input: { slug: 'regex-trap', name: 'Regex trap', configSchema: { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } } } },
      admin,
    );
    expect(created.errors).toBeUndefined();
    const trapId: string = created.data.createApp.id;
    let refused = false;
    const slow = catalog.graphql(PUBLISH, { appId: trapId, config: { name: `${'a'.repeat(40)}!` } }, admin).finally(() => (refused = true));
    // While the validation runs away on its worker, the catalog still answers.
    const other = await catalog.graphql('query ($id: ID!) { app(id: $id) { slug } }', { id: trapId }, admin);
    expect(other.data.app.slug).toBe('regex-trap');
    expect(refused).toBe(false);
    const { data, errors } = await slow;
    expect(data).toBeNull();
    expect(errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'config', reason: 'CONFIG_VALIDATION_TIMEOUT' } });
    expect(errors?.[0]?.message).toMatch(/^config took longer than 1000 ms to validate against the app's config schema/);
    const { rows } = await catalog.pool.query('SELECT count(*)::int AS n FROM app_config_versions WHERE app_id = $1', [trapId]);
    expect(rows[0].n).toBe(0);
    // A config the pattern matches quickly is accepted by the next validation.
    const ok = await catalog.graphql(PUBLISH, { appId: trapId, config: { name: 'aaaa' } }, admin);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.publishAppConfig.version).toBe(1);
  });
});

