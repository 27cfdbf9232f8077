import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { eventually, newId } from '@orchestra/lib';
import { startPlatform, type Auth, type Platform } from '../src/platform';

/**
 * The catalog through the gateway: identity, catalog and audit as child processes (real gRPC between
 * them: owner checks against identity, audit events relayed to audit), the gateway in front, users
 * signed in with real tokens and API keys.
 */

let platform: Platform;
let endpoint: { url: string; set(up: boolean): void; close(): Promise<void> };
const password = `pw-${randomBytes(12).toString('hex')}`;
const ownerEmail = `owner-${randomBytes(4).toString('hex')}@catalog.test`;
let owner: Auth;
let ownerUserId: string;

/** A local HTTP server standing in for an app's real health endpoint (an outside service): 200 when up, 503 when down. */
async function startAppEndpoint(): Promise<typeof endpoint> {
  let up = true;
  const server: Server = createServer((_req, res) => {
    res.writeHead(up ? 200 : 503).end(up ? 'ok' : 'unavailable');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    set: (next) => {
      up = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function login(email: string): Promise<{ auth: Auth; userId: string }> {
  const { data, errors } = await platform.graphql(
    `mutation ($input: LoginInput!) { login(input: $input) { accessToken user { id } } }`,
    { input: { email, password } },
  );
  expect(errors).toBeUndefined();
  return { auth: { token: data!.login.accessToken }, userId: data!.login.user.id };
}

async function must<T = any>(query: string, variables: Record<string, unknown>, auth: Auth): Promise<T> {
  const { data, errors } = await platform.graphql<T>(query, variables, auth);
  if (errors) throw new Error(`${query.slice(0, 60)}... failed: ${JSON.stringify(errors)}`);
  return data!;
}

const CREATE = `mutation ($input: CreateAppInput!) { createApp(input: $input) { id slug status owner { id } currentConfig { version } } }`;

beforeAll(async () => {
  endpoint = await startAppEndpoint();
  platform = await startPlatform({
    services: ['identity', 'catalog', 'audit'],
    env: {
      identity: { ADMIN_EMAIL: ownerEmail, ADMIN_PASSWORD: password, ADMIN_ORG_NAME: 'Org A' },
      catalog: { CATALOG_ALLOW_PRIVATE_NETWORK: 'true', CATALOG_HEALTH_INTERVAL_MS: '200', CATALOG_HEALTH_DOWN_AFTER: '1' },
    },
  });
  ({ auth: owner, userId: ownerUserId } = await login(ownerEmail));
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  await endpoint?.close();
});

describe('apps through the gateway', () => {
  it('registers an app owned by the caller, and refuses an owner who is not a member (checked with identity)', async () => {
    const created = await must(CREATE, { input: { slug: 'e2e-support', name: 'Support', tags: ['e2e'] } }, owner);
    expect(created.createApp).toMatchObject({ slug: 'e2e-support', status: 'ACTIVE', owner: { id: ownerUserId }, currentConfig: null });

    const stranger = await platform.graphql(CREATE, { input: { slug: 'e2e-stranger', name: 'x', ownerId: newId() } }, owner);
    expect(stranger.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.ownerId', reason: 'UNKNOWN_USER' });

    const duplicate = await platform.graphql(CREATE, { input: { slug: 'e2e-support', name: 'again' } }, owner);
    expect(duplicate.errors?.[0]).toMatchObject({ message: 'an app with slug "e2e-support" already exists in this organization', extensions: { code: 'CONFLICT' } });
  });

  it('versions configs: a validation error names the failing path, rollback restores an earlier version', async () => {
    const { createApp: app } = await must(
      CREATE,
      {
        input: {
          slug: 'e2e-chat',
          name: 'Chat',
          configSchema: { type: 'object', properties: { model: { type: 'object', properties: { temperature: { type: 'number', maximum: 2 } } } } },
          config: { model: { temperature: 0.5 } },
        },
      },
      owner,
    );
    const publish = `mutation ($id: ID!, $config: JSON!) { publishAppConfig(id: $id, config: $config) { version } }`;
    const bad = await platform.graphql(publish, { id: app.id, config: { model: { temperature: 9 } } }, owner);
    expect(bad.errors?.[0]).toMatchObject({
      message: "config does not match the app's config schema: /model/temperature must be <= 2",
      extensions: { code: 'BAD_USER_INPUT', field: 'config' },
    });
    expect((await must(publish, { id: app.id, config: { model: { temperature: 1.9 } } }, owner)).publishAppConfig.version).toBe(2);
    await must(`mutation ($id: ID!) { rollbackAppConfig(id: $id, version: 1, reason: "too hot") { version } }`, { id: app.id }, owner);
    const read = await must(
      `query ($id: ID!) { app(id: $id) { currentConfig { version config } configActivations { edges { node { kind version previousVersion reason } } } } }`,
      { id: app.id },
      owner,
    );
    expect(read.app.currentConfig).toEqual({ version: 1, config: { model: { temperature: 0.5 } } });
    expect(read.app.configActivations.edges[0].node).toEqual({ kind: 'ROLLBACK', version: 1, previousVersion: 2, reason: 'too hot' });
  });

  it('probes the health-check URL and reports the endpoint going down and coming back', async () => {
    const { createApp: app } = await must(CREATE, { input: { slug: 'e2e-probed', name: 'Probed', healthCheckUrl: endpoint.url } }, owner);
    const health = async () =>
      (await must(`query ($id: ID!) { app(id: $id) { health { status lastHttpStatus history { edges { node { previousStatus status } } } } } }`, { id: app.id }, owner)).app.health;
    await eventually(async () => (await health()).status === 'UP', { what: 'UP', timeoutMs: 15_000 });
    endpoint.set(false);
    await eventually(async () => (await health()).status === 'DOWN', { what: 'DOWN', timeoutMs: 15_000 });
    endpoint.set(true);
    const back = await eventually(async () => {
      const h = await health();
      return h.status === 'UP' && h;
    }, { what: 'UP again', timeoutMs: 15_000 });
    expect(back.history.edges.map((e: any) => `${e.node.previousStatus}->${e.node.status}`)).toEqual(['DOWN->UP', 'UP->DOWN', 'UNKNOWN->UP']);
  });

  it('delivers each change, failures included, to the audit service exactly once', async () => {
    const appId = (await must(`query { appBySlug(slug: "e2e-chat") { id } }`, {}, owner)).appBySlug.id;
    const stored = async () =>
      (
        await platform.pool.query<{ action: string; outcome: string; actor: string | null; service: string }>(
          `SELECT action, outcome, actor_user_id AS actor, service FROM "${platform.schemas.audit}".audit_events
            WHERE target_id = $1 ORDER BY chain_seq`,
          [appId],
        )
      ).rows;
    const events = await eventually(async () => {
      const rows = await stored();
      return rows.length >= 4 && rows;
    }, { what: 'the catalog events to reach audit', timeoutMs: 20_000 });
    expect(events.map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'app.create:success',
      'app.config.publish:BAD_USER_INPUT',
      'app.config.publish:success',
      'app.config.rollback:success',
    ]);
    expect(events.every((e) => e.service === 'catalog' && e.actor === ownerUserId)).toBe(true);
    // Delivered: nothing waits in the catalog outbox for these.
    const { rows } = await platform.pool.query(
      `SELECT 1 FROM "${platform.schemas.catalog}".audit_outbox WHERE event->>'targetId' = $1 AND delivered_at IS NULL`,
      [appId],
    );
    expect(rows).toHaveLength(0);
  });
});

describe('tenancy, roles and API keys through the gateway', () => {
  let appId: string;
  beforeAll(async () => {
    appId = (await must(`query { appBySlug(slug: "e2e-support") { id } }`, {}, owner)).appBySlug.id;
  });

  it("keeps another organization's users and keys away from the apps", async () => {
    const otherEmail = `other-${randomBytes(4).toString('hex')}@catalog.test`;
    const signUp = await must(
      `mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }`,
      { input: { email: otherEmail, password, name: 'Other', organizationName: 'Org B' } },
      {},
    );
    const other: Auth = { token: signUp.signUp.accessToken };
    const seen = await must(`query ($id: ID!) { app(id: $id) { id } appBySlug(slug: "e2e-support") { id } apps { totalCount } }`, { id: appId }, other);
    expect(seen).toEqual({ app: null, appBySlug: null, apps: { totalCount: 0 } });
    const update = await platform.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { id } }`, { id: appId }, other);
    expect(update.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });

    const key = await must(`mutation { createApiKey(input: { name: "b-reader", scopes: ["apps:read"] }) { key } }`, {}, other);
    const byKey = await must(`query ($id: ID!) { app(id: $id) { id } }`, { id: appId }, { apiKey: key.createApiKey.key });
    expect(byKey.app).toBeNull();
  });

  it('lets an API key with apps:read read the public fields only', async () => {
    const key = (await must(`mutation { createApiKey(input: { name: "a-reader", scopes: ["apps:read"] }) { key } }`, {}, owner)).createApiKey.key;
    const read = await must(`query ($id: ID!) { app(id: $id) { slug status tags health { status } } apps(filter: { tags: ["e2e"] }) { totalCount } }`, { id: appId }, { apiKey: key });
    expect(read).toEqual({ app: { slug: 'e2e-support', status: 'ACTIVE', tags: ['e2e'], health: null }, apps: { totalCount: 1 } });

    const config = await platform.graphql(`query ($id: ID!) { app(id: $id) { configSchema } }`, { id: appId }, { apiKey: key });
    expect(config.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const write = await platform.graphql(`mutation ($id: ID!) { pauseApp(id: $id) { id } }`, { id: appId }, { apiKey: key });
    expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const runsKey = (await must(`mutation { createApiKey(input: { name: "runs-only", scopes: ["runs:read"] }) { key } }`, {}, owner)).createApiKey.key;
    const refused = await platform.graphql(`{ apps { totalCount } }`, {}, { apiKey: runsKey });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
  });

  it('lets a viewer read apps but not change them, and an operator pause them', async () => {
    const member = async (role: 'VIEWER' | 'OPERATOR') => {
      const email = `${role.toLowerCase()}-${randomBytes(4).toString('hex')}@catalog.test`;
      const invite = await must(`mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`, { input: { email, role } }, owner);
      const accepted = await must(
        `mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { accessToken } }`,
        { input: { token: invite.inviteMember.token, name: role, password } },
        {},
      );
      return { token: accepted.acceptInvitation.accessToken } as Auth;
    };
    const viewer = await member('VIEWER');
    expect((await must(`query ($id: ID!) { app(id: $id) { slug configSchema } }`, { id: appId }, viewer)).app.slug).toBe('e2e-support');
    const create = await platform.graphql(CREATE, { input: { slug: 'by-viewer', name: 'x' } }, viewer);
    expect(create.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' } });

    const operator = await member('OPERATOR');
    expect((await must(`mutation ($id: ID!) { pauseApp(id: $id) { status } }`, { id: appId }, operator)).pauseApp.status).toBe('PAUSED');
    const archive = await platform.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { status } }`, { id: appId }, operator);
    expect(archive.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
  });
});
