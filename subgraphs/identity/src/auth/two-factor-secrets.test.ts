import { ConfigError, createMemoryLogger, generateEncryptionKeyring, parseEncryptionKeyring, type EncryptionKeyring } from '@orchestra/lib';
import { totpCode } from '../testing/totp-codes';
import { errorOf, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { findTwoFactor } from '../store/two-factor';
import { openTotpSecret, sealTotpSecretsAtRest, twoFactorKeyring } from './two-factor-secrets';

const K1 = generateEncryptionKeyring('k1');
const K2 = generateEncryptionKeyring('k2');
const ring = (raw: string): EncryptionKeyring => parseEncryptionKeyring(raw) as EncryptionKeyring;

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity({ TWO_FACTOR_KEYS: K1 });
});

afterAll(async () => {
  await id.stop();
});

const START = 'mutation { startTwoFactorEnrollment { secret otpauthUrl } }';
const CONFIRM = 'mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }';
const LOGIN = 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }';
const COMPLETE = 'mutation($i: CompleteTwoFactorSignInInput!) { completeTwoFactorSignIn(input: $i) { accessToken user { id } } }';


async function enrol(who: SignedIn): Promise<string> {
  const started = await id.graphql(START, {}, { token: who.accessToken });
  expect(started.errors).toBeUndefined();
  const secret = started.data.startTwoFactorEnrollment.secret as string;
  expect((await id.graphql(CONFIRM, { c: await totpCode(secret, -1) }, { token: who.accessToken })).errors).toBeUndefined();
  return secret;
}

/** Every row of every table in the suite's schema, as text (bytea as hex), searched for the secret in any case and as hex. */
async function schemaHolds(secret: string): Promise<string[]> {
  const { rows: tables } = await id.pool.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1", [id.schema]);
  const hex = Buffer.from(secret, 'utf8').toString('hex');
  const found: string[] = [];
  for (const { name } of tables) {
    const { rows } = await id.pool.query<{ t: string }>(`SELECT row_to_json(x)::text AS t FROM "${id.schema}"."${name}" x`);
    for (const { t } of rows) if (t.toUpperCase().includes(secret.toUpperCase()) || t.toLowerCase().includes(hex)) found.push(name);
  }
  return found;
}

async function signInWithCode(who: SignedIn, secret: string, offset: number): Promise<void> {
  const login = await id.graphql(LOGIN, { input: { email: who.user.email, password: who.password } });
  expect(errorOf(login).reason).toBe('TWO_FACTOR_REQUIRED');
  const challengeToken = login.errors![0]!.extensions['challengeToken'] as string;
  const done = await id.graphql(COMPLETE, { i: { challengeToken, code: await totpCode(secret, offset) } });
  expect(done.errors).toBeUndefined();
  expect(done.data.completeTwoFactorSignIn.user.id).toBe(who.user.id);
}

