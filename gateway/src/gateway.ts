import fastifyCompress from '@fastify/compress';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parse, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { constants as zlibConstants } from 'node:zlib';
import {
  AppError,
  createHttpApp,
  createTokenRevocations,
  endSpan,
  ERROR_CODES,
  newRequestId,
  PRINCIPAL_HEADER,
  registerOpsRoutes,
  servicePrincipal,
  SpanKind,
  startSpan,
  toAppError,
  toClientGraphQLError,
  traceIdOf,
  withContext,
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
import { assertNotRestrictedToEnrollment, checkEnrollmentOperation } from './auth/two-factor-enrollment';
import { buildPublicSchema, publicTagsOf } from './compose/compose';
import { SUBGRAPH_NAMES, subgraphUrlOverrides, type GatewayConfig } from './config';
import type { GatewayContext } from './context';
import { depthLimitRule } from './depth-limit';
import { checkOperation, checkVariables, type QueryLimits } from './query-limits';
import { createGatewayRateLimiter } from './rate-limits';
import { registerRequestErrorHandler } from './request-errors';
import { errorShapingPlugin } from './error-shaping';
import { checkPublicOperation, introspectPublic, isIntrospectionOnly } from './public-api';
import { createSubgraphFetcher, SignedPrincipalDataSource } from './subgraph-datasource';
import { buildSubscriptionSchema, createSubscriptionServer, type SubscriptionServer } from './subscriptions';
import { serveWebApp } from './web-app';

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
  executeFederated(args: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }): Promise<ExecutionResult>;
  authenticate(credential: string | undefined, caller: CallerInfo): Promise<Principal>;
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** Reads the query, variables and operation name of a GET or POST GraphQL request. */
function operationOf(request: FastifyRequest): { query?: string; variables?: Record<string, unknown>; operationName?: string } {
  if (request.method === 'GET') {
    const q = request.query as Record<string, string | undefined>;
    let variables: Record<string, unknown> | undefined;
    try {
      variables = q['variables'] ? (JSON.parse(q['variables']) as Record<string, unknown>) : undefined;
    } catch {
      variables = undefined;
    }
    return { query: q['query'], variables, operationName: q['operationName'] };
  }
  const body = (request.body ?? {}) as GraphQLBody;
  return {
    query: typeof body.query === 'string' ? body.query : undefined,
    variables: typeof body.variables === 'object' && body.variables !== null ? (body.variables as Record<string, unknown>) : undefined,
    operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
  };
}

/**
 * The gateway: Apollo Gateway under Apollo Server, behind authentication (JWT or API key), rate
 * limits and the public-schema rule for API keys, forwarding a signed principal to every subgraph.
 */
