import {
  createMemoryLogger,
  createMetrics,
  createPrincipalSigner,
  createRedis,
  generatePrincipalKeys,
  insecureCredentials,
  listenService,
  TEST_INTERNAL_TOKEN,
  TEST_REDIS_URL,
  uniqueName,
} from '@orchestra/lib';
import { identityV1 } from '@orchestra/proto';
import { gatewayConfigSchema } from '../config';
import { createGateway, type GatewayHandle } from '../gateway';

export interface TestGateway {
  gateway: GatewayHandle;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** http://127.0.0.1:<port> of the ops port (/readyz with its checks, /metrics). */
  opsUrl: string;
  log: ReturnType<typeof createMemoryLogger>;
  stop(): Promise<void>;
}

/**
 * A gateway over `supergraphSdl` for a suite, on port 0, with the machine's Redis (a prefix of its
 * own) and an IdentityService address where nothing listens (suites that need identity start it).
 */
export async function startTestGateway({
  supergraphSdl,
  keys = generatePrincipalKeys(),
  log = createMemoryLogger('gateway-test'),
  env = {},
  redisUrl = TEST_REDIS_URL,
}: {
  /** A Redis of the suite's own (a test that stops it must never stop the machine's). */
  redisUrl?: string;
  /** Unset: the gateway composes live from SUBGRAPH_<NAME>_URL (env: SUPERGRAPH_MODE=live). */
  supergraphSdl?: string | undefined;
  keys?: ReturnType<typeof generatePrincipalKeys>;
  log?: ReturnType<typeof createMemoryLogger>;
  env?: Record<string, string>;
}): Promise<TestGateway> {
  const redis = createRedis({ url: redisUrl, name: 'gw-test', log });
  const subscriber = createRedis({ url: redisUrl, name: 'gw-test-sub', log });
  const identity = new identityV1.IdentityServiceClient('127.0.0.1:1', insecureCredentials());
  const config = gatewayConfigSchema.parse({ INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, PRINCIPAL_PRIVATE_KEY: keys.privateKeyPem, REDIS_PREFIX: uniqueName('gwtest'), HTTP_PORT: '0', OPS_PORT: '0', ...env });
  const gateway = await createGateway({
    config,
    log,
    metrics: createMetrics('gateway', { defaultMetrics: false }),
    redis,
    subscriber,
    identity,
    signer: createPrincipalSigner(keys.privateKeyPem),
    ...(supergraphSdl === undefined ? {} : { supergraphSdl }),
  });
  const { httpUrl, opsUrl } = await listenService(gateway, { host: '127.0.0.1', httpPort: 0, opsPort: 0 });
  return {
    gateway,
    url: `${httpUrl}/graphql`,
    opsUrl: opsUrl!,
    log,
    async stop() {
      await gateway.stop();
      identity.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
