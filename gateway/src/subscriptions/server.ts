import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import {
  extendSchema,
  Kind,
  OperationTypeNode,
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values';
import type { Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AppError,
  createRunEventHub,
  newRequestId,
  toAppError,
  toClientGraphQLError,
  type Logger,
  type Metrics,
  type Principal,
  type Redis,
  type RunEvent,
  type RunEventHub,
} from '@orchestra/lib';
import { FederatedObjects, federatedQueryFor, federatedValue } from './federated-selection';

export interface SubscriptionDeps {
  /** The gateway's HTTP server: WebSocket upgrades on `path` are taken here. */
  httpServer: Server;
  /** '/graphql' */
  path: string;
  /** The supergraph's API schema (it has no Subscription type). */
  apiSchema: GraphQLSchema;
  /**
   * The public API (what API keys may use). API-key subscriptions are validated against it, so a
   * key cannot reach non-public fields (say, a user's email) through an event's `run`. Without it,
   * API keys are held to the full API schema.
   */
  publicApiSchema?: GraphQLSchema;
  /** From the connection_init payload { authorization: 'Bearer <jwt or api key>' }; anonymous without credentials. */
  authenticate(connectionParams: Record<string, unknown> | undefined, request: IncomingMessage): Promise<Principal>;
  /** Runs a query through Apollo Gateway's query plan as `principal`. */
  executeFederated(args: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }): Promise<ExecutionResult>;
  redis: Redis;
  redisPrefix: string;
  log: Logger;
  metrics: Metrics;
  /** ws keep-alive ping interval. Default 12 s. */
  keepAliveMs?: number;
  /** How long a quiet run stream waits before it checks the backfill anyway. Default 5 s. */
  idleCheckMs?: number;
}

export interface SubscriptionServer {
  /** apiSchema extended with the Subscription type. */
  schema: GraphQLSchema;
  stop(): Promise<void>;
}

interface SubscriberContext {
  principal: Principal;
  log: Logger;
}

export const SUBSCRIPTION_SDL = readFileSync(join(__dirname, 'schema.graphql'), 'utf8');

const BACKFILL_QUERY = parse(`
  query OrchestraRunEventsBackfill($id: ID!, $after: Int!, $first: Int!) {
    run(id: $id) {
      events(afterSeq: $after, first: $first) {
        seq kind at runId workflowId runStatus taskId stepId taskStatus attemptId attempt progress message level
        error { code message retryable }
      }
    }
  }
`);

const RUN_VISIBLE_QUERY = parse(`query OrchestraSubscriptionAuthorize($id: ID!) { run(id: $id) { id } }`);

/** The first error of a federated answer as the AppError the subgraph raised. */
const firstError = (result: ExecutionResult): AppError | undefined => {
  const error = result.errors?.[0];
  if (!error) return undefined;
  return toAppError(error instanceof GraphQLError ? error : new GraphQLError(String((error as { message?: unknown }).message), { extensions: (error as { extensions?: Record<string, unknown> }).extensions ?? {} }));
};

/** The Subscription type on top of the API schema (types of the supergraph such as RunEvent are reused). */
export function buildSubscriptionSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  return extendSchema(apiSchema, parse(SUBSCRIPTION_SDL));
}

/**
 * graphql-ws on the gateway's HTTP server: run events of one run (resumable by seq) and an org-wide
 * feed of run status changes, read from Redis streams with a PostgreSQL backfill through the
 * federated graph, authorized at subscribe time.
 */
