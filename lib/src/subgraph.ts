import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import mercurius from 'mercurius';
import { readFileSync } from 'node:fs';
import { SUBGRAPH_DIRECTIVES_SDL } from './access';
import { applyAccessRules } from './access-directives';
import { applyMutationAudit, type MutationAuditOptions } from './audit-mutations';
import { ERROR_CODES, toAppError } from './errors';
import { toClientGraphQLError } from './graphql-errors';
import { createHttpApp, registerOpsRoutes, type ReadinessCheck } from './http';
import { lazyChild, type Logger } from './log';
import type { Metrics } from './metrics';
import { PRINCIPAL_HEADER, type Principal, type PrincipalVerifier } from './principal';
import { endSpan, SpanKind, startSpan, type Span } from './telemetry';
import { traceIdOf } from './trace';

/** What every resolver of every subgraph receives. */
export interface RequestContext {
  principal: Principal;
  /** The signed header as received, to forward on gRPC calls made for this request. */
  principalHeader: string;
  requestId: string;
  log: Logger;
}

/** Reads a subgraph's schema.graphql with the project's own directives declared in front of it. */
export function loadSubgraphTypeDefs(schemaPath: string): DocumentNode {
  return parse(`${SUBGRAPH_DIRECTIVES_SDL}\n${readFileSync(schemaPath, 'utf8')}`);
}

export interface SubgraphHttpOptions<C extends RequestContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<C>;
  verifier: PrincipalVerifier;
  log: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  /** Adds service-specific things (stores, loaders) to each request's context. */
  extendContext?: (base: RequestContext) => C;
  isAccepting?: () => boolean;
  /** Records failed mutations as audit events; every Mutation field must then carry @audit. */
  audit?: MutationAuditOptions;
}

/**
 * The HTTP face of a subgraph: mercurius serving the federated schema at /graphql, behind the
 * gateway-signature check, plus /healthz, /readyz and /metrics. Returned unstarted.
 */
export function createSubgraphHttp<C extends RequestContext>(options: SubgraphHttpOptions<C>): FastifyInstance {
  const { name, typeDefs, resolvers, verifier, log, metrics, readiness, extendContext, isAccepting, audit } = options;
  const app = createHttpApp({ log, metrics });
  registerOpsRoutes(app, { metrics, readiness, ...(isAccepting ? { isAccepting } : {}) });
  const built = buildSubgraphSchema([{ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> }]);
  // Audit wraps outside access, so a refused mutation is recorded too.
  const schema = audit ? applyMutationAudit(applyAccessRules(built), audit) : applyAccessRules(built);
  const principals = new WeakMap<FastifyRequest, { principal: Principal; header: string }>();
  const spans = new WeakMap<FastifyRequest, Span>();
  const operations = metrics.counter('graphql_failed_operations_total', 'GraphQL operations refused or answered with errors', ['subgraph', 'outcome']);

  // Nothing reaches the schema (`_entities` and `_service` included) without the gateway's signature.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const header = request.headers[PRINCIPAL_HEADER];
    try {
      const sentId = request.headers['x-request-id'];
      const sentTrace = request.headers['traceparent'];
      const verified = await verifier.verify(typeof header === 'string' ? header : undefined, {
        requestId: typeof sentId === 'string' ? sentId : undefined,
        traceparent: typeof sentTrace === 'string' ? sentTrace : undefined,
      });
      // This request's span, under the gateway's; what it does downstream (a run's tasks) continues it.
      const traced = startSpan(`${name} graphql`, verified.traceparent, SpanKind.SERVER, { 'orchestra.request_id': request.id });
      spans.set(request, traced.span);
      const principal = { ...verified, traceparent: traced.traceparent };
      principals.set(request, { principal, header: header as string });
    } catch (error) {
      const appError = toAppError(error);
      log.warn('subgraph request refused', { requestId: request.id, reason: appError.reason, ip: request.ip });
      operations.inc({ subgraph: name, outcome: 'refused' });
      return reply.code(ERROR_CODES[appError.code].http).send({
        data: null,
        errors: [toClientGraphQLError(appError, request.id).toJSON()],
      });
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (span) endSpan(span, { attributes: { 'http.response.status_code': reply.statusCode }, failure: reply.statusCode >= 500 ? `HTTP ${reply.statusCode}` : undefined });
    await Promise.resolve();
  });

  app.register(mercurius, {
    schema,
    path: '/graphql',
    graphiql: false,
    context: (request) => {
      const verified = principals.get(request);
      if (!verified) throw new Error('principal missing after verification');
      const { principal, header } = verified;
      const requestId = principal.requestId;
      const base: RequestContext = {
        principal,
        principalHeader: header,
        requestId,
        // Made when first used: most requests log nothing.
        log: lazyChild(log, () => ({ requestId, traceId: traceIdOf(principal.traceparent), principal: principal.id, orgId: principal.orgId })),
      };
      return extendContext ? extendContext(base) : base;
    },
    errorFormatter: (execution, context) => {
      const ctx = context as unknown as Partial<RequestContext>;
      const requestId = ctx.requestId ?? 'unknown';
      // mercurius reports validation failures as one error holding the graphql errors.
      const flattened = execution.errors.flatMap((error) => {
        const inner = (error.originalError as { errors?: unknown } | undefined)?.errors;
        return Array.isArray(inner) ? inner.map((e: GraphQLError) => ({ error: e, validation: true })) : [{ error, validation: false }];
      });
      const errors = flattened.map(({ error, validation }) => {
        if (validation) {
          return new GraphQLError(error.message, { ...(error.nodes ? { nodes: error.nodes } : {}), extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED', requestId } }).toJSON();
        }
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') {
          (ctx.log ?? log).error('resolver failed', { err: error.originalError ?? error, path: error.path, requestId });
        } else if (appError.reason === 'DATABASE_BUSY') {
          (ctx.log ?? log).warn('resolver failed: the database is busy', { err: error.originalError ?? error, path: error.path, requestId });
        }
        if (error instanceof GraphQLError && error.originalError === undefined && appError.code === 'INTERNAL') {
          // A validation or parse error made by graphql itself: the message is meant for the caller.
          return new GraphQLError(error.message, { ...(error.nodes ? { nodes: error.nodes } : {}), extensions: { code: 'BAD_USER_INPUT', requestId } }).toJSON();
        }
        return toClientGraphQLError(appError, requestId, error.path).toJSON();
      });
      operations.inc({ subgraph: name, outcome: execution.data ? 'partial' : 'error' });
      // Always 200 with errors in the body: the gateway reads them from there.
      return { statusCode: 200, response: { data: execution.data ?? null, errors } };
    },
  });
  return app;
}
