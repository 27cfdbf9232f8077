import fastifyCompress from '@fastify/compress';
import type { FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { constants as zlibConstants } from 'node:zlib';
import {
  AppError,
  createHttpApp,
  createTokenRevocations,
  newRequestId,
  registerOpsRoutes,
  type ArtifactStore,
  type Logger,
  type Metrics,
  type Principal,
  type PrincipalSigner,
  type Redis,
  type ServiceHandle,
} from '@orchestra/lib/gateway';
import type { identityV1, orchestrationV1 } from '@orchestra/proto';
import { registerArtifactDownloads } from './artifact-downloads';
import { registerUsageExport } from './usage-export';
import { registerInboundWebhooks } from './inbound-webhooks';
import { createAccessTokenVerifier } from './auth/access-tokens';
import { createAccessWatch } from './auth/access-watch';
import { createApiKeyAuthenticator } from './auth/api-keys';
import { createRevocationCache } from './auth/revocation-cache';
import { createAuthenticator, credentialFromHeaders, type CallerInfo } from './auth/authenticate';
import { assertNotRestrictedToEnrollment } from './auth/two-factor-enrollment';
import type { GatewayConfig } from './config';
import { startFederation, type ExecuteFederated } from './federation';
import { registerGraphQLRoute } from './graphql-handler';
import type { QueryLimits } from './query-limits';
import { createGatewayRateLimiter } from './rate-limits';
import { registerRequestErrorHandler } from './request-errors';
import { buildSubscriptionSchema, createSubscriptionServer, type SubscriptionServer } from './subscriptions';
import { serveWebApp } from './web-app';

export { readSupergraph } from './federation';

export interface GatewayDeps {
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
  /** For rate limits and token revocations. */
  redis: Redis;
  /** A second connection, put in subscriber mode (identity's access announcements). */
  subscriber: Redis;
  identity: identityV1.IdentityServiceClient;
  signer: PrincipalSigner;
  /** The supergraph SDL in static mode. */
  supergraphSdl?: string;
  /** Serves GET /artifacts/<id> (signed download URLs) when set and ARTIFACT_URL_KEYS is configured. */
  artifacts?: { store: ArtifactStore; orchestration: orchestrationV1.OrchestrationServiceClient };
  /** Serves POST /hooks/<trigger id> (inbound webhooks) when set. */
  webhooks?: { orchestration: orchestrationV1.OrchestrationServiceClient };
}

export interface GatewayHandle extends ServiceHandle {
  /** The current API schema (queries and mutations of the supergraph). */
  apiSchema(): GraphQLSchema;
  /** The current public schema (what API keys may use). */
  publicSchema(): GraphQLSchema;
  /** Runs an operation through the federated query plan as `principal` (used by subscriptions). */
  executeFederated: ExecuteFederated;
  authenticate(credential: string | undefined, caller: CallerInfo): Promise<Principal>;
}

/**
 * The gateway: Apollo Gateway under Apollo Server, behind authentication (JWT or API key), rate
 * limits and the public-schema rule for API keys, forwarding a signed principal to every subgraph.
 */
export async function createGateway(deps: GatewayDeps): Promise<GatewayHandle> {
  const { config, log, metrics, redis, subscriber, identity, signer } = deps;
  const watch = await createAccessWatch({ subscriber, redisPrefix: config.REDIS_PREFIX, log: log.child({ component: 'access-watch' }) });
  const revocations = createRevocationCache({ revocations: createTokenRevocations(redis, config.REDIS_PREFIX), watch, redis });
  const accessTokens = createAccessTokenVerifier(config.IDENTITY_HTTP_URL, revocations);
  const apiKeys = createApiKeyAuthenticator({
    identity,
    internalToken: config.INTERNAL_TOKEN,
    watch,
    maxTtlMs: config.API_KEY_CACHE_TTL_MS,
    log: log.child({ component: 'api-keys' }),
  });
  const authenticator = createAuthenticator(accessTokens, apiKeys);
  const limiterLog = log.child({ component: 'rate-limit' });
  const userLimiter = createGatewayRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:rl:gateway`, limit: config.RATE_LIMIT_PER_MINUTE, windowMs: 60_000, log: limiterLog, metrics });
  const anonymousLimiter = createGatewayRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:rl:gateway-anon`, limit: config.ANONYMOUS_RATE_LIMIT_PER_MINUTE, windowMs: 60_000, log: limiterLog, metrics });
  const queryLimits: QueryLimits = {
    maxDepth: config.MAX_QUERY_DEPTH,
    maxFields: config.MAX_QUERY_FIELDS,
    maxCost: config.MAX_QUERY_COST,
    maxVariablesDepth: config.MAX_VARIABLES_DEPTH,
    defaultListSize: config.QUERY_COST_DEFAULT_LIST_SIZE,
  };
  const federation = await startFederation({ config, log, signer, supergraphSdl: deps.supergraphSdl });
  const { executeFederated, subgraphUrls } = federation;

  let accepting = true;
  const bodyLimit = 1024 * 1024;
  const app = createHttpApp({ log, metrics, trustProxy: config.TRUSTED_PROXIES, bodyLimit });
  registerRequestErrorHandler(app, { bodyLimit, log });
  // Responses over 1 KiB (GraphQL answers and the web app's assets) compressed as the client accepts:
  // brotli at a quality that costs little CPU, else gzip.
  await app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'], brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } });
  const ops = createHttpApp({ log, metrics });
  const opsRoutes = {
    metrics,
    isAccepting: () => accepting,
    readiness: {
      redis: () => redis.ping(),
      ...Object.fromEntries(
        [...subgraphUrls].map(([name, url]) => [
          `subgraph:${name}`,
          async () => {
            const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(1_500) });
            if (!res.ok) throw new Error(`${name} answered ${res.status}`);
          },
        ]),
      ),
    },
  };
  // The public port says whether the gateway is ready, nothing more; the details and the metrics are on the ops port.
  registerOpsRoutes(app, { ...opsRoutes, exposure: 'public' });
  registerOpsRoutes(ops, opsRoutes);
  if (config.WEB_DIST_DIR) await serveWebApp(app, config.WEB_DIST_DIR);
  app.get('/schema/public.graphql', async (_request, reply) => {
    const { printSchema, lexicographicSortSchema } = await import('graphql');
    const publicSchema = federation.publicSchema();
    if (!publicSchema) return reply.code(503).send('the supergraph is not loaded yet');
    // With orchestration composed, third parties may also subscribe to their runs' events.
    const withSubscriptions = publicSchema.getType('RunEvent') ? buildSubscriptionSchema(publicSchema) : publicSchema;
    return reply.type('text/plain; charset=utf-8').send(printSchema(lexicographicSortSchema(withSubscriptions)));
  });

  const principalFor = async (request: FastifyRequest, traceparent: string): Promise<Principal> =>
    authenticator.authenticate(credentialFromHeaders(request.headers), {
      requestId: request.id,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
      traceparent,
    });

  if (deps.artifacts && config.ARTIFACT_URL_KEYS) {
    registerArtifactDownloads(app, {
      keys: config.ARTIFACT_URL_KEYS,
      store: deps.artifacts.store,
      orchestration: deps.artifacts.orchestration,
      internalToken: config.INTERNAL_TOKEN,
      signer: deps.signer,
      log: log.child({ component: 'artifact-downloads' }),
      metrics,
      principalOf: async (request) => {
        const principal = await principalFor(request, '');
        assertNotRestrictedToEnrollment(principal, 'artifact downloads');
        return principal;
      },
      allow: (request) => anonymousLimiter.hit(`ip:${request.ip}`),
    });
  } else {
    log.warn('artifact downloads are off (set ARTIFACT_URL_KEYS and ORCHESTRATION_GRPC_ADDR)');
  }

  if (deps.webhooks) {
    registerInboundWebhooks(app, {
      orchestration: deps.webhooks.orchestration,
      internalToken: config.INTERNAL_TOKEN,
      maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
      log: log.child({ component: 'inbound-webhooks' }),
      metrics,
      allow: (request) => anonymousLimiter.hit(`ip:${request.ip}`),
    });
  } else {
    log.warn('inbound webhooks are off (set ORCHESTRATION_GRPC_ADDR)');
  }

  registerGraphQLRoute(app, {
    federation,
    principalFor,
    userLimiter,
    anonymousLimiter,
    queryLimits,
    maxQueryTokens: config.MAX_QUERY_TOKENS,
    log,
    metrics,
  });

  // The organization's usage as CSV, with the caller's credential (issue 14).
  registerUsageExport(app, {
    principalOf: async (request) => {
      const principal = await principalFor(request, '');
      assertNotRestrictedToEnrollment(principal, 'the usage export');
      return principal;
    },
    allow: (principal) => userLimiter.hit(`${principal.kind}:${principal.id}`),
    executeFederated,
  });

  // Live run events over graphql-ws on the same /graphql path (Apollo Gateway cannot execute
  // subscriptions; the subscription server resolves each event's selection through the federated plan).
  let subscriptions: SubscriptionServer | undefined;
  const apiSchema = federation.apiSchema();
  const publicSchema = federation.publicSchema();
  if (apiSchema && publicSchema && apiSchema.getType('RunEvent')) {
    subscriptions = createSubscriptionServer({
      httpServer: app.server,
      path: '/graphql',
      apiSchema,
      publicApiSchema: publicSchema,
      authenticate: async (authorization, caller) => {
        const credential = typeof authorization === 'string' && authorization.trim() !== '' ? credentialFromHeaders({ authorization }) : undefined;
        const info = { requestId: newRequestId(), ip: caller.ip, userAgent: caller.userAgent };
        const { principal, claims } = await authenticator.authenticateWithClaims(credential, info);
        assertNotRestrictedToEnrollment(principal, 'subscriptions');
        return {
          principal,
          expiresAt: claims ? claims.exp * 1000 : undefined,
          sessionId: claims?.sid,
          tokenVersion: claims?.tv,
          // Asked again after announcements may have been missed (JWT: revocations; API keys: identity).
          recheck: async () => {
            await authenticator.authenticate(credential, { ...info, requestId: newRequestId() });
          },
        };
      },
      watch,
      limits: queryLimits,
      executeFederated,
      redis,
      redisPrefix: config.REDIS_PREFIX,
      log,
      metrics,
      compression: config.WS_COMPRESSION,
    });
  } else {
    log.warn('subscriptions are off: the supergraph has no orchestration RunEvent type');
  }

  return {
    name: 'gateway',
    http: app,
    ops,
    apiSchema: () => {
      const schema = federation.apiSchema();
      if (!schema) throw new AppError('UNAVAILABLE', 'the supergraph is not loaded yet');
      return schema;
    },
    publicSchema: () => {
      const schema = federation.publicSchema();
      if (!schema) throw new AppError('UNAVAILABLE', 'the supergraph is not loaded yet');
      return schema;
    },
    executeFederated,
    authenticate: (credential, caller) => authenticator.authenticate(credential, caller),
    async stop() {
      accepting = false;
      await subscriptions?.stop();
      await app.close();
      await ops.close();
      await federation.stop();
      await apiKeys.stop();
      revocations.stop();
      await Promise.all([userLimiter.stop(), anonymousLimiter.stop()]);
      await watch.stop();
    },
  };
}
