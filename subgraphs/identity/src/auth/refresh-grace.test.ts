import { loadConfig } from '@orchestra/lib';
import { identityConfigSchema } from '../config';
import { AUTH_FIELDS, errorOf, rejectionOf, startIdentity, type IdentityHarness } from '../testing/harness';

/**
 * The refresh-token reuse grace (sessions.ts successorWithinGrace): a reload while the start-up refresh
 * is in flight presents the token the server has just rotated. Against the machine's PostgreSQL and Redis;
 * "after the grace" moves the token's use back in the database rather than waiting.
 */

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity();
});

afterAll(async () => {
  await id.stop();
});

const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;
const ME = '{ me { role user { id } } }';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

const rowIdOf = (refreshToken: string): string => {
  const hex = /^ort_([0-9a-f]{32})_/.exec(refreshToken)![1]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

async function refreshed(token: string): Promise<Tokens> {
  const res = await id.graphql(REFRESH, { t: token });
  expect(res.errors).toBeUndefined();
  return res.data.refreshToken as Tokens;
}

/** Moves the token's trade `seconds` into the past, as if that long had gone by since. */
async function tradedAgo(refreshToken: string, seconds: number): Promise<void> {
  await id.pool.query('UPDATE refresh_tokens SET used_at = used_at - make_interval(secs => $2) WHERE id = $1', [rowIdOf(refreshToken), seconds]);
}

const reuseEvents = async (orgId: string) => (await id.auditEvents({ action: 'auth.refresh_token_reused' })).filter((e) => e.orgId === orgId);

const sessionOf = async (refreshToken: string) =>
  (await id.pool.query<{ revoked_reason: string | null }>('SELECT s.revoked_reason FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.id = $1', [rowIdOf(refreshToken)])).rows[0];

describe('the refresh-token reuse grace', () => {
  it('is 10 s by default, and a value outside 0..60 s is refused at start', () => {
    expect(id.config.REFRESH_TOKEN_REUSE_GRACE_SECONDS).toBe(10);
    const base = { INTERNAL_TOKEN: id.config.INTERNAL_TOKEN, PRINCIPAL_PUBLIC_KEY: id.config.PRINCIPAL_PUBLIC_KEY };
    expect(loadConfig(identityConfigSchema, { ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' }).REFRESH_TOKEN_REUSE_GRACE_SECONDS).toBe(0);
    for (const bad of ['61', '-1', 'soon']) {
      expect(() => loadConfig(identityConfigSchema, { ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: bad })).toThrow(/REFRESH_TOKEN_REUSE_GRACE_SECONDS/);
    }
  });

  it('within the grace, the previous token answers the same successor and the session continues', async () => {
    const owner = await id.signUp();
    // The page's refresh whose answer never arrived (it reloaded meanwhile)...
    const lost = await refreshed(owner.refreshToken);
    // ...and the next load, which presents the same token again.
    const again = await refreshed(owner.refreshToken);
    expect(again.refreshToken).toBe(lost.refreshToken);
    expect(again.refreshTokenExpiresAt).toBe(lost.refreshTokenExpiresAt);
    expect((await id.graphql(ME, {}, { token: again.accessToken })).data.me).toMatchObject({ role: 'OWNER', user: { id: owner.user.id } });
    // The access token the lost answer carried is not revoked either.
    expect(await id.authenticate({ accessToken: lost.accessToken })).toMatchObject({ id: owner.user.id });

    // The successor is the family's live token: it rotates as ever, and the next load continues from it.
    const next = await refreshed(again.refreshToken);
    expect(next.refreshToken).not.toBe(again.refreshToken);
    expect((await refreshed(next.refreshToken)).refreshToken).toMatch(/^ort_/);
    expect(await sessionOf(owner.refreshToken)).toEqual({ revoked_reason: null });
    expect(await reuseEvents(owner.organization.id)).toEqual([]);

    // Audited as a refresh that named the previous token.
    const refreshes = (await id.auditEvents({ action: 'auth.refresh' })).filter((e) => e.orgId === owner.organization.id);
    expect(refreshes).toHaveLength(4);
    expect(refreshes.filter((e) => e.diff?.reuseGrace)).toEqual([
      expect.objectContaining({ outcome: 'success', diff: { role: 'owner', reuseGrace: { previousId: rowIdOf(owner.refreshToken), usedMsAgo: expect.any(Number) } } }),
    ]);
  });

  it('two refreshes with the same token at once both get the same successor', async () => {
    const owner = await id.signUp();
    const [a, b, c] = await Promise.all([refreshed(owner.refreshToken), refreshed(owner.refreshToken), refreshed(owner.refreshToken)]);
    expect(new Set([a.refreshToken, b.refreshToken, c.refreshToken]).size).toBe(1);
    expect((await refreshed(a.refreshToken)).refreshToken).not.toBe(a.refreshToken);
    expect(await reuseEvents(owner.organization.id)).toEqual([]);
  });

  it('after the grace, the previous token is reuse: the family ends, its access tokens too, and it is audited', async () => {
    const owner = await id.signUp();
    const next = await refreshed(owner.refreshToken);
    await tradedAgo(owner.refreshToken, id.config.REFRESH_TOKEN_REUSE_GRACE_SECONDS + 1);
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    expect(errorOf(await id.graphql(REFRESH, { t: next.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    expect(await rejectionOf(id.authenticate({ accessToken: next.accessToken }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    expect(await sessionOf(owner.refreshToken)).toEqual({ revoked_reason: 'REFRESH_TOKEN_REUSED' });
    const events = await reuseEvents(owner.organization.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'UNAUTHENTICATED', diff: { userId: owner.user.id, sessionRevoked: true } });
  });

  it('a token two generations old is reuse even within the grace', async () => {
    const owner = await id.signUp();
    const second = await refreshed(owner.refreshToken);
    const third = await refreshed(second.refreshToken);
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    expect(errorOf(await id.graphql(REFRESH, { t: third.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    expect(await rejectionOf(id.authenticate({ accessToken: third.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    const events = await reuseEvents(owner.organization.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'UNAUTHENTICATED', diff: { userId: owner.user.id, sessionRevoked: true } });
  });

  it('the previous token of one session never reaches another session', async () => {
    const alice = await id.signUp();
    const bob = await id.signUp();
    const aliceNext = await refreshed(alice.refreshToken);
    await refreshed(bob.refreshToken);
    // Alice's sealed successor copied into Bob's traded row does not open with Bob's token (another key, and
    // the row id is bound in): Bob's previous token is reuse then, even within the grace.
    await id.pool.query('UPDATE refresh_tokens SET successor_sealed = (SELECT successor_sealed FROM refresh_tokens WHERE id = $2) WHERE id = $1', [
      rowIdOf(bob.refreshToken),
      rowIdOf(alice.refreshToken),
    ]);
    expect(errorOf(await id.graphql(REFRESH, { t: bob.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    // Alice's session is untouched.
    expect((await refreshed(aliceNext.refreshToken)).refreshToken).toMatch(/^ort_/);
  });

  it('the database holds the successor only sealed, and forgets it once the successor is traded', async () => {
    const owner = await id.signUp();
    const next = await refreshed(owner.refreshToken);
    const secretOf = (t: string) => t.split('_').slice(2).join('_');
    const sealedOf = async (t: string) => (await id.pool.query<{ successor_sealed: string | null }>('SELECT successor_sealed FROM refresh_tokens WHERE id = $1', [rowIdOf(t)])).rows[0]!.successor_sealed;
    const sealed = await sealedOf(owner.refreshToken);
    expect(sealed).toEqual(expect.any(String));
    const { rows } = await id.pool.query('SELECT * FROM refresh_tokens WHERE session_id = (SELECT session_id FROM refresh_tokens WHERE id = $1)', [rowIdOf(owner.refreshToken)]);
    expect(JSON.stringify(rows)).not.toContain(secretOf(next.refreshToken));
    expect(JSON.stringify(rows)).not.toContain(secretOf(owner.refreshToken));
    await refreshed(next.refreshToken);
    expect(await sealedOf(owner.refreshToken)).toBeNull();
  });
});

describe('with the grace turned off (0)', () => {
  let strict: IdentityHarness;
  beforeAll(async () => {
    strict = await startIdentity({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
  });
  afterAll(async () => {
    await strict.stop();
  });

  it('every second use of a refresh token ends the session, as before', async () => {
    const owner = await strict.signUp();
    const next = (await strict.graphql(REFRESH, { t: owner.refreshToken })).data.refreshToken as Tokens;
    expect(errorOf(await strict.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    expect(errorOf(await strict.graphql(REFRESH, { t: next.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
  });
});
