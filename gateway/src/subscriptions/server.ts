import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import {
  execute,
  extendSchema,
  getArgumentValues,
  getVariableValues,
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { AppError, newRequestId, servicePrincipal, toAppError, toClientGraphQLError, type Logger, type Metrics, type Principal, type Redis, type RunEvent } from '@orchestra/lib/gateway';
import type { AccessWatch } from '../auth/access-watch';
import { checkOperation, type QueryLimits } from '../query-limits';
import { ConnectionSessions, type ConnectionCredential, type ConnectionSession } from './connection-sessions';
import { createFederatedBatcher, toFederatedError, type ExecuteFederated } from './federated-batcher';
import { FederatedObjects } from './federated-selection';
import { LiveSubscription, type SubscriberContext } from './live-subscription';
import { authorizeSubscriber, createSubscriptionRegistry, principalScope, type SubscriptionField, type SubscriptionRegistry } from './registry';
import { createNotificationFeeds, notificationAddedField, type NotificationFeeds } from './notification-feeds';
import { DEFAULT_RUN_BATCHES, RUN_EVENT_LINKS, runEventBatchesField, runEventsField, runStatusChangedField, type RunBatchOptions } from './run-fields';
import { createRunFeeds, type RunFeeds } from './run-feeds';
import { createSharedResults, type ExecutionGroup } from './shared-results';
import type { SubscribePayload } from 'graphql-ws';
import type { Connection, ConnectionHooks, SubscribeOutcome } from './protocol';
import { createSubscriptionDocuments, inputError, type CheckedDocument } from './subscription-documents';
import { serveGraphqlWs, wsCorking, type SocketExtra } from './ws-transport';

export interface SubscriptionDeps {
  /** The gateway's HTTP server: WebSocket upgrades on `path` are taken here. */
  httpServer: Server;
  /** '/graphql' */
  path: string;
  /** The supergraph's API schema (it has no Subscription type). */
  apiSchema: GraphQLSchema;
  /** The public API: API-key subscriptions are validated against it (no user emails through `run`). */
  publicApiSchema?: GraphQLSchema;
  /** From the connection_init payload { authorization: 'Bearer <jwt or api key>' } (or authenticateConnection's); anonymous without one. */
  authenticate(authorization: unknown, request: { ip: string; userAgent?: string | undefined }): Promise<ConnectionCredential>;
  /** Runs a query through Apollo Gateway's query plan as `principal`. */
  executeFederated: ExecuteFederated;
  /** identity's access announcements: connections whose access ended lose their subscriptions within moments. */
  watch?: AccessWatch;
  redis: Redis;
  redisPrefix: string;
  log: Logger;
  metrics: Metrics;
  /** The HTTP API's query limits, applied to subscription documents too. */
  limits?: QueryLimits;
  /** ws keep-alive ping interval. Default 12 s. */
  keepAliveMs?: number;
  /**
   * WebSocket permessage-deflate for clients that offer it (browsers do), for messages of at least
   * `compressionThreshold` bytes. Default on.
   */
  compression?: boolean;
  /**
   * Messages shorter than this are not compressed. Default 1 KiB: a run event's message (~200 bytes)
   * is sent as it is, so a connection that gets only those never holds a zlib stream (tens of KiB
   * each, and every compressed message queues for zlib's thread pool); a token stream's or a large
   * selection's messages are compressed.
   */
  compressionThreshold?: number;
  /** runEventBatches: how long a batch waits for more events, and its most events. Default 200 ms, 500. */
  runBatches?: RunBatchOptions;
  /** How long a quiet run's stream waits before it is looked at anyway (Redis). Default 5 s. */
  idleCheckMs?: number;
  /** How often a quiet unfinished run is checked against PostgreSQL. Default 60 s. */
  storeCheckMs?: number;
  /** How often API-key connections are checked with identity again. Default 60 s. */
  recheckMs?: number;
  /** Events a subscriber may have waiting for their selection to resolve before it is ended. Default 1,000. */
  maxQueued?: number;
  /** Bytes a connection may hold unsent before a subscriber on it is ended as too slow. Default 2 MiB. */
  maxBufferedBytes?: number;
}

export interface SubscriptionServer {
  /** apiSchema extended with the Subscription type. */
  schema: GraphQLSchema;
  feeds: RunFeeds;
  notificationFeeds: NotificationFeeds;
  stop(): Promise<void>;
}

export const SUBSCRIPTION_SDL = readFileSync(join(__dirname, 'schema.graphql'), 'utf8');
/** Subscription.notificationAdded, where the schema has the notifications subgraph's Notification (not the public API). */
export const NOTIFICATION_SUBSCRIPTION_SDL = readFileSync(join(__dirname, 'notifications.graphql'), 'utf8');

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

/** The Subscription type (and authenticateConnection) on top of the API schema. */
export function buildSubscriptionSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  const withRuns = extendSchema(apiSchema, parse(SUBSCRIPTION_SDL));
  return apiSchema.getType('Notification') ? extendSchema(withRuns, parse(NOTIFICATION_SUBSCRIPTION_SDL)) : withRuns;
}

