import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { AppError, toAppError, toGrpcStatus } from './errors';
import { GRPC_MAX_MESSAGE_BYTES } from './grpc';
import { grpcServerCredentials, type GrpcTls } from './grpc-tls';
import { newRequestId } from './ids';
import { lazyChild, type Logger } from './log';
import type { Metrics } from './metrics';
import { PRINCIPAL_HEADER, type Principal, type PrincipalVerifier } from './principal';
import { endSpan, SpanKind, startSpan, type Span } from './telemetry';
import { traceIdOf } from './trace';

/*
 * The services' and workers' gRPC server: authentication of internal callers, principals, deadlines,
 * traces, metrics, health and graceful stop. Apart from lib/grpc.ts (the client side), so a process
 * that only calls (the gateway) does not load the server or grpc-health-check (issue 11, lean processes).
 */

/** The shape of one method in a ts-proto `XService` definition. */
interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: never) => Buffer;
  responseSerialize: (value: never) => Buffer;
}
type ServiceDefinition = Record<string, MethodDefinition>;
type RequestOf<M> = M extends { requestSerialize: (value: infer Q) => Buffer } ? Q : never;
type ResponseOf<M> = M extends { responseSerialize: (value: infer R) => Buffer } ? R : never;

/**
 * Who made an internal call: another service (the services' INTERNAL_TOKEN), a worker (its worker
 * token, lib/worker-credentials.ts) or the orchestration service calling a worker (a dispatch token).
 */
export type InternalCaller = { kind: 'service' } | { kind: 'worker'; workerId: string } | { kind: 'orchestrator' };

/** A credential other than the services' token that a server accepts, for a few methods only. */
export interface CallerCredential {
  /** Who a bearer token stands for, or undefined when it is not one of these credentials. */
  verify(token: string): InternalCaller | undefined;
  /** The methods (full paths, `/orchestra.x.v1.Service/Method`) such a caller may call; any other is refused. */
  methods: readonly string[];
}

/** The full method paths of a ts-proto service definition (for CallerCredential.methods). */
export const methodPaths = (definition: Record<string, { path: string }>): string[] => Object.values(definition).map((m) => m.path);

/** What every handler gets besides its request. */
export interface GrpcCallContext {
  requestId: string;
  /** Who called; only `service` callers reach methods their credential does not list. */
  caller: InternalCaller;
  /** The end user's principal when the caller forwarded the gateway-signed header. */
  principal: Principal | undefined;
  metadata: grpc.Metadata;
  /** Aborts when the client cancels or the deadline passes. */
  signal: AbortSignal;
  log: Logger;
  /** The deadline the caller set, if any. */
  deadline: Date | undefined;
}

export interface ServerStreamWriter<R> {
  write(message: R): Promise<void>;
}

/** A promise-based implementation of a ts-proto service definition. */
export type GrpcServiceImpl<D extends ServiceDefinition> = {
  [K in keyof D]: D[K] extends { responseStream: true }
    ? (request: RequestOf<D[K]>, out: ServerStreamWriter<ResponseOf<D[K]>>, ctx: GrpcCallContext) => Promise<void>
    : (request: RequestOf<D[K]>, ctx: GrpcCallContext) => Promise<ResponseOf<D[K]>>;
};

export interface GrpcServerOptions {
  service: string;
  log: Logger;
  metrics?: Metrics;
  /**
   * The services' token: a caller sending `authorization: Bearer <internalToken>` may call every
   * method. Unset on a server no service may call (a worker's).
   */
  internalToken?: string | undefined;
  /** Other credentials this server accepts, each for its own methods (a worker's, a dispatcher's). */
  credentials?: readonly CallerCredential[];
  /** Verifies a forwarded x-orchestra-principal (services only); without it such headers are rejected. */
  principalVerifier?: PrincipalVerifier;
  /** Serve over TLS (mutual when `tls.mutual`): lib/grpc-tls.ts. Unset: plaintext. */
  tls?: GrpcTls | undefined;
  /**
   * How long a client connection lives before the server recycles it (GOAWAY), so clients re-resolve and
   * spread onto new replicas; `'unlimited'` never recycles. Default SERVICE_CONNECTION_AGE.
   *
   * A recycle cuts calls still running on the connection: after the GOAWAY, grpc-js clients' keepalive
   * pings fail on the closing session and the client drops the connection with every call on it
   * ("UNAVAILABLE: Connection dropped"), whatever the grace. Servers of long calls (a worker's Execute
   * runs as long as its task, up to a day) must use `'unlimited'`.
   */
  connectionAge?: { maxMs: number; graceMs: number } | 'unlimited';
}