export async function createGateway(deps: GatewayDeps): Promise<GatewayHandle> {
  const { config, log, metrics, redis, subscriber, identity, signer } = deps;
  const overrides = subgraphUrlOverrides(config);
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
  const documents = createDocumentCache(config.MAX_QUERY_TOKENS);
  const operations = metrics.counter('gateway_requests_total', 'GraphQL requests by principal kind and outcome', ['principal', 'outcome']);

  const subgraphUrls = new Map<string, string>();
  const subgraphFetch = createSubgraphFetcher();
  const gateway = new ApolloGateway({
    ...(config.SUPERGRAPH_MODE === 'live'
      ? {
          supergraphSdl: new IntrospectAndCompose({
            subgraphs: SUBGRAPH_NAMES.filter((name) => overrides[name] !== undefined).map((name) => ({ name, url: overrides[name]! })),
            pollIntervalInMs: 5_000,
            introspectionHeaders: async () => ({ [PRINCIPAL_HEADER]: await signer.sign(servicePrincipal('gateway', newRequestId())) }),
          }),
        }
      : { supergraphSdl: deps.supergraphSdl ?? '' }),
    buildService: ({ name, url }) => {
      const resolved = overrides[name as keyof typeof overrides] ?? url ?? '';
      subgraphUrls.set(name, resolved);
      return new SignedPrincipalDataSource({ name, url: resolved, fetcher: subgraphFetch.fetcher });
    },
    logger: {
      debug: (m: unknown) => log.debug(String(m)),
      info: (m: unknown) => log.info(String(m)),
      warn: (m: unknown) => log.warn(String(m)),
      error: (m: unknown) => log.error(String(m)),
    },
  });

  let apiSchema: GraphQLSchema | undefined;
  let publicSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: next, coreSupergraphSdl }) => {
    apiSchema = next;
    publicSchema = buildPublicSchema(next, publicTagsOf(coreSupergraphSdl));
    log.info('supergraph loaded', { subgraphs: [...subgraphUrls.keys()] });
  });

  const server = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // main.ts owns signals (runMain drains everything in order); Apollo's own handler would re-raise them.
    stopOnTerminationSignals: false,
    validationRules: [depthLimitRule(config.MAX_QUERY_DEPTH)],
    parseOptions: { maxTokens: config.MAX_QUERY_TOKENS },
    plugins: [errorShapingPlugin(log)],
  });
  await server.start();

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
    if (!publicSchema) return reply.code(503).send('the supergraph is not loaded yet');
    // With orchestration composed, third parties may also subscribe to their runs' events.
    const withSubscriptions = publicSchema.getType('RunEvent') ? buildSubscriptionSchema(publicSchema) : publicSchema;
    return reply.type('text/plain; charset=utf-8').send(printSchema(lexicographicSortSchema(withSubscriptions)));
  });

  const refuse = (reply: FastifyReply, error: unknown, requestId: string, kind: string) => {
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL') log.error('request refused', { err: error, requestId });
    else if (appError.code === 'UNAVAILABLE') log.warn('request refused', { err: error, requestId, reason: appError.reason });
    else log.info('request refused', { requestId, code: appError.code, reason: appError.reason, message: appError.message });
    operations.inc({ principal: kind, outcome: appError.code });
    if (appError.code === 'RATE_LIMITED' || appError.code === 'UNAVAILABLE') {
      const retryAfterMs = Number(appError.details?.['retryAfterMs'] ?? 1000);
      void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    }
    return reply.code(ERROR_CODES[appError.code].http).send({ errors: [toClientGraphQLError(appError, requestId).toJSON()] });
  };

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

  // One span per request (the caller's trace continued); Apollo Gateway's plan and fetch spans, and
  // the subgraphs' spans, nest under it.
  app.route({
    method: ['GET', 'POST'],
    url: '/graphql',
    handler: async (request, reply) => {
      const sent = request.headers['traceparent'];
      const traced = startSpan('graphql request', typeof sent === 'string' ? sent : undefined, SpanKind.SERVER, {
        'http.request.method': request.method,
        'orchestra.request_id': request.id,
      });
      try {
        return await withContext(traced.context, () => handleGraphQL(request, reply, traced.traceparent));
      } finally {
        endSpan(traced.span, { attributes: { 'http.response.status_code': reply.statusCode }, failure: reply.statusCode >= 500 ? `HTTP ${reply.statusCode}` : undefined });
      }
    },
  });

  const handleGraphQL = async (request: FastifyRequest, reply: FastifyReply, traceparent: string) => {
    const requestId = request.id;
    let principal: Principal;
    try {
      principal = await principalFor(request, traceparent);
      const anonymous = principal.kind === 'anonymous';
      const limited = anonymous ? anonymousLimiter.hit(`ip:${request.ip}`) : userLimiter.hit(`${principal.kind}:${principal.id}`);
      if (!limited.allowed) {
        throw new AppError('RATE_LIMITED', `too many requests: at most ${limited.limit} per minute`, { reason: 'GATEWAY_RATE_LIMIT', details: { retryAfterMs: limited.retryAfterMs } });
      }
    } catch (error) {
      return refuse(reply, error, requestId, 'unknown');
    }

    // Limits before Apollo parses, validates or plans anything (gateway/README.md, "Query limits").
    const { query, variables, operationName } = operationOf(request);
    const tooDeep = checkVariables(variables, queryLimits.maxVariablesDepth);
    if (tooDeep) return refuse(reply, tooDeep, requestId, principal.kind);
    const parsed = query === undefined ? undefined : documents.get(query);
    if (parsed instanceof AppError) return refuse(reply, parsed, requestId, principal.kind);
    const document = parsed;
    const schemaForCaller = principal.kind === 'apiKey' ? publicSchema : apiSchema;
    if (document && schemaForCaller) {
      const overBudget = checkOperation(schemaForCaller, document, operationName, variables, queryLimits);
      if (overBudget) return refuse(reply, overBudget, requestId, principal.kind);
    }
    // A member who must enrol a second factor first reaches only enrolment (auth/two-factor-enrollment.ts).
    if (principal.twoFactorEnrollmentRequired === true) {
      if (!apiSchema) return refuse(reply, new AppError('UNAVAILABLE', 'the supergraph is not loaded yet'), requestId, principal.kind);
      const refusal = checkEnrollmentOperation(apiSchema, document);
      if (refusal) return refuse(reply, refusal, requestId, principal.kind);
    }
    if (principal.kind === 'apiKey' && publicSchema && document) {
      const refusal = checkPublicOperation(publicSchema, document);
      if (refusal) return refuse(reply, refusal, requestId, principal.kind);
      if (isIntrospectionOnly(document)) {
        operations.inc({ principal: principal.kind, outcome: 'ok' });
        return reply.send(await introspectPublic(publicSchema, document, variables, operationName));
      }
    }

    const context: GatewayContext = {
      principal,
      principalHeader: await signer.sign(principal),
      requestId,
      log: log.child({ requestId, traceId: traceIdOf(principal.traceparent), principal: principal.id, orgId: principal.orgId }),
    };
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method.toUpperCase(),
      headers,
      search: new URL(request.url, 'http://gateway').search,
      body: request.body,
    };
    const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => Promise.resolve(context) });
    for (const [key, value] of response.headers) void reply.header(key, value);
    void reply.header('x-request-id', requestId);
    if (principal.traceparent) void reply.header('traceparent', principal.traceparent);
    void reply.code(response.status ?? 200);
    operations.inc({ principal: principal.kind, outcome: (response.status ?? 200) < 400 ? 'ok' : 'error' });
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    const chunks: string[] = [];
    for await (const chunk of response.body.asyncIterator) chunks.push(chunk);
    return reply.send(chunks.join(''));
  };

  const executeFederated: GatewayHandle['executeFederated'] = async ({ document, variables, principal }) => {
    const requestId = principal.requestId || newRequestId();
    const context: GatewayContext = {
      principal,
      principalHeader: await signer.sign(principal),
      requestId,
      log: log.child({ requestId, principal: principal.id, orgId: principal.orgId }),
    };
    const result = await server.executeOperation({ query: document, ...(variables ? { variables } : {}) }, { contextValue: context });
    if (result.body.kind !== 'single') throw new AppError('INTERNAL', 'incremental delivery is not supported here');
    return result.body.singleResult as ExecutionResult;
  };

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
      if (!apiSchema) throw new AppError('UNAVAILABLE', 'the supergraph is not loaded yet');
      return apiSchema;
    },
    publicSchema: () => {
      if (!publicSchema) throw new AppError('UNAVAILABLE', 'the supergraph is not loaded yet');
      return publicSchema;
    },
    executeFederated,
    authenticate: (credential, caller) => authenticator.authenticate(credential, caller),
    async stop() {
      accepting = false;
      await subscriptions?.stop();
      await app.close();
      await ops.close();
      await server.stop();
      await apiKeys.stop();
      revocations.stop();
      await Promise.all([userLimiter.stop(), anonymousLimiter.stop()]);
      await watch.stop();
      await subgraphFetch.close();
    },
  };
}

/** Parsed documents by query text (bounded), so the gateway's own checks parse a query once. */
function createDocumentCache(maxTokens: number, maxEntries = 1_000, maxQueryLength = 100_000): { get(query: string): DocumentNode | AppError } {
  const cache = new Map<string, DocumentNode>();
  return {
    get(query) {
      const known = cache.get(query);
      if (known) return known;
      let document: DocumentNode;
      try {
        document = parse(query, { maxTokens });
      } catch (error) {
        // Answered here as Apollo would (its error shaping gives the same code), without parsing twice.
        return new AppError('BAD_USER_INPUT', (error as Error).message, { reason: 'GRAPHQL_PARSE_FAILED' });
      }
      if (query.length <= maxQueryLength) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(query, document);
      }
      return document;
    },
  };
}

/** Reads a supergraph file, saying which file when it cannot. */
export function readSupergraph(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the supergraph at ${path}: ${(error as Error).message}`, { cause: error });
  }
}
