import { AUTH_FIELDS, errorOf, goodPassword, startIdentity, uniqueEmail, type IdentityHarness } from '../testing/harness';

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity({
    LOGIN_FREE_FAILURES_PER_CLIENT: '3',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '5',
    LOGIN_MAX_FAILURES_PER_IP: '50',
    SIGN_UPS_PER_IP: '2',
    ORGANIZATIONS_PER_IP: '2',
  });
});

afterAll(async () => {
  await id.stop();
});

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;

/** Signs up from a given IP (the owner's usual client). */
async function signUpFrom(ip: string) {
  const input = { email: uniqueEmail('owner'), password: goodPassword(), name: 'Olive Owner', organizationName: 'Throttle Org' };
  const res = await id.graphql(SIGN_UP, { input }, id.anonymous(ip));
  expect(res.errors).toBeUndefined();
  return { ...res.data.signUp, password: input.password };
}

const login = (email: string, password: string, ip: string) => id.graphql(LOGIN, { input: { email, password } }, id.anonymous(ip));

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('failed sign-ins slow the one who fails, not the owner (issue 9, item 4)', () => {
  it("a third party's failures delay only the third party's client; the owner from another client signs in", async () => {
    const owner = await signUpFrom('198.51.100.10');
    const attacker = '203.0.113.20';
    for (let i = 0; i < 3; i += 1) expect(errorOf(await login(owner.user.email, `Wrong-Guess-${i}-xx`, attacker)).reason).toBe('INVALID_CREDENTIALS');
    const delayed = await login(owner.user.email, owner.password, attacker);
    expect(delayed.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'TOO_MANY_FAILED_SIGN_INS' });
    expect(delayed.errors?.[0]?.extensions['retryAfterSeconds']).toBeGreaterThan(0);
    // The owner, from the client they use, and from a new one (the account-wide limit is not reached).
    expect((await login(owner.user.email, owner.password, '198.51.100.10')).errors).toBeUndefined();
    expect((await login(owner.user.email, owner.password, '198.51.100.11')).errors).toBeUndefined();
  });

  it('delays grow with every further failure from the same client', async () => {
    const owner = await signUpFrom('198.51.100.30');
    const attacker = '203.0.113.31';
    for (let i = 0; i < 3; i += 1) await login(owner.user.email, `Wrong-Guess-${i}-xx`, attacker);
    const first = await login(owner.user.email, 'Wrong-Guess-again', attacker);
    expect(first.errors?.[0]?.extensions['retryAfterSeconds']).toBe(1);
    // Once the first delay has passed, one more failure doubles it.
    await waitUntil(async () => errorOf(await login(owner.user.email, 'Wrong-Guess-4th', attacker)).reason === 'INVALID_CREDENTIALS', 'the first delay to pass');
    const second = await login(owner.user.email, owner.password, attacker);
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 2 });
  });

  it('many clients failing on one account stop strangers, while clients the owner signed in from still work', async () => {
    const home = '198.51.100.40';
    const owner = await signUpFrom(home);
    for (let i = 0; i < 5; i += 1) expect(errorOf(await login(owner.user.email, `Wrong-Guess-${i}-xx`, `203.0.113.${50 + i}`)).reason).toBe('INVALID_CREDENTIALS');
    const stranger = await login(owner.user.email, owner.password, '203.0.113.99');
    expect(errorOf(stranger)).toEqual({ code: 'RATE_LIMITED', reason: 'TOO_MANY_FAILED_SIGN_INS' });
    expect((await login(owner.user.email, owner.password, home)).errors).toBeUndefined();
  });

  it('a successful sign-in forgets the client\'s failures', async () => {
    const owner = await signUpFrom('198.51.100.60');
    const ip = '198.51.100.61';
    for (let i = 0; i < 2; i += 1) await login(owner.user.email, `Wrong-Guess-${i}-xx`, ip);
    expect((await login(owner.user.email, owner.password, ip)).errors).toBeUndefined();
    for (let i = 0; i < 2; i += 1) expect(errorOf(await login(owner.user.email, `Wrong-Guess-${i}-yy`, ip)).reason).toBe('INVALID_CREDENTIALS');
    expect((await login(owner.user.email, owner.password, ip)).errors).toBeUndefined();
  });
});

describe('sign-ups and organization creation are limited per IP (issue 9, item 13)', () => {
  it('refuses the sign-up past the limit from one IP, writing nothing, and not other IPs', async () => {
    const ip = '198.51.100.70';
    await signUpFrom(ip);
    await signUpFrom(ip);
    const before = await id.count('organizations');
    const input = { email: uniqueEmail('third'), password: goodPassword(), name: 'Third', organizationName: 'Third Org' };
    const refused = await id.graphql(SIGN_UP, { input }, id.anonymous(ip));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'TOO_MANY_SIGN_UPS' });
    expect(refused.errors?.[0]?.extensions['retryAfterSeconds']).toBeGreaterThan(0);
    expect(await id.count('organizations')).toBe(before);
    expect((await id.graphql(SIGN_UP, { input }, id.anonymous('198.51.100.71'))).errors).toBeUndefined();
  });

  it('refuses organization creation past the limit from one IP', async () => {
    const owner = await signUpFrom('198.51.100.80');
    const principal = { ...(await id.authenticate({ accessToken: owner.accessToken })), ip: '198.51.100.81' };
    const create = (name: string) => id.graphql('mutation($n: String!) { createOrganization(input: { name: $n }) { id } }', { n: name }, principal);
    expect((await create('One')).errors).toBeUndefined();
    expect((await create('Two')).errors).toBeUndefined();
    expect(errorOf(await create('Three'))).toEqual({ code: 'RATE_LIMITED', reason: 'TOO_MANY_ORGANIZATIONS' });
    expect((await create('Four')).errors?.[0]?.extensions['retryAfterSeconds']).toBeGreaterThan(0);
  });
});
