import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTokenRevocations, TEST_DATABASE_URL, TEST_REDIS_URL } from '@orchestra/lib';
import { createPasswordHasher } from './auth/passwords';
import { resetPassword } from './reset-password';
import { AUTH_FIELDS, goodPassword, rejectionOf, startIdentity, type IdentityHarness } from './testing/harness';

const run = promisify(execFile);
let id: IdentityHarness;
const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;

beforeAll(async () => {
  id = await startIdentity();
});

afterAll(async () => {
  await id.stop();
});

const login = (email: string, password: string) => id.graphql(LOGIN, { i: { email, password } }, id.anonymous());
const reset = (email: string, password?: string) =>
  resetPassword({ pool: id.pool, hasher, revocations: createTokenRevocations(id.redis, id.config.REDIS_PREFIX), log: id.log, minLength: 10, email, password });

describe('resetting a password (operators)', () => {
  it('sets a generated password, ends every session at once, and records it in each organization of the user', async () => {
    const owner = await id.signUp();
    const result = await reset(owner.user.email.toUpperCase());
    expect(result).toMatchObject({ userId: owner.user.id, email: owner.user.email, sessionsEnded: 1 });
    expect(result.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await login(owner.user.email, owner.password)).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect((await login(owner.user.email, result.generatedPassword!)).errors).toBeUndefined();
    // The old refresh token and access token no longer work.
    expect((await id.graphql(REFRESH, { t: owner.refreshToken }, id.anonymous())).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(id.authenticate({ accessToken: owner.accessToken })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const events = await id.auditEvents({ action: 'user.reset_password' });
    expect(events.filter((e) => e.targetId === owner.user.id).map((e) => [e.orgId, e.actor.kind, e.diff.sessionsEnded])).toEqual([[owner.organization.id, 'service', 1]]);
  });

  it('refuses an unknown account and a weak chosen password, changing nothing', async () => {
    const owner = await id.signUp();
    await expect(rejectionOf(reset('nobody@example.com'))).resolves.toMatchObject({ code: 'NOT_FOUND', reason: 'USER_NOT_FOUND', message: 'no account uses nobody@example.com' });
    await expect(rejectionOf(reset(owner.user.email, 'short'))).resolves.toMatchObject({ code: 'BAD_USER_INPUT', field: 'NEW_PASSWORD', reason: 'WEAK_PASSWORD' });
    expect((await login(owner.user.email, owner.password)).errors).toBeUndefined();
    expect((await id.auditEvents({ action: 'user.reset_password' })).filter((e) => e.targetId === owner.user.id)).toEqual([]);
  });

  // Four `tsx` starts of the CLI: each compiles it first, which took over 15 s at CI load ~28 (60 s was too little there).
  it('runs as a command: prints a generated password once, or says what was wrong', async () => {
    const owner = await id.signUp();
    const cli = join(__dirname, 'reset-password-cli.ts');
    const tsxCli = require.resolve('tsx/cli');
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: id.config.REDIS_PREFIX,
      DB_SCHEMA: id.schema,
      PASSWORD_HASH_MEMORY_KIB: '1024',
      PASSWORD_HASH_ITERATIONS: '1',
      LOG_LEVEL: 'warn',
    };
    const ok = await run(process.execPath, [tsxCli, cli, owner.user.email], { env });
    const printed = /^password of (\S+) reset \(1 session ended\); new password \(shown once\): (\S+)\n$/.exec(ok.stdout);
    expect(printed?.[1]).toBe(owner.user.email);
    expect((await login(owner.user.email, printed![2]!)).errors).toBeUndefined();

    const chosen = goodPassword();
    const withChosen = await run(process.execPath, [tsxCli, cli, owner.user.email], { env: { ...env, NEW_PASSWORD: chosen } });
    expect(withChosen.stdout).toBe(`password of ${owner.user.email} reset (1 session ended)\n`);
    expect((await login(owner.user.email, chosen)).errors).toBeUndefined();

    const unknown = await run(process.execPath, [tsxCli, cli, 'ghost@example.com'], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(unknown).toMatchObject({ code: 1, stderr: 'reset-password: no account uses ghost@example.com\n' });
    const usage = await run(process.execPath, [tsxCli, cli], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toMatch(/^usage: npm run reset-password -w @orchestra\/identity -- <email>/);
  }, 240_000);
});
