import { newId } from '@orchestra/lib';
import { startCatalog, userOf, type CatalogUnderTest } from './test-kit';

// A catalog that does not probe private networks (the production default): a health-check URL whose
// host is a private address written out is refused when it is saved, not left to fail every probe.
let catalog: CatalogUnderTest;
const admin = userOf(newId(), 'admin');
const CREATE = `mutation ($input: CreateAppInput!) { createApp(input: $input) { id healthCheckUrl } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAppInput!) { updateApp(id: $id, input: $input) { healthCheckUrl } }`;

beforeAll(async () => {
  catalog = await startCatalog({ env: { CATALOG_ALLOW_PRIVATE_NETWORK: 'false' } });
});

afterAll(async () => {
  await catalog.stop();
});

const apps = async () => Number((await catalog.pool.query<{ n: string }>('SELECT count(*) AS n FROM apps')).rows[0]!.n);

it.each([
  ['loopback', 'http://127.0.0.1:8080/healthz', '127.0.0.1'],
  ['localhost', 'http://localhost:3000/health', 'localhost'],
  ['a private network', 'https://10.1.2.3/health', '10.1.2.3'],
  ['link-local (cloud metadata)', 'http://169.254.169.254/latest/meta-data', '169.254.169.254'],
  ['IPv6 loopback', 'http://[::1]:9000/health', '::1'],
])('refuses a health-check URL on %s, naming the field and the address, writing nothing', async (_what, url, host) => {
  const before = await apps();
  const { errors } = await catalog.graphql(CREATE, { input: { slug: `app-${newId().slice(-8)}`, name: 'Probe me', healthCheckUrl: url } }, admin);
  expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.healthCheckUrl', reason: 'PRIVATE_ADDRESS' });
  expect(errors?.[0]?.message).toContain(`points at a private address (${host})`);
  expect(await apps()).toBe(before);
});

it('accepts a public host, and refuses a private one on update too', async () => {
  const { data, errors } = await catalog.graphql(CREATE, { input: { slug: 'public-bot', name: 'Public', healthCheckUrl: 'https://bot.example.com/healthz' } }, admin);
  expect(errors).toBeUndefined();
  const id: string = data.createApp.id;
  const refused = await catalog.graphql(UPDATE, { id, input: { healthCheckUrl: 'http://192.168.1.20/health' } }, admin);
  expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.healthCheckUrl', reason: 'PRIVATE_ADDRESS' });
  const { rows } = await catalog.pool.query('SELECT health_check_url FROM apps WHERE id = $1', [id]);
  expect(rows[0].health_check_url).toBe('https://bot.example.com/healthz');
});
