import { ConfigError, loadConfig } from '@orchestra/lib';
import { createPasswordHasher } from './auth/passwords';
import { identityConfigSchema } from './config';
import { ensureFirstAdmin } from './first-admin';
import { errorOf, startIdentity, type IdentityHarness } from './testing/harness';

let id: IdentityHarness;
const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

beforeAll(async () => {
  id = await startIdentity();
});

afterAll(async () => {
  await id.stop();
});

const configWith = (env: Record<string, string>) =>
  loadConfig(identityConfigSchema, {
    INTERNAL_TOKEN: id.config.INTERNAL_TOKEN,
    PRINCIPAL_PUBLIC_KEY: id.config.PRINCIPAL_PUBLIC_KEY,
    ...env,
  });

describe('the first admin', () => {
  it('refuses a weak ADMIN_PASSWORD or a bad ADMIN_EMAIL in one line naming the variable, creating nothing', async () => {
    const weak = ensureFirstAdmin({ pool: id.pool, hasher, config: configWith({ ADMIN_PASSWORD: 'password1' }) });
    await expect(weak).rejects.toThrow(ConfigError);
    await expect(weak).rejects.toThrow(/^config: ADMIN_PASSWORD password is too short/);
    await expect(ensureFirstAdmin({ pool: id.pool, hasher, config: configWith({ ADMIN_EMAIL: 'root' }) })).rejects.toThrow(/^config: ADMIN_EMAIL "root" is not a valid email address/);
    expect(await id.count('users')).toBe(0);
  });

  it('is created exactly once when replicas start together, with a generated password that signs in', async () => {
    const config = configWith({ ADMIN_EMAIL: 'Root@Example.com', ADMIN_ORG_NAME: 'Initech' });
    const results = await Promise.all([1, 2, 3].map(() => ensureFirstAdmin({ pool: id.pool, hasher, config })));
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    const admin = created[0]!;
    if (!admin.created) throw new Error('unreachable');
    expect(admin).toMatchObject({ email: 'root@example.com', organization: 'Initech', generatedPassword: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) });
    expect(await id.count('users')).toBe(1);
    const login = await id.graphql('mutation($i: LoginInput!) { login(input: $i) { role organization { name } } }', { i: { email: 'root@example.com', password: admin.generatedPassword } });
    expect(login.data.login).toEqual({ role: 'OWNER', organization: { name: 'Initech' } });
    expect((await id.auditEvents({ action: 'organization.create' })).filter((e) => e.diff?.firstAdmin === true)).toHaveLength(1);
  });

  it('is not created again once there are users', async () => {
    expect(await ensureFirstAdmin({ pool: id.pool, hasher, config: configWith({ ADMIN_EMAIL: 'other@example.com', ADMIN_PASSWORD: 'Another-Strong-Pass-42' }) })).toEqual({ created: false });
    const login = await id.graphql('mutation($i: LoginInput!) { login(input: $i) { role } }', { i: { email: 'other@example.com', password: 'Another-Strong-Pass-42' } });
    expect(errorOf(login)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  });
});