/** The services' servers answer short unary calls: recycled every 5 minutes (± 10%), a minute's grace. */
export const SERVICE_CONNECTION_AGE = { maxMs: 5 * 60_000, graceMs: 60_000 } as const;

/**
 * Server-side keepalive: a peer that stops answering pings for KEEPALIVE_TIMEOUT is dropped, so a
 * server learns within a minute that a client machine vanished (no FIN) and aborts its calls.
 */
const SERVER_KEEPALIVE = { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 } as const;

export interface GrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** When the server recycles client connections (GrpcServerOptions.connectionAge). */
  readonly connectionAge: { maxMs: number; graceMs: number } | 'unlimited';
  add<D extends ServiceDefinition>(definition: D, impl: GrpcServiceImpl<D>, serviceName: string): void;
  setServing(status: ServingStatus): void;
  /** Binds host:port (port 0 picks one) and resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting calls, waits up to `graceMs` for running ones, then cancels the rest. */
  stop(graceMs?: number): Promise<void>;
}

const bearerOf = (sent: string | undefined): string | undefined => (sent !== undefined && sent.startsWith('Bearer ') ? sent.slice('Bearer '.length) : undefined);

const tokenMatches = (bearer: string, expected: Buffer | undefined): boolean => {
  if (expected === undefined) return false;
  const got = Buffer.from(bearer);
  return got.length === expected.length && timingSafeEqual(got, expected);
};

const firstString = (md: grpc.Metadata, key: string): string | undefined => {
  const v = md.get(key)[0];
  return v === undefined ? undefined : String(v);
};

