import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/**
 * The one registry of error codes. Each code has its GraphQL `extensions.code` (the key), its gRPC
 * status and the HTTP status used where an error ends a plain HTTP request.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  FORBIDDEN: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  BAD_USER_INPUT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  /** The request itself could not be read (not JSON, too large, wrong content type): nothing about its fields. */
  BAD_REQUEST: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404 },
  CONFLICT: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409 },
  RATE_LIMITED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 },
  UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503 },
  INTERNAL: { grpc: GrpcStatus.INTERNAL, http: 500 },
} as const satisfies Record<string, { grpc: GrpcStatus; http: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);

export interface AppErrorOptions {
  cause?: unknown;
  /** A finer, stable reason within the code, e.g. TOKEN_EXPIRED or WEAK_PASSWORD. */
  reason?: string;
  /** The input field the error is about, as a path (`input.email`, `steps[2].dependsOn`). */
  field?: string;
  /** Extra machine-readable facts (retry-after, limits). Never secrets. */
  details?: Record<string, unknown>;
}

/** An error meant for the caller: its message is safe to show, except for INTERNAL which is masked. */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  readonly code: ErrorCode;
  readonly reason: string | undefined;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.field = options.field;
    this.details = options.details;
  }

  /** What may be sent to a client in GraphQL `extensions` or gRPC metadata. */
  extensions(): Record<string, unknown> {
    return {
      code: this.code,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.details === undefined ? {} : this.details),
    };
  }
}

export const badInput = (field: string, message: string, reason?: string): AppError =>
  new AppError('BAD_USER_INPUT', message, { field, ...(reason === undefined ? {} : { reason }) });
export const notFound = (what: string, id: string): AppError =>
  new AppError('NOT_FOUND', `${what} ${id} not found`, { reason: `${what.toUpperCase().replace(/\s+/g, '_')}_NOT_FOUND` });
export const forbidden = (message: string, reason = 'FORBIDDEN'): AppError => new AppError('FORBIDDEN', message, { reason });
export const unauthenticated = (message: string, reason: string): AppError =>
  new AppError('UNAUTHENTICATED', message, { reason });
export const conflict = (message: string, reason: string): AppError => new AppError('CONFLICT', message, { reason });

const grpcStatusToCode = new Map<number, ErrorCode>([
  [GrpcStatus.UNAUTHENTICATED, 'UNAUTHENTICATED'],
  [GrpcStatus.PERMISSION_DENIED, 'FORBIDDEN'],
  [GrpcStatus.INVALID_ARGUMENT, 'BAD_USER_INPUT'],
  [GrpcStatus.OUT_OF_RANGE, 'BAD_USER_INPUT'],
  [GrpcStatus.NOT_FOUND, 'NOT_FOUND'],
  [GrpcStatus.ALREADY_EXISTS, 'CONFLICT'],
  [GrpcStatus.FAILED_PRECONDITION, 'CONFLICT'],
  [GrpcStatus.ABORTED, 'CONFLICT'],
  [GrpcStatus.RESOURCE_EXHAUSTED, 'RATE_LIMITED'],
  [GrpcStatus.UNAVAILABLE, 'UNAVAILABLE'],
  [GrpcStatus.DEADLINE_EXCEEDED, 'UNAVAILABLE'],
  [GrpcStatus.CANCELLED, 'UNAVAILABLE'],
]);

const isGrpcServiceError = (error: unknown): error is ServiceError =>
  error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error;

export const GRPC_ERROR_CODE_KEY = 'x-orchestra-error-code';
export const GRPC_ERROR_REASON_KEY = 'x-orchestra-error-reason';
export const GRPC_ERROR_FIELD_KEY = 'x-orchestra-error-field';

/**
 * graphql's GraphQLError, recognised by shape rather than `instanceof` so that this module (which
 * workers load through `@orchestra/lib/worker`) does not load graphql (~10 MiB) for one check.
 */
interface GraphQLErrorShape extends Error {
  readonly extensions: Record<string, unknown>;
  readonly originalError?: Error | null;
}
const isGraphQLError = (error: unknown): error is GraphQLErrorShape =>
  error instanceof Error && error.name === 'GraphQLError' && typeof (error as Partial<GraphQLErrorShape>).extensions === 'object';

/**
 * What pg throws when a pool gives no connection in time: pg-pool when every connection stayed busy
 * past connectionTimeoutMillis (load), pg when connecting took too long (the server overloaded or
 * away). Plain Errors, recognised by message here so that this module needs no pg.
 */
const PG_CONNECT_TIMEOUTS: ReadonlySet<string> = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']);

/** Whether `error` is a PostgreSQL pool's connect timeout: the database is busy, the request may be tried again. */
export const isDatabaseConnectTimeout = (error: unknown): boolean => error instanceof Error && PG_CONNECT_TIMEOUTS.has(error.message);

/** Turns anything thrown into an AppError, keeping the original as `cause`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isGrpcServiceError(error)) return fromGrpcError(error);
  if (isGraphQLError(error)) {
    const code = error.extensions['code'];
    if (isErrorCode(code)) {
      const reason = error.extensions['reason'];
      const field = error.extensions['field'];
      return new AppError(code, error.message, {
        cause: error,
        ...(typeof reason === 'string' ? { reason } : {}),
        ...(typeof field === 'string' ? { field } : {}),
      });
    }
    if (code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED') {
      return new AppError('BAD_USER_INPUT', error.message, { cause: error, reason: String(code) });
    }
    if (error.originalError) return toAppError(error.originalError);
  }
  if (isDatabaseConnectTimeout(error)) {
    // Not a bug: under load the pool had no connection free in time. The caller may try again (UNAVAILABLE, 503).
    return new AppError('UNAVAILABLE', 'the database is busy: no connection came free in time; try again shortly', { cause: error, reason: 'DATABASE_BUSY' });
  }
  return new AppError('INTERNAL', 'internal error', { cause: error });
}

/** Rebuilds the AppError a remote service raised, from the status and metadata of its gRPC error. */
export function fromGrpcError(error: ServiceError): AppError {
  const sent = error.metadata?.get(GRPC_ERROR_CODE_KEY)[0];
  const code: ErrorCode = isErrorCode(String(sent)) ? (String(sent) as ErrorCode) : (grpcStatusToCode.get(error.code) ?? 'INTERNAL');
  const reason = error.metadata?.get(GRPC_ERROR_REASON_KEY)[0];
  const field = error.metadata?.get(GRPC_ERROR_FIELD_KEY)[0];
  const message = code === 'INTERNAL' ? 'internal error in a downstream service' : error.details || error.message;
  return new AppError(code, message, {
    cause: error,
    ...(reason === undefined ? {} : { reason: String(reason) }),
    ...(field === undefined ? {} : { field: String(field) }),
  });
}

/** The status object a gRPC handler passes to its callback (or emits) for an error. */
export function toGrpcStatus(error: unknown, requestId: string): Partial<ServiceError> {
  const appError = toAppError(error);
  const metadata = new Metadata();
  metadata.set(GRPC_ERROR_CODE_KEY, appError.code);
  if (appError.reason !== undefined) metadata.set(GRPC_ERROR_REASON_KEY, appError.reason);
  if (appError.field !== undefined) metadata.set(GRPC_ERROR_FIELD_KEY, appError.field);
  metadata.set('x-request-id', requestId);
  const details = appError.code === 'INTERNAL' ? `internal error (request id ${requestId})` : appError.message;
  return { code: ERROR_CODES[appError.code].grpc, details, metadata };
}

/** Thrown by a task executor when a retry cannot help (bad input, a 4xx answer). */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