describe('TOTP secrets at rest', () => {
  it('the database never holds the secret: pending and enabled enrolments keep only ciphertext bound to the user and the key id', async () => {
    const owner = await id.signUp();
    const pending = (await id.graphql(START, {}, { token: owner.accessToken })).data.startTwoFactorEnrollment.secret as string;
    expect(await schemaHolds(pending)).toEqual([]);
    const row = await findTwoFactor(id.pool, owner.user.id);
    expect(row?.secret).toMatchObject({ kind: 'sealed', keyId: 'k1' });
    const { rows } = await id.pool.query('SELECT secret FROM user_two_factor WHERE user_id = $1', [owner.user.id]);
    expect(rows[0].secret).toBeNull();

    const other = await id.signUp();
    const secret = await enrol(other);
    expect(await schemaHolds(secret)).toEqual([]);
    await signInWithCode(other, secret, 1);
    expect(await schemaHolds(secret)).toEqual([]);
    // A sealed secret copied onto another user's row does not open there.
    const sealed = await findTwoFactor(id.pool, other.user.id);
    expect(() => openTotpSecret(ring(K1), owner.user.id, sealed!.secret)).toThrow(/does not open/);
  });

  it('seals plaintext secrets left from before the encryption (migration 006) at start, and sign-in keeps working', async () => {
    const member = await id.signUp();
    const secret = await enrol(member);
    // As a row enrolled before migration 006 looks.
    await id.pool.query('UPDATE user_two_factor SET secret = $2, secret_sealed = NULL, secret_key_id = NULL WHERE user_id = $1', [member.user.id, secret]);
    const before = await findTwoFactor(id.pool, member.user.id);
    expect(before?.secret).toEqual({ kind: 'plaintext', secret });
    // Sign-in reads a plaintext row until it is sealed (codes of the steps after the enrolment's, each used once).
    await signInWithCode(member, secret, 0);

    const report = await sealTotpSecretsAtRest({ pool: id.pool, keyring: ring(K1), log: createMemoryLogger('seal'), batchSize: 2 });
    expect(report).toMatchObject({ sealed: 1, resealed: 0, stranded: 0 });
    expect((await findTwoFactor(id.pool, member.user.id))?.secret).toMatchObject({ kind: 'sealed', keyId: 'k1' });
    const { rows } = await id.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM user_two_factor WHERE secret IS NOT NULL');
    expect(rows[0]!.n).toBe(0);
    expect(await schemaHolds(secret)).toEqual([]);
    await signInWithCode(member, secret, 1);
    // Nothing left to do: a second run changes nothing.
    expect(await sealTotpSecretsAtRest({ pool: id.pool, keyring: ring(K1), log: createMemoryLogger('seal') })).toEqual({ sealed: 0, resealed: 0, stranded: 0 });
    // The table refuses a row with neither or both forms.
    await expect(id.pool.query('UPDATE user_two_factor SET secret = $2 WHERE user_id = $1', [member.user.id, secret])).rejects.toThrow(/user_two_factor_secret_stored/);
  });

  it('rotates: a new key first re-seals every secret of the old one; a ring without the old key reports them stranded', async () => {
    const user = await id.signUp();
    const secret = await enrol(user);
    const rotated = ring(`${K2},${K1}`);
    const report = await sealTotpSecretsAtRest({ pool: id.pool, keyring: rotated, log: createMemoryLogger('seal'), batchSize: 1 });
    expect(report.resealed).toBeGreaterThanOrEqual(1);
    const row = await findTwoFactor(id.pool, user.user.id);
    expect(row?.secret).toMatchObject({ kind: 'sealed', keyId: 'k2' });
    // The old key can go now.
    expect(openTotpSecret(ring(K2), user.user.id, row!.secret)).toBe(secret);
    const { rows } = await id.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM user_two_factor WHERE secret_key_id <> 'k2'");
    expect(rows[0]!.n).toBe(0);

    const log = createMemoryLogger('seal');
    const stranded = await sealTotpSecretsAtRest({ pool: id.pool, keyring: ring(generateEncryptionKeyring('k3')), log });
    expect(stranded.stranded).toBeGreaterThanOrEqual(1);
    expect(log.lines.some((l) => /no longer has/.test(String(l['msg'])))).toBe(true);
    // Put back (k1 and k2 for the other suites' rows): the service's own key opens them again.
    await sealTotpSecretsAtRest({ pool: id.pool, keyring: ring(`${K1},${K2}`), log: createMemoryLogger('seal') });
    await signInWithCode(user, secret, 1);
  });

  it('TWO_FACTOR_KEYS: required in production, a development key elsewhere (with a warning)', () => {
    const log = createMemoryLogger('config');
    expect(() => twoFactorKeyring({ NODE_ENV: 'production' }, log)).toThrow(ConfigError);
    expect(() => twoFactorKeyring({ NODE_ENV: 'production' }, log)).toThrow(/^config: TWO_FACTOR_KEYS expects .* when NODE_ENV=production \(it is not set\)$/);
    expect(twoFactorKeyring({ NODE_ENV: 'development' }, log).active.id).toBe('dev');
    expect(log.lines.some((l) => /TWO_FACTOR_KEYS is not set/.test(String(l['msg'])))).toBe(true);
    expect(twoFactorKeyring({ NODE_ENV: 'production', TWO_FACTOR_KEYS: ring(K1) }, log).active.id).toBe('k1');
  });
});