interface AuthenticateOperation {
  kind: 'authenticate';
  session: ConnectionSession;
  ip: string;
  userAgent: string | undefined;
  document: DocumentNode;
  variables: Record<string, unknown>;
  operationName: string | null;
}

interface SubscribeOperation {
  kind: 'subscribe';
  live: LiveSubscription;
  principal: Principal;
}

/** What a subscribe message asks for, once it is parsed, validated and authorized (or why not). */
type Decision = readonly GraphQLError[] | AuthenticateOperation | SubscribeOperation;

/**
 * graphql-ws's protocol (protocol.ts) on the gateway's HTTP server (ws-transport.ts); documents are
 * parsed and validated once per query text (subscription-documents.ts). Subscription fields come from a registry
 * (registry.ts); events come from shared per-run / per-org feeds (run-feeds.ts); each event's selection
 * is executed and serialized once per distinct document, variables and principal scope
 * (shared-results.ts), entity fields batched through the federated graph (federated-batcher.ts), and
 * the same payload sent to every subscriber of the group (live-subscription.ts); each connection's
 * access is watched (connection-sessions.ts).
 */
export function createSubscriptionServer(deps: SubscriptionDeps): SubscriptionServer {
  const { httpServer, path, executeFederated, metrics } = deps;
  const log = deps.log.child({ component: 'subscriptions' });
  const schema = buildSubscriptionSchema(deps.apiSchema);
  const publicSchema = deps.publicApiSchema ? buildSubscriptionSchema(deps.publicApiSchema) : undefined;
  if (!publicSchema) log.warn('no public API schema given: API keys may subscribe with any field of the API schema');
  const active = metrics.gauge('gateway_subscriptions_active', 'Open GraphQL subscriptions', ['field']);
  const delivered = metrics.counter('gateway_subscription_events_total', 'Events sent to subscribers', ['field']);
  const executions = metrics.counter('gateway_subscription_executions_total', 'Executions of a subscription selection (shared by subscribers of one document, variables and scope)', ['field']);
  const federatedQueries = metrics.counter('gateway_subscription_federated_queries_total', 'Federated queries made for subscription entity fields (batched)', ['field']);
  const objects = new FederatedObjects();
  const batcher = createFederatedBatcher({ executeFederated, objects, metrics: federatedQueries });

  const storeRead = async (principal: Principal, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> => {
    const result = await executeFederated({ document: BACKFILL_QUERY, variables: { id: runId, after: afterSeq, first: Math.min(limit, 1000) }, principal });
    if (result.errors?.[0]) throw toFederatedError(result.errors[0]);
    const run = (result.data as { run: { events: Array<Omit<RunEvent, 'orgId'>> } | null } | null | undefined)?.run;
    if (!run) throw new AppError('NOT_FOUND', `run ${runId} not found`, { reason: 'RUN_NOT_FOUND' });
    return run.events.map((e) => ({ ...e, orgId: principal.orgId ?? '' }));
  };
  const feeds = createRunFeeds({
    redis: deps.redis,
    prefix: deps.redisPrefix,
    log,
    metrics,
    store: storeRead,
    storePrincipal: (orgId) => servicePrincipal('gateway-subscriptions', newRequestId(), orgId),
    ...(deps.idleCheckMs === undefined ? {} : { idleCheckMs: deps.idleCheckMs }),
    ...(deps.storeCheckMs === undefined ? {} : { storeCheckMs: deps.storeCheckMs }),
  });
  const runVisible = async (principal: Principal, runId: string): Promise<boolean> => {
    const result = await executeFederated({ document: RUN_VISIBLE_QUERY, variables: { id: runId }, principal });
    if (result.errors?.[0]) throw toFederatedError(result.errors[0]);
    return Boolean((result.data as { run: unknown } | null | undefined)?.run);
  };

  const notificationFeeds = createNotificationFeeds({ redis: deps.redis, prefix: deps.redisPrefix, log, metrics });

  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType) throw new Error('subscriptions: schema.graphql has no Subscription type');
  // The registry: every subscription field with its authorization (gateway/README.md, "Adding a subscription").
  const registry: SubscriptionRegistry = createSubscriptionRegistry(
    [
      runEventsField({ feeds, runVisible }),
      runEventBatchesField({ feeds, runVisible }, deps.runBatches ?? DEFAULT_RUN_BATCHES),
      runStatusChangedField({ feeds }),
      ...(subscriptionType.getFields()['notificationAdded'] ? [notificationAddedField({ feeds: notificationFeeds })] : []),
    ],
    RUN_EVENT_LINKS,
  );
  for (const [name, field] of Object.entries(subscriptionType.getFields())) {
    if (!registry.fields.has(name)) throw new Error(`subscriptions: Subscription.${name} has no definition in the registry`);
    field.resolve = (event: unknown) => event;
  }
  for (const link of registry.links) {
    const type = schema.getType(link.type);
    const field = type && 'getFields' in type ? (type.getFields() as Record<string, GraphQLField<unknown, SubscriberContext>>)[link.field] : undefined;
    if (!field) throw new Error(`subscriptions: no field ${link.type}.${link.field} for an entity link`);
    field.resolve = (event, _args, ctx, info) => {
      const key = link.keyOf(event);
      return key === null ? null : batcher.load(info, link.rootField, key, ctx.principal, ctx.scope);
    };
  }

  const sessions = new ConnectionSessions(log);
  const stopWatching = deps.watch?.onChange((event) => {
    sessions.apply(event);
    if (event.kind === 'resync') feeds.resync();
  });
  const recheck = setInterval(() => void sessions.recheckApiKeys(), deps.recheckMs ?? 60_000);
  recheck.unref();

  const documents = createSubscriptionDocuments(schema, publicSchema);
  const shared = createSharedResults({ schema, objects, log, executed: (name) => executions.inc({ field: name }) });
  let documentIds = 0;
  const documentIdOf = new WeakMap<DocumentNode, number>();

  const sessionOf = new WeakMap<Connection<SocketExtra>, ConnectionSession>();
  const masked = (errors: readonly GraphQLError[], requestId: string) => errors.map((e) => toClientGraphQLError(e.originalError ?? e, requestId, e.path).toJSON());
  /** Errors as the client gets them in an `error` message: masked, the internal ones logged under one request id. */
  const errorPayload = (errors: readonly GraphQLError[]) => {
    const requestId = newRequestId();
    for (const e of errors) if (toAppError(e.originalError ?? e).code === 'INTERNAL') log.error('subscription failed', { err: e.originalError ?? e, requestId });
    return masked(errors, requestId);
  };

  const authenticateConnection = async (operation: AuthenticateOperation, authorization: unknown) => {
    const { session } = operation;
    const previous = session.credential?.principal;
    const credential = await deps.authenticate(authorization, { ip: operation.ip, userAgent: operation.userAgent });
    if (credential.principal.kind === 'anonymous') throw new AppError('BAD_USER_INPUT', 'authorization must carry an access token or API key', { field: 'authorization', reason: 'CREDENTIAL_REQUIRED' });
    session.authenticate(credential);
    await sessions.reauthorize(session, previous);
    log.info('connection authenticated again', { principal: credential.principal.id, subscriptions: session.subscriptions.size });
    return { expiresAt: credential.expiresAt === undefined ? null : new Date(credential.expiresAt).toISOString(), subscriptions: session.subscriptions.size };
  };

  /** Deliveries counted since the last flush, by field: one counter update per fan-out, not one per subscriber and event. */
  const deliveredSince = new Map<string, number>();
  let flushScheduled = false;
  const flushDelivered = () => {
    flushScheduled = false;
    for (const [name, count] of deliveredSince) delivered.inc({ field: name }, count);
    deliveredSince.clear();
  };
  const countDelivered = (name: string) => {
    deliveredSince.set(name, (deliveredSince.get(name) ?? 0) + 1);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushDelivered);
    }
  };

  /**
   * One subscriber's LiveSubscription. Its own function, so what an open subscription keeps is what
   * its callbacks name here, not everything onSubscribe held (the message, the document's text...).
   */
  const bindSubscription = (connection: Connection<SocketExtra>, id: string, field: SubscriptionField, args: unknown, session: ConnectionSession, group: ExecutionGroup, principal: Principal): LiveSubscription => {
    // What the selection's resolvers act as: the subscriber's principal as it is now (any subscriber of the group sees the same).
    const contextOf = (): SubscriberContext => ({ principal: session.credential?.principal ?? principal, scope: group.scope, log });
    return new LiveSubscription({
      id,
      field,
      args,
      socket: connection.extra.socket,
      corking: wsCorking,
      maxQueued,
      maxBufferedBytes,
      allowed: () => session.allows(),
      payload: (event) => shared.payload(group, event, field, contextOf),
      onDelivered: () => countDelivered(group.field),
      onEnd: (ended, error, cancelled) => {
        session.subscriptions.delete(ended);
        shared.release(group);
        active.dec({ field: group.field });
        // Ended by itself: the client is told (`complete`, or `error`); a cancelled one is not.
        if (!cancelled) connection.finish(id, ended, error ? errorPayload([new GraphQLError(error.message, { originalError: error })]) : undefined);
      },
    });
  };
  const maxQueued = deps.maxQueued ?? 1_000;
  const maxBufferedBytes = deps.maxBufferedBytes ?? 2 * 1024 * 1024;

  /** The former graphql-ws onSubscribe: parses, validates, limits and authorizes one subscribe message. */
  const decide = async (connection: Connection<SocketExtra>, id: string, payload: SubscribePayload): Promise<Decision> => {
    const session = sessionOf.get(connection);
    const requestId = newRequestId();
    if (!session) return [new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED', requestId } })];
    const checked = documents.check(payload, session.credential?.principal, requestId);
    if (Array.isArray(checked)) return checked as readonly GraphQLError[];
    const { document, operation } = checked as CheckedDocument;
    const root = operation.selectionSet.selections[0];
    const rootName = root?.kind === Kind.FIELD ? root.name.value : undefined;
    if (operation.operation === OperationTypeNode.MUTATION) {
      if (operation.selectionSet.selections.length !== 1 || rootName !== 'authenticateConnection') {
        return inputError('over this socket the only mutation is authenticateConnection; send others over HTTP', 'NOT_A_SUBSCRIPTION', requestId);
      }
      return { kind: 'authenticate', session, ip: connection.extra.ip, userAgent: connection.extra.userAgent, document, variables: payload.variables ?? {}, operationName: payload.operationName ?? null };
    }
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return inputError('this socket serves subscriptions; send queries and mutations over HTTP', 'NOT_A_SUBSCRIPTION', requestId);
    }
    const field = rootName === undefined ? undefined : registry.fields.get(rootName);
    const rootField = rootName === undefined ? undefined : subscriptionType.getFields()[rootName];
    if (!root || root.kind !== Kind.FIELD || !field || !rootField || operation.selectionSet.selections.length !== 1) {
      return inputError('a subscription selects one field of Subscription', 'ONE_ROOT_FIELD', requestId);
    }
    try {
      if (deps.limits) {
        const overBudget = checkOperation(schema, document, payload.operationName ?? undefined, payload.variables ?? undefined, deps.limits);
        if (overBudget) throw overBudget;
      }
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
      if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: 'BAD_USER_INPUT', requestId } }));
      const principal = { ...session.principal(), requestId };
      const args = field.parseArgs(getArgumentValues(rootField, root, coerced.coerced));
      authorizeSubscriber(principal, field);
      await field.authorizeResource(principal, args);
      const scope = principalScope(principal);
      let documentId = documentIdOf.get(document);
      if (documentId === undefined) documentIdOf.set(document, (documentId = (documentIds += 1)));
      const variables = payload.variables ?? {};
      const operationName = payload.operationName ?? null;
      const groupKey = `${field.name}|${documentId}|${operationName ?? ''}|${JSON.stringify(variables)}|${scope}`;
      const parsed = document;
      const group = shared.acquire(groupKey, () => ({ field: field.name, document: parsed, variables, operationName, scope }));
      const live = bindSubscription(connection, id, field, args, session, group, principal);
      session.subscriptions.add(live);
      active.inc({ field: field.name });
      log.debug('subscription started', { requestId, subscriptionId: id, principal: principal.id, orgId: principal.orgId, field: field.name });
      return { kind: 'subscribe', live, principal };
    } catch (error) {
      const appError = toAppError(error);
      log.info('subscription refused', { requestId, field: field.name, code: appError.code, reason: appError.reason });
      return [toClientGraphQLError(appError, requestId)];
    }
  };

  const hooks: ConnectionHooks<SocketExtra> = {
    async init(connection, params) {
      const { ip, userAgent, socket } = connection.extra;
      const session = sessions.open();
      sessionOf.set(connection, session);
      try {
        const credential = await deps.authenticate(params?.['authorization'] ?? params?.['Authorization'], { ip, userAgent });
        // Closed while it was authenticated: its session is forgotten and must not be indexed again.
        if (!sessions.all.has(session)) return false;
        session.authenticate(credential);
        return credential.expiresAt === undefined ? true : { expiresAt: new Date(credential.expiresAt).toISOString() };
      } catch (error) {
        sessions.forget(session);
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') log.error('subscriber authentication failed', { err: error });
        // 4401/4403 with the reason, so a client can tell a bad token from anything else.
        socket.close(appError.code === 'UNAUTHENTICATED' ? 4401 : 4403, `${appError.code}: ${appError.message}`.slice(0, 120));
        return false;
      }
    },
    closed(connection) {
      const session = sessionOf.get(connection);
      if (session) sessions.forget(session);
    },
    async subscribe(connection, id, payload): Promise<SubscribeOutcome> {
      const decision = await decide(connection, id, payload);
      if (Array.isArray(decision)) return { errors: errorPayload(decision as readonly GraphQLError[]) };
      const operation = decision as AuthenticateOperation | SubscribeOperation;
      if (operation.kind === 'subscribe') {
        const { live, principal } = operation;
        return { operation: live, start: () => live.start((sink) => live.field.attach(live.args, sink, principal)) };
      }
      const result = await execute({
        schema,
        document: operation.document,
        variableValues: operation.variables,
        operationName: operation.operationName,
        rootValue: { authenticateConnection: ({ authorization }: { authorization: string }) => authenticateConnection(operation, authorization) },
        contextValue: {},
      });
      if (!result.errors || result.errors.length === 0) return { result: { data: result.data ?? null } };
      const requestId = newRequestId();
      for (const e of result.errors) if (toAppError(e.originalError ?? e).code === 'INTERNAL') log.error('authenticateConnection failed', { err: e.originalError ?? e, requestId });
      return { result: { data: result.data ?? null, errors: masked(result.errors, requestId) } };
    },
  };
  const transport = serveGraphqlWs(hooks, {
    httpServer,
    path,
    log,
    keepAliveMs: deps.keepAliveMs ?? 12_000,
    compression: deps.compression === false ? false : { threshold: deps.compressionThreshold ?? 1024 },
  });

  return {
    schema,
    feeds,
    notificationFeeds,
    async stop() {
      clearInterval(recheck);
      stopWatching?.();
      for (const session of [...sessions.all]) sessions.forget(session);
      await transport.stop();
      await feeds.stop();
      await notificationFeeds.stop();
    },
  };
}
