import { insecureCredentials, newId, TEST_INTERNAL_TOKEN, unaryCall, grpc } from '@orchestra/lib';
import { catalogV1 } from '@orchestra/proto';
import { apiKeyOf, startCatalog, userOf, type CatalogUnderTest } from '../test-kit';
import { ORG_ID_METADATA } from './catalog-service';

let catalog: CatalogUnderTest;
let client: catalogV1.CatalogServiceClient;
const orgA = newId();
const orgB = newId();
const adminA = userOf(orgA, 'admin');
const ids: Record<string, string> = {};
const opts = { internalToken: TEST_INTERNAL_TOKEN };

beforeAll(async () => {
  catalog = await startCatalog();
  client = new catalogV1.CatalogServiceClient(catalog.grpcAddress, insecureCredentials());
  for (const [slug, principal] of [
    ['alpha', adminA],
    ['beta', adminA],
    ['other-org', userOf(orgB, 'admin')],
  ] as const) {
    const { data, errors } = await catalog.graphql(
      `mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`,
      { input: { slug, name: slug, tags: ['t'], config: { model: slug } } },
      principal,
    );
    expect(errors).toBeUndefined();
    ids[slug] = data.createApp.id;
  }
  await catalog.graphql(`mutation ($id: ID!) { publishAppConfig(id: $id, config: { model: "alpha-2" }) { version } }`, { id: ids['alpha'] }, adminA);
});

afterAll(async () => {
  client.close();
  await catalog.stop();
});

/** Calls with org metadata only (an internal caller with no end user behind it). */
const asOrg = <Req, Res>(method: (req: Req, md: grpc.Metadata, o: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => grpc.ClientUnaryCall, request: Req, orgId: string) =>
  new Promise<Res>((resolve, reject) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TEST_INTERNAL_TOKEN}`);
    md.set(ORG_ID_METADATA, orgId);
    method.call(client, request, md, {}, (error, response) => (error ? reject(error) : resolve(response)));
  });

describe('CatalogService over gRPC', () => {
  it('GetApps returns the apps of the forwarded principal\'s org, in the order asked, leaving out the rest', async () => {
    const header = await catalog.sign(adminA);
    const { apps } = await unaryCall(client, client.getApps, { ids: [ids['beta']!, newId(), 'not-an-id', ids['other-org']!, ids['alpha']!, ids['beta']!] }, opts, { principalHeader: header });
    expect(apps.map((a) => a.slug)).toEqual(['beta', 'alpha']);
    expect(apps[1]).toMatchObject({ id: ids['alpha'], orgId: orgA, name: 'alpha', status: catalogV1.AppStatus.APP_STATUS_ACTIVE, tags: ['t'], currentConfigVersion: 2 });
    expect(apps[1]!.createdAt).toBeInstanceOf(Date);
  });

  it('GetAppConfig returns the current config, or a given version', async () => {
    const header = await catalog.sign(adminA);
    await expect(unaryCall(client, client.getAppConfig, { appId: ids['alpha']!, version: 0 }, opts, { principalHeader: header })).resolves.toEqual({ version: 2, config: { model: 'alpha-2' } });
    await expect(unaryCall(client, client.getAppConfig, { appId: ids['alpha']!, version: 1 }, opts, { principalHeader: header })).resolves.toEqual({ version: 1, config: { model: 'alpha' } });
    await expect(unaryCall(client, client.getAppConfig, { appId: ids['alpha']!, version: 9 }, opts, { principalHeader: header })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      reason: 'CONFIG_VERSION_NOT_FOUND',
    });
  });

  it('does not reveal another org\'s app', async () => {
    const header = await catalog.sign(adminA);
    await expect(unaryCall(client, client.getAppConfig, { appId: ids['other-org']!, version: 0 }, opts, { principalHeader: header })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts an org named in metadata by an internal caller with no end user', async () => {
    const { apps } = await asOrg(client.getApps, { ids: Object.values(ids) }, orgB);
    expect(apps.map((a) => a.slug)).toEqual(['other-org']);
  });

  it('refuses a call with neither a principal nor an org, a bad id, and a key without apps:read', async () => {
    await expect(unaryCall(client, client.getApps, { ids: [ids['alpha']!] }, opts)).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'NO_ORGANIZATION' });
    const header = await catalog.sign(adminA);
    await expect(unaryCall(client, client.getAppConfig, { appId: 'nope', version: 0 }, opts, { principalHeader: header })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'app_id' });
    await expect(unaryCall(client, client.getAppConfig, { appId: ids['alpha']!, version: -1 }, opts, { principalHeader: header })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
    const tooMany = Array.from({ length: 501 }, () => newId());
    await expect(unaryCall(client, client.getApps, { ids: tooMany }, opts, { principalHeader: header })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids' });
    const keyHeader = await catalog.sign(apiKeyOf(orgA, ['runs:read']));
    await expect(unaryCall(client, client.getApps, { ids: [ids['alpha']!] }, opts, { principalHeader: keyHeader })).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
  });

  it('refuses callers without the service token', async () => {
    await expect(unaryCall(client, client.getApps, { ids: [] }, { internalToken: 'wrong-token-wrong-token-wrong-token' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
