/**
 * Errors from the API as the app shows them. The gateway answers every failure with the error
 * registry's shape (`extensions.code`, `reason`, `field`, `requestId`); this keeps all of it so a
 * page can say exactly what went wrong and, for INTERNAL, which request to look up in the logs.
 */

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  /** The request itself could not be read (too large, not JSON). */
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  /** The gateway could not be reached or answered something that is not GraphQL. */
  | 'NETWORK';

const KNOWN_CODES = new Set<string>(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'BAD_REQUEST', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL']);

export interface GraphQLErrorJson {
  message?: unknown;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

export interface ApiErrorDetail {
  message: string;
  code: ErrorCode;
  reason?: string | undefined;
  field?: string | undefined;
  path?: ReadonlyArray<string | number> | undefined;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly reason: string | undefined;
  /** The input field the API blames (`input.steps[2].dependsOn`). */
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  /** HTTP status of the answer, 0 when there was none. */
  readonly status: number;
  /** Every error of the answer (the first is this one). */
  readonly errors: readonly ApiErrorDetail[];
  /** The rest of `extensions` (e.g. details a subgraph added). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(init: { message: string; code: ErrorCode; reason?: string | undefined; field?: string | undefined; requestId?: string | undefined; status?: number; errors?: readonly ApiErrorDetail[]; extensions?: Record<string, unknown>; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
    this.field = init.field;
    this.requestId = init.requestId;
    this.status = init.status ?? 0;
    this.errors = init.errors ?? [{ message: init.message, code: init.code, reason: init.reason, field: init.field }];
    this.extensions = init.extensions ?? {};
  }
}

const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

const codeOf = (value: unknown): ErrorCode => (typeof value === 'string' && KNOWN_CODES.has(value) ? (value as ErrorCode) : 'INTERNAL');

/** The ApiError for a GraphQL answer's `errors` (the first error leads; all are kept). */
export function apiErrorFromGraphQL(errors: readonly GraphQLErrorJson[], status: number, headerRequestId?: string | null): ApiError {
  const details: ApiErrorDetail[] = errors.map((e) => ({
    message: asString(e.message) ?? 'The request failed.',
    code: codeOf(e.extensions?.['code']),
    reason: asString(e.extensions?.['reason']),
    field: asString(e.extensions?.['field']),
    path: e.path,
  }));
  const first = errors[0];
  const lead = details[0] ?? { message: 'The request failed.', code: 'INTERNAL' as const };
  const { code: _code, reason: _reason, field: _field, requestId, ...extensions } = first?.extensions ?? {};
  return new ApiError({
    message: lead.message,
    code: lead.code,
    reason: lead.reason,
    field: lead.field,
    requestId: asString(requestId) ?? headerRequestId ?? undefined,
    status,
    errors: details,
    extensions,
  });
}

/** The gateway did not answer, or answered with something that is not GraphQL. */
export function networkError(cause: unknown, status = 0, requestId?: string | null): ApiError {
  const message =
    status === 0
      ? 'Orchestra cannot be reached: check your connection, or whether the gateway is running.'
      : `The gateway answered HTTP ${status} without a GraphQL response.`;
  return new ApiError({ message, code: 'NETWORK', status, requestId: requestId ?? undefined, cause });
}

/** Access-token failures that a refresh can cure (the gateway's reasons). */
export const REFRESHABLE_REASONS: ReadonlySet<string> = new Set(['TOKEN_EXPIRED', 'TOKEN_REVOKED']);

export const isRefreshable = (error: unknown): boolean => error instanceof ApiError && error.code === 'UNAUTHENTICATED' && error.reason !== undefined && REFRESHABLE_REASONS.has(error.reason);

/** Anything thrown, as an ApiError (programming errors become INTERNAL with their message). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError({ message: error.message, code: 'INTERNAL', cause: error });
  return new ApiError({ message: String(error), code: 'INTERNAL', cause: error });
}

export interface ErrorPresentation {
  title: string;
  message: string;
  /**
   * Shown only for errors nobody expected (INTERNAL, UNAVAILABLE, a network failure) so an operator can
   * find the request in the logs; a refusal the user can act on (wrong password, bad input) reads as a plain message.
   */
  requestId?: string | undefined;
}

const TITLES: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'Not signed in',
  FORBIDDEN: 'Not allowed',
  BAD_USER_INPUT: 'Please check the input',
  BAD_REQUEST: 'The request could not be read',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many requests',
  UNAVAILABLE: 'Temporarily unavailable',
  INTERNAL: 'Something went wrong',
  NETWORK: 'Connection problem',
};

const UNEXPECTED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INTERNAL', 'UNAVAILABLE', 'NETWORK']);

/** What an error box says: the API's own message, and the request id for unexpected errors. */
export function presentError(error: unknown): ErrorPresentation {
  const apiError = toApiError(error);
  if (apiError.code === 'INTERNAL') {
    return {
      title: TITLES.INTERNAL,
      message: apiError.requestId ? `Orchestra hit an internal error. Quote request id ${apiError.requestId} when you report it.` : apiError.message,
      requestId: apiError.requestId,
    };
  }
  const extra = apiError.errors.length > 1 ? ` (and ${apiError.errors.length - 1} more)` : '';
  return { title: TITLES[apiError.code], message: `${apiError.message}${extra}`, requestId: UNEXPECTED.has(apiError.code) ? apiError.requestId : undefined };
}

/**
 * Whether an error means "there is no such thing": NOT_FOUND, or an id that cannot name anything
 * (reason INVALID_ID, e.g. /apps/not-a-uuid). Detail pages show these as "not found", not as a failure to retry.
 */
export const isNotFound = (error: unknown): boolean => error instanceof ApiError && (error.code === 'NOT_FOUND' || error.reason === 'INVALID_ID');
