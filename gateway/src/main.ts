import './apollo-lean';
import { join } from 'node:path';
import {
  createArtifactStore,
  createLogger,
  createMetrics,
  createPrincipalSigner,
  createRedis,
  grpcChannelCredentials,
  INTERNAL_CHANNEL_OPTIONS,
  listenService,
  loadConfig,
  loadGrpcTls,
  runMain,
  stopAll,
} from '@orchestra/lib/gateway';
// Only the two services it calls (the whole @orchestra/proto would load every service's messages).
import * as identityV1 from '@orchestra/proto/identity';
import * as orchestrationV1 from '@orchestra/proto/orchestration';
import { gatewayConfigSchema } from './config';
import { createGateway, readSupergraph } from './gateway';

/** `--supergraph <file>` on the command line wins over SUPERGRAPH_PATH and the committed file. */
const supergraphArg = (): string | undefined => {
  const i = process.argv.indexOf('--supergraph');
  return i >= 0 ? process.argv[i + 1] : undefined;
};

runMain('gateway', async () => {
  const config = loadConfig(gatewayConfigSchema);
  const log = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const metrics = createMetrics('gateway');
  const redis = createRedis({ url: config.REDIS_URL, name: 'gateway', log });
  const subscriber = createRedis({ url: config.REDIS_URL, name: 'gateway-subscriber', log });
  const identity = new identityV1.IdentityServiceClient(config.IDENTITY_GRPC_ADDR, grpcChannelCredentials(loadGrpcTls(config)), INTERNAL_CHANNEL_OPTIONS);
  const orchestration = config.ORCHESTRATION_GRPC_ADDR
    ? new orchestrationV1.OrchestrationServiceClient(config.ORCHESTRATION_GRPC_ADDR, grpcChannelCredentials(loadGrpcTls(config)), INTERNAL_CHANNEL_OPTIONS)
    : undefined;
  const supergraphPath = supergraphArg() ?? config.SUPERGRAPH_PATH ?? join(__dirname, '..', 'supergraph.graphql');
  const handle = await createGateway({
    config,
    log,
    metrics,
    redis,
    subscriber,
    identity,
    signer: createPrincipalSigner(config.PRINCIPAL_PRIVATE_KEY),
    ...(orchestration ? { artifacts: { store: createArtifactStore(config), orchestration }, webhooks: { orchestration } } : {}),
    ...(config.SUPERGRAPH_MODE === 'static' ? { supergraphSdl: readSupergraph(supergraphPath) } : {}),
  });
  const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, opsPort: config.OPS_PORT });
  log.info('listening', { ...addresses, graphql: `${addresses.httpUrl}/graphql`, supergraph: config.SUPERGRAPH_MODE === 'static' ? supergraphPath : 'live' });
  return {
    log,
    stop: () =>
      stopAll([
        () => handle.stop(),
        () => Promise.resolve(identity.close()),
        () => Promise.resolve(orchestration?.close()),
        () => subscriber.quit(),
        () => redis.quit(),
      ]),
  };
});