export function createSubscriptionServer(deps: SubscriptionDeps): SubscriptionServer {
  const { httpServer, path, executeFederated, metrics } = deps;
  const log = deps.log.child({ component: 'subscriptions' });
  const hub: RunEventHub = createRunEventHub({ redis: deps.redis, prefix: deps.redisPrefix, log, metrics, ...(deps.idleCheckMs === undefined ? {} : { idleCheckMs: deps.idleCheckMs }) });
  const federated = new FederatedObjects();
  const schema = buildSubscriptionSchema(deps.apiSchema);
  const publicSchema = deps.publicApiSchema ? buildSubscriptionSchema(deps.publicApiSchema) : undefined;
  if (!publicSchema) log.warn('no public API schema given: API keys may subscribe with any field of the API schema');
  const active = metrics.gauge('gateway_subscriptions_active', 'Open GraphQL subscriptions', ['field']);
  const delivered = metrics.counter('gateway_subscription_events_total', 'Events sent to subscribers', ['field']);
  const principals = new WeakMap<Context, Principal>();

  const backfillFor = (principal: Principal, runId: string) => async (afterSeq: number, limit: number): Promise<RunEvent[]> => {
    const result = await executeFederated({ document: BACKFILL_QUERY, variables: { id: runId, after: afterSeq, first: Math.min(limit, 1000) }, principal });
    const error = firstError(result);
    if (error) throw error;
    const run = (result.data as { run: { events: Array<Omit<RunEvent, 'orgId'>> } | null } | null | undefined)?.run;
    if (!run) throw new AppError('NOT_FOUND', `run ${runId} not found`, { reason: 'RUN_NOT_FOUND' });
    return run.events.map((e) => ({ ...e, orgId: principal.orgId ?? '' }));
  };

  /** Resolves `run` / `task` of an event through the federated graph, as the subscriber. */
  const viaFederation =
    (rootField: 'run' | 'task', keyOf: (event: RunEvent) => string | null): GraphQLField<RunEvent, SubscriberContext>['resolve'] =>
    async (event, _args, ctx, info) => {
      const key = keyOf(event);
      if (key === null) return null;
      const { document, variables } = federatedQueryFor(info, rootField, 'id', key);
      const result = await executeFederated({ document, variables, principal: ctx.principal });
      const error = firstError(result);
      if (error) throw error;
      return federated.mark(federatedValue(result.data));
    };

  // Resolvers on the extended schema: the subscription roots, and RunEvent's links to the graph.
  const subscriptionType = schema.getSubscriptionType();
  const runEventType = schema.getType('RunEvent');
  if (!subscriptionType || !runEventType || !('getFields' in runEventType)) throw new Error('subscriptions: the API schema has no RunEvent type (is orchestration composed?)');
  const fields = subscriptionType.getFields();
  const runEventsField = fields['runEvents'];
  const statusField = fields['runStatusChanged'];
  if (!runEventsField || !statusField) throw new Error('subscriptions: schema.graphql lacks runEvents or runStatusChanged');
  runEventsField.subscribe = (_source, args: { runId: string; afterSeq: number }, ctx: SubscriberContext) =>
    counted('runEvents', hub.runEvents({ runId: args.runId, afterSeq: Math.max(0, args.afterSeq), backfill: backfillFor(ctx.principal, args.runId) }));
  runEventsField.resolve = (event: RunEvent) => event;
  statusField.subscribe = (_source, args: { workflowId?: string | null }, ctx: SubscriberContext) => {
    const feed = hub.orgRunStatus({ orgId: ctx.principal.orgId as string });
    const workflowId = args.workflowId ?? undefined;
    return counted('runStatusChanged', workflowId === undefined ? feed : filtered(feed, (e) => e.workflowId === workflowId));
  };
  statusField.resolve = (event: RunEvent) => event;
  const runEventFields = runEventType.getFields() as Record<string, GraphQLField<RunEvent, SubscriberContext>>;
  if (runEventFields['run']) runEventFields['run'].resolve = viaFederation('run', (e) => e.runId);
  if (runEventFields['task']) runEventFields['task'].resolve = viaFederation('task', (e) => e.taskId);

  function counted(field: string, source: AsyncGenerator<RunEvent, void, undefined>): AsyncGenerator<RunEvent, void, undefined> {
    active.inc({ field });
    let open = true;
    const close = () => {
      if (open) active.dec({ field });
      open = false;
    };
    const iterator: AsyncGenerator<RunEvent, void, undefined> = {
      next: async () => {
        const result = await source.next();
        if (result.done === true) close();
        else delivered.inc({ field });
        return result;
      },
      return: async (value) => {
        close();
        return source.return(value);
      },
      throw: async (error) => {
        close();
        return source.throw(error);
      },
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.asyncDispose]: async () => {
        await iterator.return(undefined);
      },
    };
    return iterator;
  }

  /** Checks, before anything streams, that the principal may watch what it asks for. */
  async function authorize(principal: Principal, field: string, args: Record<string, unknown>): Promise<void> {
    if (principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'sign in (connection_init { authorization }) to subscribe', { reason: 'SIGN_IN_REQUIRED' });
    if (principal.orgId === undefined) throw new AppError('FORBIDDEN', 'subscriptions need an organization: sign in to one first', { reason: 'NO_ORGANIZATION' });
    if (principal.kind === 'apiKey' && !principal.scopes.includes('runs:read')) {
      throw new AppError('FORBIDDEN', `this API key lacks scope runs:read needed for Subscription.${field}`, { reason: 'MISSING_SCOPE', details: { requiredScopes: ['runs:read'] } });
    }
    if (field === 'runEvents') {
      const runId = String(args['runId']);
      const result = await executeFederated({ document: RUN_VISIBLE_QUERY, variables: { id: runId }, principal });
      const error = firstError(result);
      if (error) throw error;
      // Row-level security hides other organizations' runs: they look like runs that do not exist.
      if (!(result.data as { run: unknown } | null | undefined)?.run) throw new AppError('NOT_FOUND', `run ${runId} not found in your organization`, { reason: 'RUN_NOT_FOUND' });
    }
  }

  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== path) return;
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => wss.emit('connection', ws, request));
  };
  httpServer.on('upgrade', onUpgrade);

  const masked = (errors: readonly GraphQLError[], requestId: string) => errors.map((e) => toClientGraphQLError(e.originalError ?? e, requestId, e.path));

  const server = useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: IncomingMessage }>(
    {
      schema,
      async onConnect(ctx) {
        try {
          const principal = await deps.authenticate(ctx.connectionParams, ctx.extra.request);
          principals.set(ctx, principal);
          log.debug('subscriber connected', { principal: principal.id, kind: principal.kind, orgId: principal.orgId });
          return true;
        } catch (error) {
          const appError = toAppError(error);
          if (appError.code === 'INTERNAL') log.error('subscriber authentication failed', { err: error });
          // 4401/4403 with the reason, so a client can tell a bad token from anything else.
          ctx.extra.socket.close(appError.code === 'UNAUTHENTICATED' ? 4401 : 4403, `${appError.code}: ${appError.message}`.slice(0, 120));
          return false;
        }
      },
      async onSubscribe(ctx, id, payload) {
        const principal = principals.get(ctx);
        const requestId = newRequestId();
        if (!principal) return [new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED', requestId } })];
        const subscriber: SubscriberContext = {
          principal: { ...principal, requestId },
          log: log.child({ requestId, subscriptionId: id, principal: principal.id, orgId: principal.orgId }),
        };
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [toClientGraphQLError(new AppError('BAD_USER_INPUT', (error as Error).message, { reason: 'GRAPHQL_PARSE_FAILED' }), requestId)];
        }
        const invalid = validate(schema, document);
        if (invalid.length > 0) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED', requestId } }));
        if (principal.kind === 'apiKey' && publicSchema) {
          const notPublic = validate(publicSchema, document);
          if (notPublic.length > 0) {
            return notPublic.map((e) => new GraphQLError(`API keys may use the public API only: ${e.message}`, { nodes: e.nodes ?? null, extensions: { code: 'FORBIDDEN', reason: 'NOT_IN_PUBLIC_API', requestId } }));
          }
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError('name the operation to run', { extensions: { code: 'BAD_USER_INPUT', requestId } })];
        if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [new GraphQLError('this socket serves subscriptions; send queries and mutations over HTTP', { extensions: { code: 'BAD_USER_INPUT', reason: 'NOT_A_SUBSCRIPTION', requestId } })];
        }
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
        if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: 'BAD_USER_INPUT', requestId } }));
        const root = operation.selectionSet.selections[0];
        const rootField = root?.kind === Kind.FIELD ? subscriptionType.getFields()[root.name.value] : undefined;
        if (!root || root.kind !== Kind.FIELD || !rootField) return [new GraphQLError('a subscription selects one field of Subscription', { extensions: { code: 'BAD_USER_INPUT', requestId } })];
        try {
          await authorize(subscriber.principal, rootField.name, getArgumentValues(rootField, root, coerced.coerced));
        } catch (error) {
          const appError = toAppError(error);
          subscriber.log.info('subscription refused', { field: rootField.name, code: appError.code, reason: appError.reason });
          return [toClientGraphQLError(appError, requestId)];
        }
        subscriber.log.info('subscription started', { field: rootField.name });
        const args: ExecutionArgs = {
          schema,
          document,
          variableValues: payload.variables ?? {},
          operationName: payload.operationName ?? null,
          contextValue: subscriber,
          fieldResolver: federated.fieldResolver,
          typeResolver: federated.typeResolver,
        };
        return args;
      },
      onNext(_ctx, _id, _payload, args, result) {
        if (!result.errors || result.errors.length === 0) return undefined;
        const subscriber = args.contextValue as SubscriberContext;
        for (const e of result.errors) if (toAppError(e).code === 'INTERNAL') subscriber.log.error('subscription event failed', { err: e.originalError ?? e });
        return { ...result, errors: masked(result.errors, subscriber.principal.requestId) };
      },
      onError(ctx, _id, _payload, errors) {
        const requestId = principals.get(ctx)?.requestId ?? newRequestId();
        for (const e of errors) if (toAppError(e).code === 'INTERNAL') log.error('subscription failed', { err: e.originalError ?? e });
        return masked(errors, requestId).map((e) => e.toJSON());
      },
      onComplete(_ctx, id) {
        log.debug('subscription completed', { subscriptionId: id });
      },
    },
    wss,
    deps.keepAliveMs ?? 12_000,
  );

  return {
    schema,
    async stop() {
      httpServer.off('upgrade', onUpgrade);
      await server.dispose();
      await hub.stop();
    },
  };
}

/** Passes on the events `keep` accepts; return() reaches the source. */
function filtered(source: AsyncGenerator<RunEvent, void, undefined>, keep: (e: RunEvent) => boolean): AsyncGenerator<RunEvent, void, undefined> {
  const iterator: AsyncGenerator<RunEvent, void, undefined> = {
    next: async () => {
      for (;;) {
        const result = await source.next();
        if (result.done === true || keep(result.value)) return result;
      }
    },
    return: (value) => source.return(value),
    throw: (error) => source.throw(error),
    [Symbol.asyncIterator]: () => iterator,
    [Symbol.asyncDispose]: async () => {
      await iterator.return(undefined);
    },
  };
  return iterator;
}
