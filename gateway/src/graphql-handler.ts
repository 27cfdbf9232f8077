import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import {
  AppError,
  endSpan,
  ERROR_CODES,
  lazyChild,
  SpanKind,
  startSpan,
  toAppError,
  toClientGraphQLError,
  traceIdOf,
  withContext,
  type Logger,
  type Metrics,
  type Principal,
} from '@orchestra/lib/gateway';
import { checkEnrollmentOperation } from './auth/two-factor-enrollment';
import type { Federation } from './federation';
import { checkPublicOperation, introspectPublic, isIntrospectionOnly } from './public-api';
import { checkOperationBudget, checkVariables, sizeVariablesOf, type QueryLimits } from './query-limits';
import type { GatewayRateLimiter } from './rate-limits';

export interface GraphQLRouteDeps {
  federation: Federation;
  /** The caller's principal from the request's credential (anonymous without one). */
  principalFor(request: FastifyRequest, traceparent: string): Promise<Principal>;
  userLimiter: GatewayRateLimiter;
  anonymousLimiter: GatewayRateLimiter;
  queryLimits: QueryLimits;
  maxQueryTokens: number;
  log: Logger;
  metrics: Metrics;
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** The query string of a request URL, `?` included ('' without one), as Apollo's HTTP request wants it. */
const searchOf = (url: string): string => {
  const at = url.indexOf('?');
  if (at < 0) return '';
  const hash = url.indexOf('#', at);
  return hash < 0 ? url.slice(at) : url.slice(at, hash);
};

/** Reads the query, variables and operation name of a GET or POST GraphQL request. */
function requestOperation(request: FastifyRequest): { query?: string; variables?: Record<string, unknown>; operationName?: string } {
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
 * GET and POST /graphql: authentication, the rate limit, the query limits, the enrolment-only and
 * public-schema rules, then Apollo's federated execution with the principal signed for subgraphs.
 * One span per request (the caller's trace continued); Apollo Gateway's plan and fetch spans, and the
 * subgraphs' spans, nest under it.
 */
export function registerGraphQLRoute(app: FastifyInstance, deps: GraphQLRouteDeps): void {
  const { federation, principalFor, userLimiter, anonymousLimiter, queryLimits, log, metrics } = deps;
  const documents = createDocumentCache(deps.maxQueryTokens);
  const budget = createBudgetCache(queryLimits);
  const operations = metrics.counter('gateway_requests_total', 'GraphQL requests by principal kind and outcome', ['principal', 'outcome']);

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
    const { query, variables, operationName } = requestOperation(request);
    const tooDeep = checkVariables(variables, queryLimits.maxVariablesDepth);
    if (tooDeep) return refuse(reply, tooDeep, requestId, principal.kind);
    const parsed = query === undefined ? undefined : documents.get(query);
    if (parsed instanceof AppError) return refuse(reply, parsed, requestId, principal.kind);
    const document = parsed;
    const apiSchema = federation.apiSchema();
    const publicSchema = federation.publicSchema();
    const schemaForCaller = principal.kind === 'apiKey' ? publicSchema : apiSchema;
    if (document && schemaForCaller) {
      const overBudget = budget.check(schemaForCaller, document, operationName, variables);
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

    // Made only if something logs for this request (most requests log nothing).
    const requestLog = lazyChild(log, () => ({ requestId, traceId: traceIdOf(principal.traceparent), principal: principal.id, orgId: principal.orgId }));
    const context = await federation.contextFor(principal, requestId, requestLog);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method.toUpperCase(),
      headers,
      search: searchOf(request.url),
      body: request.body,
    };
    const response = await federation.server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => Promise.resolve(context) });
    for (const [key, value] of response.headers) void reply.header(key, value);
    // Answers are per caller: never stored by a shared cache (Apollo's cache-control plugin, which
    // would compute the same for every answer here, is off: federation.ts).
    void reply.header('cache-control', 'no-store');
    void reply.header('x-request-id', requestId);
    if (principal.traceparent) void reply.header('traceparent', principal.traceparent);
    void reply.code(response.status ?? 200);
    operations.inc({ principal: principal.kind, outcome: (response.status ?? 200) < 400 ? 'ok' : 'error' });
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    const chunks: string[] = [];
    for await (const chunk of response.body.asyncIterator) chunks.push(chunk);
    return reply.send(chunks.join(''));
  };

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

/**
 * The query budget's answer (checkOperationBudget) per document (the cached parse), schema, operation
 * name and the values of the variables that size a list (sizeVariablesOf): the same query is measured
 * once however its other variables change (a startRun's input differs on every call). The variables'
 * own checks (depth, text) run on every request before this (checkVariables in the route). Sizing
 * values longer than 2 KiB as JSON are measured each time rather than kept.
 */
function createBudgetCache(limits: QueryLimits, perDocument = 32, maxKeyLength = 2_048) {
  const answers = new WeakMap<DocumentNode, { schema: GraphQLSchema | undefined; sizeVariables: string[]; byKey: Map<string, AppError | undefined> }>();
  return {
    check(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown> | undefined): AppError | undefined {
      let known = answers.get(document);
      if (!known) answers.set(document, (known = { schema, sizeVariables: sizeVariablesOf(document), byKey: new Map() }));
      else if (known.schema !== schema) {
        known.schema = schema;
        known.byKey.clear();
      }
      // No operation name and an empty one are different questions (the empty name selects nothing).
      let key = operationName === undefined ? '' : `=${operationName}`;
      if (known.sizeVariables.length > 0) {
        const sizes: Record<string, unknown> = {};
        for (const name of known.sizeVariables) if (variables !== undefined && Object.hasOwn(variables, name)) sizes[name] = variables[name];
        key += `\n${JSON.stringify(sizes)}`;
      }
      if (key.length > maxKeyLength) return checkOperationBudget(schema, document, operationName, variables, limits);
      if (known.byKey.has(key)) return known.byKey.get(key);
      const answer = checkOperationBudget(schema, document, operationName, variables, limits);
      if (known.byKey.size >= perDocument) known.byKey.delete(known.byKey.keys().next().value as string);
      known.byKey.set(key, answer);
      return answer;
    },
  };
}
