import {
  createMemoryLogger,
  createMetrics,
  createPool,
  createPrincipalSigner,
  createTestSchema,
  generatePrincipalKeys,
  newId,
  PRINCIPAL_HEADER,
  migrateTestSchema,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  type Pool,
  type Principal,
  type Role,
} from '@orchestra/lib';
import { CATALOG_TENANT_ROLE } from './apps/catalog';
import { catalogConfigSchema, type CatalogConfig } from './config';
import { createCatalogService, migrationsDir, type CatalogServiceHandle } from './service';

/**
 * The catalog service in-process for a test suite: its own PostgreSQL schema, real HTTP on port 0,
 * real gRPC on port 0, principals signed like the gateway signs them. Used only by *.test.ts.
 */
export interface CatalogUnderTest {
  handle: CatalogServiceHandle;
  pool: Pool;
  schema: string;
  httpUrl: string;
  grpcAddress: string;
  config: CatalogConfig;
  log: ReturnType<typeof createMemoryLogger>;
  sign(principal: Principal): Promise<string>;
  /** POSTs a GraphQL operation to the subgraph as `principal` (answers are loosely typed JSON, as tests read them). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  graphql<T = any>(query: string, variables?: Record<string, unknown>, principal?: Principal): Promise<GraphQLResult<T>>;
  stop(): Promise<void>;
}

export interface GraphQLResult<T> {
  data: T | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  errors?: Array<{ message: string; path?: Array<string | number>; extensions: Record<string, any> }>;
}

export interface StartOptions {
  /** Extra environment (CATALOG_HEALTH_*, ...). */
  env?: Record<string, string>;
  /** Run the background loops (health prober, relay): listenService's start(). Default false. */
  runBackground?: boolean;
}

export async function startCatalog({ env = {}, runBackground = false }: StartOptions = {}): Promise<CatalogUnderTest> {
  const test = await createTestSchema('catalog');
  const keys = generatePrincipalKeys();
  const signer = createPrincipalSigner(keys.privateKeyPem);
  const log = createMemoryLogger('catalog');
  const config = catalogConfigSchema.parse({
    DATABASE_URL: TEST_DATABASE_URL,
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    DB_SCHEMA: test.schema,
    HTTP_PORT: '0',
    GRPC_PORT: '0',
    CATALOG_HEALTH_ENABLED: 'true',
    CATALOG_ALLOW_PRIVATE_NETWORK: 'true',
    ...env,
  });
  const pool = createPool({ url: TEST_DATABASE_URL, schema: test.schema, applicationName: 'catalog-test', max: 5, log });
  await migrateTestSchema({ pool, schema: test.schema, dir: migrationsDir, tenantRole: CATALOG_TENANT_ROLE, log });
  const handle = createCatalogService({ pool, config, log, metrics: createMetrics('catalog', { defaultMetrics: false }) });
  const grpcPort = await handle.grpc!.listen('127.0.0.1', 0);
  handle.grpc!.setServing('SERVING');
  await handle.http.listen({ host: '127.0.0.1', port: 0 });
  const address = handle.http.server.address();
  const httpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  if (runBackground) await handle.start?.();

  return {
    handle,
    pool,
    schema: test.schema,
    httpUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    config,
    log,
    sign: (principal) => signer.sign(principal),
    async graphql(query, variables, principal) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (principal) headers[PRINCIPAL_HEADER] = await signer.sign(principal);
      const res = await fetch(`${httpUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as GraphQLResult<never>;
    },
    async stop() {
      await handle.stop();
      await pool.end();
      await test.drop();
    },
  };
}

/** A signed-in user of `orgId` with `role`. */
export const userOf = (orgId: string, role: Role, userId: string = newId()): Principal => ({
  kind: 'user',
  id: userId,
  userId,
  orgId,
  role,
  scopes: [],
  display: `${role}@example.test`,
  requestId: `req_${newId().slice(-12)}`,
});

/** An API key of `orgId` holding `scopes`. */
export const apiKeyOf = (orgId: string, scopes: string[]): Principal => {
  const id = newId();
  return { kind: 'apiKey', id, apiKeyId: id, orgId, scopes, display: 'test key', requestId: `req_${newId().slice(-12)}` };
};

export const APP_FIELDS = `id slug name description status tags owner { id } healthCheckUrl createdAt updatedAt configSchemaVersion
  currentConfig { version config isCurrent }`;
