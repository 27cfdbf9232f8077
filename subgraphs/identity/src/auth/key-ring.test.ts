import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, createMemoryLogger, JWKS_PATH } from '@orchestra/lib';
import { rejectionOf, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { createKeyRing } from './key-ring';

let id: IdentityHarness;
let owner: SignedIn;

beforeAll(async () => {
  id = await startIdentity();
  owner = await id.signUp();
});

afterAll(async () => {
  await id.stop();
});

const jwks = async (): Promise<JSONWebKeySet> => {
  const res = await id.service.http.inject({ method: 'GET', url: JWKS_PATH });
  expect(res.statusCode).toBe(200);
  return res.json<JSONWebKeySet>();
};

const login = async (): Promise<SignedIn> => {
  const res = await id.graphql('mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id email name } organization { id name } role } }', {
    i: { email: owner.user.email, password: owner.password },
  });
  return { ...res.data.login, password: owner.password };
};

/** Signs claims with a signing key straight from identity's table (what only identity can do). */
async function signWithStoredKey(claims: Record<string, unknown>, { expiresAt }: { expiresAt: number }): Promise<string> {
  const { rows } = await id.pool.query<{ kid: string; algorithm: string; private_key_pem: string }>(
    'SELECT kid, algorithm, private_key_pem FROM signing_keys WHERE retires_at IS NULL ORDER BY activates_at DESC LIMIT 1',
  );
  const key = rows[0]!;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.algorithm, kid: key.kid })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(expiresAt - 900)
    .setExpirationTime(expiresAt)
    .sign(createPrivateKey(key.private_key_pem));
}

describe('access tokens and the JWKS', () => {
  it('are served without a principal, public parts only', async () => {
    const set = await jwks();
    expect(set.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of set.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('carry exactly the contract claims, a kid, and verify against the JWKS', async () => {
    const { accessToken } = await login();
    const header = decodeProtectedHeader(accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: expect.any(String) });
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(await jwks()), { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'email', 'exp', 'iat', 'iss', 'org', 'role', 'sid', 'sub', 'tv']);
    expect(payload).toMatchObject({ sub: owner.user.id, org: owner.organization.id, role: 'owner', email: owner.user.email, tv: 0 });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
  });

  it('refuses expired, tampered and foreign-signed tokens with their own reasons', async () => {
    const { accessToken } = await login();
    const claims = decodeJwt(accessToken);
    const expired = await signWithStoredKey({ ...claims, exp: undefined, iat: undefined, iss: undefined, aud: undefined }, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    expect(await rejectionOf(id.authenticate({ accessToken: expired }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });

    const [h, p, s] = accessToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, role: 'owner', org: '01900000-0000-7000-8000-000000000000' })).toString('base64url');
    expect(await rejectionOf(id.authenticate({ accessToken: `${h}.${forgedPayload}.${s}` }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
    expect(await rejectionOf(id.authenticate({ accessToken: `${h}.${p}.${s!.slice(0, -4)}AAAA` }))).toMatchObject({ reason: 'TOKEN_INVALID' });

    const foreign = generateKeyPairSync('ed25519').privateKey;
    const sameKid = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: decodeProtectedHeader(accessToken).kid! })
      .sign(foreign);
    expect(await rejectionOf(id.authenticate({ accessToken: sameKid }))).toMatchObject({ reason: 'TOKEN_INVALID' });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    expect(await rejectionOf(id.authenticate({ accessToken: unsigned }))).toMatchObject({ reason: 'TOKEN_INVALID' });
    expect(await rejectionOf(id.authenticate({ accessToken: 'not a jwt' }))).toMatchObject({ reason: 'TOKEN_INVALID' });
  });
});

describe('key rotation', () => {
  it('a new key signs at once; the old one stays published until its tokens have expired', async () => {
    const before = await login();
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const rotated = await id.service.keyRing.rotate(0);
    expect(rotated.kid).not.toBe(oldKid);

    const after = await login();
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotated.kid);
    const published = (await jwks()).keys.map((k) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, rotated.kid]));
    // Tokens of both keys are accepted.
    expect((await id.authenticate({ accessToken: before.accessToken })).id).toBe(owner.user.id);
    expect((await id.authenticate({ accessToken: after.accessToken })).id).toBe(owner.user.id);

    // Once the old key retired longer ago than an access token lives, it leaves the JWKS and is deleted.
    await id.pool.query("UPDATE signing_keys SET retires_at = now() - interval '1 hour' WHERE kid = $1", [oldKid]);
    await id.service.keyRing.reload();
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
    expect(await rejectionOf(id.authenticate({ accessToken: before.accessToken }))).toMatchObject({ reason: 'TOKEN_INVALID' });
    expect(await id.service.keyRing.pruneExpired()).toBe(1);
    expect((await id.pool.query('SELECT 1 FROM signing_keys WHERE kid = $1', [oldKid])).rowCount).toBe(0);
  });

  it('with a publish-ahead, the next key is in the JWKS before it signs', async () => {
    const current = decodeProtectedHeader((await login()).accessToken).kid;
    const next = await id.service.keyRing.rotate(3600);
    expect((await jwks()).keys.map((k) => k.kid)).toContain(next.kid);
    expect(decodeProtectedHeader((await login()).accessToken).kid).toBe(current);
    // Bring its activation forward: from then on it signs.
    await id.pool.query("UPDATE signing_keys SET activates_at = now() - interval '1 second' WHERE kid = $1", [next.kid]);
    await id.pool.query("UPDATE signing_keys SET retires_at = now() - interval '1 second' WHERE kid = $1", [current]);
    await id.service.keyRing.reload();
    expect(decodeProtectedHeader((await login()).accessToken).kid).toBe(next.kid);
  });

  it('rotates automatically once the newest key is older than the limit, once across replicas', async () => {
    expect(await id.service.keyRing.rotateIfOlderThan(3600, 0)).toBeUndefined();
    await id.pool.query("UPDATE signing_keys SET created_at = now() - interval '2 hours'");
    const replicas = [1, 2, 3].map(() => createKeyRing({ pool: id.pool, log: createMemoryLogger(), algorithm: 'EdDSA', accessTokenTtlSeconds: 900 }));
    const results = await Promise.all(replicas.map((r) => r.rotateIfOlderThan(3600, 0)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const { rows } = await id.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys WHERE retires_at IS NULL');
    expect(rows[0]!.n).toBe(1);
  });

  it('can make ES256 keys', async () => {
    const ring = createKeyRing({ pool: id.pool, log: createMemoryLogger(), algorithm: 'ES256', accessTokenTtlSeconds: 900 });
    const key = await ring.rotate(0);
    expect(key.algorithm).toBe('ES256');
    await id.service.keyRing.reload();
    const { accessToken } = await login();
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'ES256', kid: key.kid });
    expect((await jwks()).keys.find((k) => k.kid === key.kid)).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect((await id.authenticate({ accessToken })).id).toBe(owner.user.id);
  });
});
