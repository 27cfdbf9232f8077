import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './__generated__/graphql';
import { ApiError, apiErrorFromGraphQL, networkError } from './errors';
import type { Session } from './session';

/**
 * Live data over graphql-ws on the gateway's /graphql. The socket authenticates in connection_init
 * and again, on the same socket, whenever the session's access token is refreshed
 * (`authenticateConnection`), so subscriptions carry on past the token's expiry. The gateway closes
 * the socket with 4401 when the first token is refused, and ends subscriptions with UNAUTHENTICATED
 * when access ends while open (expiry, revocation): then the token is refreshed (serialized with
 * every other refresh), the socket authenticated again and the subscription made again from where it
 * was (its variables carry the resume point).
 */

const AUTHENTICATE_CONNECTION = 'mutation AuthenticateConnection($authorization: String!) { authenticateConnection(authorization: $authorization) { expiresAt } }';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LiveHandlers<TResult> {
  next: (data: TResult) => void;
  error: (error: ApiError) => void;
  complete?: () => void;
  status?: (status: LiveStatus) => void;
}

export interface LiveClient {
  /**
   * Subscribes; returns the unsubscribe function. `variables` is sent again, as it is then, each time
   * the socket reconnects, so a caller resumes a stream by updating it (e.g. `afterSeq`) as data comes.
   */
  subscribe: <TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, handlers: LiveHandlers<TResult>) => () => void;
  /** Closes the socket (sign-out, organization switch): the next subscription connects afresh. */
  reset: () => void;
}

export interface LiveClientDeps {
  url: string;
  session: Pick<Session, 'getAccessToken' | 'refresh'> & Partial<Pick<Session, 'subscribe'>>;
  /** For tests in node (no global WebSocket there). */
  webSocketImpl?: unknown;
}

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

const isUnauthenticated = (error: unknown): boolean =>
  Array.isArray(error) && (error as Array<{ extensions?: { code?: unknown } }>).some((e) => e.extensions?.code === 'UNAUTHENTICATED');

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number';

/** A socket close or a subscribe error as the ApiError the pages show. */
export function liveErrorOf(error: unknown): ApiError {
  if (Array.isArray(error)) return apiErrorFromGraphQL(error, 0);
  if (isCloseEvent(error)) {
    const reason = error.reason.replace(/^[A-Z_]+:\s*/, '');
    if (error.code === CLOSE_UNAUTHENTICATED) return new ApiError({ message: reason || 'Not signed in.', code: 'UNAUTHENTICATED' });
    if (error.code === CLOSE_FORBIDDEN) return new ApiError({ message: reason || 'Not allowed.', code: 'FORBIDDEN' });
    return networkError(new Error(`socket closed ${error.code} ${error.reason}`));
  }
  return networkError(error);
}

export function createLiveClient(deps: LiveClientDeps): LiveClient {
  let client: Client | undefined;
  /** The token the current socket was opened with (what to report as stale on 4401). */
  let socketToken: string | undefined;
  /** The socket's state now: a subscription made on an open socket is live at once. */
  let socketStatus: LiveStatus = 'closed';
  const statusListeners = new Set<(status: LiveStatus) => void>();
  const emit = (status: LiveStatus) => {
    socketStatus = status;
    for (const listener of statusListeners) listener(status);
  };

  /** Sends the session's current token on the open socket, unless the socket already has it. */
  let reauthenticating: Promise<void> | undefined;
  const reauthenticate = (): Promise<void> => {
    const current = client;
    if (!current || socketStatus !== 'live') return Promise.resolve();
    reauthenticating ??= (async () => {
      const token = await deps.session.getAccessToken();
      if (token === socketToken) return;
      await new Promise<void>((resolve, reject) => {
        current.subscribe<{ authenticateConnection: { expiresAt: string | null } }>(
          { query: AUTHENTICATE_CONNECTION, variables: { authorization: `Bearer ${token}` } },
          {
            next: (result) => {
              if (result.errors && result.errors.length > 0) reject(apiErrorFromGraphQL(result.errors, 0));
            },
            error: reject,
            complete: resolve,
          },
        );
      });
      socketToken = token;
    })().finally(() => {
      reauthenticating = undefined;
    });
    return reauthenticating;
  };
  // A refreshed session token goes to the open socket at once, before the old one expires there.
  deps.session.subscribe?.(() => {
    reauthenticate().catch(() => undefined);
  });

  const clientFor = (): Client => {
    client ??= createClient({
      url: deps.url,
      lazy: true,
      // Keep the socket for a moment between pages so navigating does not reconnect every time.
      lazyCloseTimeout: 3_000,
      keepAlive: 15_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      ...(deps.webSocketImpl ? { webSocketImpl: deps.webSocketImpl } : {}),
      connectionParams: async () => {
        socketToken = await deps.session.getAccessToken();
        return { authorization: `Bearer ${socketToken}` };
      },
      on: {
        connecting: (isRetry) => emit(isRetry ? 'reconnecting' : 'connecting'),
        connected: () => emit('live'),
        closed: () => emit('closed'),
      },
    });
    return client;
  };

  return {
    subscribe<TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, handlers: LiveHandlers<TResult>): () => void {
      let active = true;
      let unsubscribe: (() => void) | undefined;
      let authRetries = 0;
      if (handlers.status) statusListeners.add(handlers.status);

      const start = () => {
        handlers.status?.(socketStatus === 'live' ? 'live' : 'connecting');
        // graphql-ws serializes this payload again on every reconnect, so it carries the caller's
        // `variables` object itself (not a copy): updates to it are what a reconnect resumes from.
        const payload = { query: document.toString(), variables };
        unsubscribe = clientFor().subscribe<TResult>(
          payload,
          {
            next: (result) => {
              if (!active) return;
              if (result.errors && result.errors.length > 0) {
                handlers.error(apiErrorFromGraphQL(result.errors, 0));
                return;
              }
              authRetries = 0;
              if (result.data) handlers.next(result.data);
            },
            error: (error) => {
              if (!active) return;
              // Access ended while the socket stayed open: refresh, authenticate the socket again, resume.
              if (isUnauthenticated(error) && authRetries < 2) {
                authRetries += 1;
                deps.session
                  .refresh(socketToken)
                  .then(() => reauthenticate())
                  .then(
                    () => {
                      if (active) start();
                    },
                    (refreshError: unknown) => {
                      if (active) handlers.error(refreshError instanceof ApiError ? refreshError : liveErrorOf(error));
                    },
                  );
                return;
              }
              if (isCloseEvent(error) && error.code === CLOSE_UNAUTHENTICATED && authRetries < 2) {
                authRetries += 1;
                const stale = socketToken;
                deps.session.refresh(stale).then(
                  () => {
                    if (active) start();
                  },
                  (refreshError: unknown) => {
                    if (active) handlers.error(refreshError instanceof ApiError ? refreshError : liveErrorOf(error));
                  },
                );
                return;
              }
              handlers.error(liveErrorOf(error));
            },
            complete: () => {
              if (active) handlers.complete?.();
            },
          },
        );
      };
      start();
      return () => {
        active = false;
        if (handlers.status) statusListeners.delete(handlers.status);
        unsubscribe?.();
      };
    },
    reset() {
      const old = client;
      client = undefined;
      socketToken = undefined;
      socketStatus = 'closed';
      void old?.dispose();
    },
  };
}
