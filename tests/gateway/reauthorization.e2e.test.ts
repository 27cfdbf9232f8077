import { randomBytes } from 'node:crypto';
import { createClient, type Client, type ExecutionResult, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { startPlatform, type GraphQLResponse, type Platform } from '../src/platform';

/**
 * Issue 9 item 1 end to end: live subscriptions through the real gateway lose their access within
 * moments of what identity really does — logout, logout everywhere, a password change, a demotion, a
 * removal from the organization, an API key revoked — and a client that refreshes its token
 * authenticates the same connection again and carries on. Runs are started with no worker, so they
 * stay queued and their subscriptions stay open until access ends.
 */

let platform: Platform;
const clients: Client[] = [];

const AUTH = 'accessToken refreshToken role user { id email } organization { id name }';

interface Session {
  accessToken: string;
  refreshToken: string;
  role: string;
  user: { id: string; email: string };
  organization: { id: string; name: string };
  password: string;
}

const email = (label: string) => `${label}.${randomBytes(4).toString('hex')}@example.com`;
const newPassword = () => `Green-Teapot-${randomBytes(5).toString('hex')}`;
const ok = <T>(res: GraphQLResponse<T>): T => {
  expect(res.errors).toBeUndefined();
  return res.data!;
};

let owner: Session;
let workflowId: string;

async function signUp(): Promise<Session> {
  const password = newPassword();
  const { signUp: session } = ok(
    await platform.graphql<{ signUp: Omit<Session, 'password'> }>(`mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`, {
      i: { email: email('owner'), password, name: 'Olga Owner', organizationName: 'Live Org' },
    }),
  );
  return { ...session, password };
}

/** A new member of the owner's organization (invited and accepted), with their membership id. */
async function member(role: 'ADMIN' | 'OPERATOR' | 'VIEWER'): Promise<Session & { membershipId: string }> {
  const { inviteMember } = ok(
    await platform.graphql<{ inviteMember: { token: string } }>('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email: email(role.toLowerCase()), role } }, { token: owner.accessToken }),
  );
  const password = newPassword();
  const { acceptInvitation } = ok(
    await platform.graphql<{ acceptInvitation: Omit<Session, 'password'> }>(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH} } }`, {
      i: { token: inviteMember.token, name: `Max ${role}`, password },
    }),
  );
  const { members } = ok(
    await platform.graphql<{ members: { edges: Array<{ node: { id: string } }> } }>('query($s: String) { members(search: $s) { edges { node { id } } } }', { s: acceptInvitation.user.email }, { token: owner.accessToken }),
  );
  return { ...acceptInvitation, password, membershipId: members.edges[0]!.node.id };
}

async function startRun(): Promise<string> {
  const { startRun: started } = ok(
    await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId } }, { token: owner.accessToken }),
  );
  return started.run.id;
}

/**
 * A client whose socket outlives its subscriptions long enough for the test's next step on the same
 * connection (a mutation or two). Not longer: graphql-ws's dispose() leaves the lazy-close timer
 * running, so jest waited out the whole timeout after the last test (60 s of every CI run, at 60_000).
 */
function connect(authorization: string): Client {
  const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, lazyCloseTimeout: 10_000, connectionParams: { authorization } });
  clients.push(client);
  return client;
}

interface Watch {
  seqs: number[];
  error: unknown;
  done: Promise<void>;
}

/** Watches a queued run and waits for its first event (the subscription is live). */
async function watch(client: Client, runId: string): Promise<Watch> {
  const watched: Partial<Watch> & { seqs: number[] } = { seqs: [] };
  watched.done = new Promise<void>((resolve) => {
    client.subscribe(
      { query: 'subscription($id: ID!) { runEvents(runId: $id) { seq run { status } } }', variables: { id: runId } },
      {
        next: (result: ExecutionResult<{ runEvents: { seq: number } }>) => {
          if (result.data) watched.seqs.push(result.data.runEvents.seq);
        },
        error: (error) => {
          watched.error = error;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  const deadline = Date.now() + 15_000;
  while (watched.seqs.length === 0 && watched.error === undefined) {
    if (Date.now() > deadline) throw new Error('no first event');
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(watched.error).toBeUndefined();
  return watched as Watch;
}

const endedWith = (watched: Watch, code: string, reason: string) =>
  expect(watched.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code, reason }) as unknown })]);

type Authenticated = FormattedExecutionResult<{ authenticateConnection: { expiresAt: string | null; subscriptions: number } }, unknown>;

async function authenticateConnection(client: Client, accessToken: string): Promise<Authenticated> {
  return new Promise((resolve, reject) => {
    let answer: Authenticated | undefined;
    client.subscribe<{ authenticateConnection: { expiresAt: string | null; subscriptions: number } }>(
      { query: 'mutation($a: String!) { authenticateConnection(authorization: $a) { expiresAt subscriptions } }', variables: { a: `Bearer ${accessToken}` } },
      { next: (r) => (answer = r), error: reject, complete: () => resolve(answer!) },
    );
  });
}

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity', 'orchestration'] });
  owner = await signUp();
  workflowId = ok(
    await platform.graphql<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'watched', steps: [{ id: 'a', capability: 'noop' }] } }, { token: owner.accessToken }),
  ).createWorkflow.id;
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(clients.map(async (c) => c.dispose()));
  await platform?.stop();
});

describe('subscriptions lose access when identity takes it away', () => {
  it('a refreshed token sent on the same connection keeps the subscription going', async () => {
    const viewer = await member('VIEWER');
    const client = connect(`Bearer ${viewer.accessToken}`);
    const watched = await watch(client, await startRun());
    const { refreshToken } = ok(await platform.graphql<{ refreshToken: Session }>(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: viewer.refreshToken }));
    const answer = await authenticateConnection(client, refreshToken.accessToken);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.authenticateConnection).toEqual({ expiresAt: expect.any(String) as string, subscriptions: 1 });
    expect(watched.error).toBeUndefined();
  });

  it('logout ends the subscriptions of that session (SESSION_REVOKED)', async () => {
    const viewer = await member('VIEWER');
    const watched = await watch(connect(`Bearer ${viewer.accessToken}`), await startRun());
    ok(await platform.graphql('mutation($t: String!) { logout(refreshToken: $t) }', { t: viewer.refreshToken }));
    await watched.done;
    endedWith(watched, 'UNAUTHENTICATED', 'SESSION_REVOKED');
  });

  it('logout everywhere and a password change end them (TOKEN_VERSION_STALE); the new password’s token authenticates the connection again', async () => {
    const viewer = await member('VIEWER');
    const everywhere = await watch(connect(`Bearer ${viewer.accessToken}`), await startRun());
    ok(await platform.graphql('mutation { logoutEverywhere }', {}, { token: viewer.accessToken }));
    await everywhere.done;
    endedWith(everywhere, 'UNAUTHENTICATED', 'TOKEN_VERSION_STALE');

    const { login } = ok(await platform.graphql<{ login: Session }>(`mutation($i: LoginInput!) { login(input: $i) { ${AUTH} } }`, { i: { email: viewer.user.email, password: viewer.password } }));
    const client = connect(`Bearer ${login.accessToken}`);
    const runId = await startRun();
    const changed = await watch(client, runId);
    const { changePassword } = ok(
      await platform.graphql<{ changePassword: Session }>(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ${AUTH} } }`, { i: { currentPassword: viewer.password, newPassword: newPassword() } }, { token: login.accessToken }),
    );
    await changed.done;
    endedWith(changed, 'UNAUTHENTICATED', 'TOKEN_VERSION_STALE');
    expect((await authenticateConnection(client, changePassword.accessToken)).errors).toBeUndefined();
    const again = await watch(client, runId);
    expect(again.seqs[0]).toBe(1);
  });

  it('a demotion ends them; the refreshed token (the new role) may subscribe again on the same connection', async () => {
    const admin = await member('ADMIN');
    const client = connect(`Bearer ${admin.accessToken}`);
    const runId = await startRun();
    const watched = await watch(client, runId);
    ok(await platform.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: VIEWER) { id } }', { id: admin.membershipId }, { token: owner.accessToken }));
    await watched.done;
    endedWith(watched, 'UNAUTHENTICATED', 'TOKEN_VERSION_STALE');
    const { refreshToken } = ok(await platform.graphql<{ refreshToken: Session }>(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: admin.refreshToken }));
    expect(refreshToken.role).toBe('VIEWER');
    expect((await authenticateConnection(client, refreshToken.accessToken)).errors).toBeUndefined();
    await watch(client, runId);
  });

  it('a removal from the organization ends them, and the old token cannot authenticate the connection again', async () => {
    const operator = await member('OPERATOR');
    const client = connect(`Bearer ${operator.accessToken}`);
    const watched = await watch(client, await startRun());
    ok(await platform.graphql('mutation($id: ID!) { removeMember(id: $id) { id } }', { id: operator.membershipId }, { token: owner.accessToken }));
    await watched.done;
    endedWith(watched, 'UNAUTHENTICATED', 'TOKEN_VERSION_STALE');
    const retried = await authenticateConnection(client, operator.accessToken).catch((error: unknown) => ({ errors: error as unknown[] }));
    expect(retried.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) as unknown })]);
  });

  it('revoking an API key ends the key’s subscriptions (API_KEY_REVOKED)', async () => {
    const { createApiKey } = ok(
      await platform.graphql<{ createApiKey: { key: string; apiKey: { id: string } } }>(
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id } } }',
        { i: { name: 'live', scopes: ['runs:read'] } },
        { token: owner.accessToken },
      ),
    );
    const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${createApiKey.key}` } });
    clients.push(client);
    const watched: Partial<Watch> & { seqs: number[] } = { seqs: [] };
    watched.done = new Promise<void>((resolve) => {
      client.subscribe(
        { query: 'subscription($id: ID!) { runEvents(runId: $id) { seq } }', variables: { id: 'x' } },
        { next: () => undefined, error: () => resolve(), complete: () => resolve() },
      );
    });
    await watched.done; // a bad id: the key's connection works and answers
    const keyed = await watch(client, await startRun());
    ok(await platform.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: createApiKey.apiKey.id }, { token: owner.accessToken }));
    await keyed.done;
    endedWith(keyed, 'UNAUTHENTICATED', 'API_KEY_REVOKED');
  });
});