export function createGrpcServer({ service, log, metrics, internalToken, credentials = [], principalVerifier, tls, connectionAge = SERVICE_CONNECTION_AGE }: GrpcServerOptions): GrpcServer {
  const server = new grpc.Server({
    'grpc.keepalive_permit_without_calls': 1,
    ...SERVER_KEEPALIVE,
    'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_BYTES,
    ...(connectionAge === 'unlimited' ? {} : { 'grpc.max_connection_age_ms': connectionAge.maxMs, 'grpc.max_connection_age_grace_ms': connectionAge.graceMs }),
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const expectedToken = internalToken === undefined ? undefined : Buffer.from(internalToken);
  const served: string[] = [];
  const durations = metrics?.histogram('grpc_server_handling_seconds', 'gRPC handler duration', ['method', 'code']);

  /** The caller a bearer token stands for, refused unless its credential lists `method`. */
  const callerOf = (bearer: string | undefined, method: string): InternalCaller => {
    if (bearer !== undefined && tokenMatches(bearer, expectedToken)) return { kind: 'service' };
    for (const credential of bearer === undefined ? [] : credentials) {
      const caller = credential.verify(bearer!);
      if (caller === undefined) continue;
      if (!credential.methods.includes(method)) {
        throw new AppError('FORBIDDEN', `a ${caller.kind} credential may not call ${method}`, { reason: 'CREDENTIAL_NOT_ALLOWED' });
      }
      return caller;
    }
    throw new AppError('UNAUTHENTICATED', 'internal calls need a valid service token', { reason: 'SERVICE_TOKEN_INVALID' });
  };

  const authenticate = async (metadata: grpc.Metadata, method: string): Promise<{ requestId: string; caller: InternalCaller; principal: Principal | undefined; log: Logger }> => {
    const requestId = firstString(metadata, 'x-request-id') ?? newRequestId();
    // Made when first used: most calls log nothing.
    const callLog = lazyChild(log, () => ({ requestId, method }));
    const caller = callerOf(bearerOf(firstString(metadata, 'authorization')), method);
    const header = firstString(metadata, PRINCIPAL_HEADER);
    if (header === undefined) return { requestId, caller, principal: undefined, log: callLog };
    // Only services act for an end user: a worker (or a dispatcher) forwarding a principal is refused.
    if (caller.kind !== 'service') throw new AppError('UNAUTHENTICATED', `a ${caller.kind} credential cannot forward a principal`, { reason: 'PRINCIPAL_INVALID' });
    if (!principalVerifier) throw new AppError('UNAUTHENTICATED', 'this server does not accept forwarded principals', { reason: 'PRINCIPAL_INVALID' });
    const principal = await principalVerifier.verify(header, { requestId, traceparent: firstString(metadata, 'traceparent') });
    return { requestId, caller, principal, log: lazyChild(log, () => ({ requestId, method, traceId: traceIdOf(principal.traceparent), principal: principal.id, orgId: principal.orgId })) };
  };

  const observe = (method: string, started: bigint, code: string) => {
    durations?.observe({ method, code }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  const wrapUnary =
    (method: string, fn: (req: unknown, ctx: GrpcCallContext) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> =>
    (call, callback) => {
      const started = process.hrtime.bigint();
      const abort = new AbortController();
      // grpc-js says 'cancelled' also after a call it answered (its stream closes): only a call still
      // being handled is aborted (no error built and no abort dispatched per answered call).
      let answered = false;
      call.on('cancelled', () => {
        if (!answered) abort.abort(new AppError('UNAVAILABLE', 'call cancelled by client'));
      });
      let requestId = firstString(call.metadata, 'x-request-id') ?? newRequestId();
      let span: Span | undefined;
      authenticate(call.metadata, method)
        .then(async (auth) => {
          requestId = auth.requestId;
          // A call made for a traced request gets a span under the caller's (heartbeats and other
          // calls without a trace context make none).
          const parent = firstString(call.metadata, 'traceparent') ?? auth.principal?.traceparent;
          span = parent === undefined ? undefined : startSpan(`grpc ${method}`, parent, SpanKind.SERVER, { 'rpc.system': 'grpc', 'rpc.method': method, 'orchestra.request_id': requestId }).span;
          const deadline = call.getDeadline();
          const ctx: GrpcCallContext = {
            ...auth,
            metadata: call.metadata,
            signal: abort.signal,
            deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
          };
          const response = await fn(call.request, ctx);
          answered = true;
          observe(method, started, 'OK');
          if (span) endSpan(span);
          callback(null, response);
        })
        .catch((error: unknown) => {
          answered = true;
          const appError = toAppError(error);
          if (appError.code === 'INTERNAL') log.error('grpc handler failed', { err: error, method, requestId });
          observe(method, started, appError.code);
          if (span) endSpan(span, { failure: `${appError.code}: ${appError.message}` });
          callback(toGrpcStatus(appError, requestId));
        });
    };

  const wrapServerStream =
    (
      method: string,
      fn: (req: unknown, out: ServerStreamWriter<unknown>, ctx: GrpcCallContext) => Promise<void>,
    ): grpc.handleServerStreamingCall<unknown, unknown> =>
    (call) => {
      const started = process.hrtime.bigint();
      const abort = new AbortController();
      // As for unary calls: 'cancelled' also comes after the stream was ended here.
      let answered = false;
      call.on('cancelled', () => {
        if (!answered) abort.abort(new AppError('UNAVAILABLE', 'call cancelled by client'));
      });
      let requestId = firstString(call.metadata, 'x-request-id') ?? newRequestId();
      const out: ServerStreamWriter<unknown> = {
        write: (message) =>
          new Promise((resolve) => {
            if (call.cancelled || call.destroyed) return resolve();
            // Respect backpressure: wait for drain when the buffer is full.
            if (call.write(message)) resolve();
            else call.once('drain', () => resolve());
          }),
      };
      authenticate(call.metadata, method)
        .then(async (auth) => {
          requestId = auth.requestId;
          const deadline = call.getDeadline();
          await fn(call.request, out, {
            ...auth,
            metadata: call.metadata,
            signal: abort.signal,
            deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
          });
          answered = true;
          observe(method, started, 'OK');
          call.end();
        })
        .catch((error: unknown) => {
          answered = true;
          const appError = toAppError(error);
          if (appError.code === 'INTERNAL') log.error('grpc stream handler failed', { err: error, method, requestId });
          observe(method, started, appError.code);
          // grpc-js turns an 'error' event into the call's status; destroy() would drop the status and its metadata.
          if (!call.cancelled) call.emit('error', Object.assign(new Error(appError.message), toGrpcStatus(appError, requestId)));
        });
    };

  return {
    server,
    health,
    connectionAge,
    add(definition, impl, serviceName) {
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const [name, def] of Object.entries(definition)) {
        const fn = (impl as Record<string, unknown>)[name];
        if (typeof fn !== 'function') throw new Error(`${serviceName}: no implementation for ${name}`);
        const method = def.path;
        handlers[name] = def.responseStream
          ? wrapServerStream(method, fn.bind(impl) as never)
          : wrapUnary(method, fn.bind(impl) as never);
      }
      server.addService(definition as unknown as grpc.ServiceDefinition, handlers);
      served.push(serviceName);
    },
    setServing(status) {
      health.setStatus('', status);
      for (const name of served) health.setStatus(name, status);
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, grpcServerCredentials(tls), (err, boundPort) => {
          if (err) return reject(new Error(`${service}: cannot listen for gRPC on ${host}:${port}: ${err.message}`, { cause: err }));
          resolve(boundPort);
        });
      });
    },
    stop(graceMs = 5_000) {
      this.setServing('NOT_SERVING');
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
