import { ApiError } from './errors';

/**
 * The signed-in session: the access token lives only in memory; the refresh token is kept in
 * localStorage so a reload or a second tab stays signed in (see web/README.md for why).
 *
 * Refresh tokens are single use and reusing one ends the whole session, so every rotation (refresh,
 * organization switch) runs one at a time: within a tab callers share one in-flight refresh, and
 * across tabs a Web Lock serializes them; inside the lock the refresh token is re-read from storage,
 * so a tab never sends one another tab has already traded. A tab that rotates tells the others the
 * new access token over a BroadcastChannel, so they do not rotate again.
 *
 * What no lock covers is a page that goes away with its trade in flight (a reload, a closed tab): the
 * server has traded the stored token and the answer is lost. identity answers that token again, with
 * the same successor, for a few seconds after its trade (REFRESH_TOKEN_REUSE_GRACE_SECONDS), so the next
 * load resumes the session. Each load still trades the token rather than keeping the access token in
 * sessionStorage: the trade is what re-reads the role and finds an ended session, and a bearer token
 * kept in storage would outlive the page that holds it (tests/web/session-reload.e2e.test.ts).
 */

export type Role = 'OWNER' | 'ADMIN' | 'OPERATOR' | 'VIEWER';

export interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  role: Role;
  user: { id: string; email: string; name: string };
  organization: { id: string; name: string };
}

export interface SessionIdentity {
  user: AuthPayload['user'];
  organization: AuthPayload['organization'];
  role: Role;
}

export type SessionState =
  | { status: 'restoring' }
  | { status: 'signedIn'; identity: SessionIdentity }
  /** `reason`: why a session ended without the user signing out (shown on the sign-in page). */
  | { status: 'signedOut'; reason?: string | undefined };

export type SessionMessage =
  | { type: 'adopted'; accessToken: string; expiresAtMs: number; identity: SessionIdentity }
  | { type: 'signedOut'; reason?: string | undefined };

export interface SessionChannel {
  post: (message: SessionMessage) => void;
  listen: (onMessage: (message: SessionMessage) => void) => () => void;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface SessionDeps {
  /** Trades a refresh token for new tokens (the refreshToken mutation). */
  exchange: (refreshToken: string) => Promise<AuthPayload>;
  /** Where the refresh token survives reloads; without it, only this page's memory. */
  storage?: KeyValueStorage | undefined;
  /** Runs `fn` holding a lock shared by every tab of the origin (navigator.locks). */
  withLock?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
  channel?: SessionChannel | undefined;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** How long before expiry the access token is refreshed (at most a quarter of its lifetime). Default 60 s. */
  refreshMarginMs?: number;
  /** After a refresh failed for a reason other than the session ending (network), try again after this. Default 10 s. */
  retryAfterMs?: number;
}

export const STORAGE_KEY = 'orchestra.session';

interface StoredSession {
  refreshToken: string;
  refreshTokenExpiresAt: string;
  organizationId: string;
}

interface AccessToken {
  token: string;
  /** In this machine's clock. */
  expiresAtMs: number;
  /** When to refresh ahead of expiry. */
  refreshAtMs: number;
}

export const SESSION_ENDED = 'Your session has ended. Please sign in again.';

function decodeJwtLifetimeMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { iat?: unknown; exp?: unknown };
    if (typeof json.iat === 'number' && typeof json.exp === 'number' && json.exp > json.iat) return (json.exp - json.iat) * 1000;
  } catch {
    // Not a JWT we can read: fall back to the expiry the API stated.
  }
  return undefined;
}

export interface Session {
  getState: () => SessionState;
  subscribe: (listener: () => void) => () => void;
  /** On page load: resumes a stored session (one refresh) or settles as signed out. */
  start: () => Promise<void>;
  /** Takes the tokens of a login, sign-up, invitation or password change. */
  adopt: (payload: AuthPayload) => void;
  /** A valid access token, refreshed first when it is about to expire. Throws UNAUTHENTICATED when signed out. */
  getAccessToken: () => Promise<string>;
  /**
   * Refreshes because `staleToken` was refused (TOKEN_EXPIRED / TOKEN_REVOKED). When another caller
   * has already replaced that token, returns the new one without a second refresh.
   */
  refresh: (staleToken?: string) => Promise<string>;
  /** Rotates the refresh token through `exchange` (e.g. switchOrganization), serialized with refreshes. */
  rotate: (exchange: (refreshToken: string) => Promise<AuthPayload>) => Promise<SessionIdentity>;
  /** Signs out here and in every tab; `revoke` ends the session on the server with its refresh token. */
  signOut: (revoke?: (refreshToken: string) => Promise<unknown>) => Promise<void>;
  dispose: () => void;
}

export function createSession(deps: SessionDeps): Session {
  const now = deps.now ?? (() => Date.now());
  const setTimer = deps.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const marginMs = deps.refreshMarginMs ?? 60_000;
  const retryAfterMs = deps.retryAfterMs ?? 10_000;
  const withLock = deps.withLock ?? (<T>(fn: () => Promise<T>) => fn());

  let state: SessionState = { status: 'restoring' };
  let access: AccessToken | undefined;
  /** Only used when storage is unavailable (private mode, blocked): then this page is the only holder. */
  let memoryStored: StoredSession | undefined;
  let inflight: Promise<string> | undefined;
  let timer: unknown;
  const listeners = new Set<() => void>();

  const setState = (next: SessionState) => {
    state = next;
    for (const listener of [...listeners]) listener();
  };

  const storageWorks = (): boolean => {
    if (!deps.storage) return false;
    try {
      deps.storage.getItem(STORAGE_KEY);
      return true;
    } catch {
      return false;
    }
  };

  const readStored = (): StoredSession | undefined => {
    if (!storageWorks()) return memoryStored;
    const raw = deps.storage!.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof parsed.refreshToken !== 'string' || typeof parsed.refreshTokenExpiresAt !== 'string') return undefined;
      return parsed as StoredSession;
    } catch {
      return undefined;
    }
  };

  const writeStored = (stored: StoredSession | undefined) => {
    memoryStored = stored;
    if (!storageWorks()) return;
    if (stored) deps.storage!.setItem(STORAGE_KEY, JSON.stringify(stored));
    else deps.storage!.removeItem(STORAGE_KEY);
  };

  const usable = (stored: StoredSession | undefined): stored is StoredSession => stored !== undefined && Date.parse(stored.refreshTokenExpiresAt) > now();

  const fresh = (token: AccessToken): boolean => token.refreshAtMs > now();

  const schedule = () => {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (!access) return;
    const token = access.token;
    timer = setTimer(() => {
      timer = undefined;
      refresh(token).catch(() => {
        // The session ended (state says so) or the gateway is unreachable: try again while it may still work.
        if (state.status === 'signedIn') timer = setTimer(() => void refresh(access?.token).catch(() => undefined), retryAfterMs);
      });
    }, Math.max(0, access.refreshAtMs - now()));
  };

  const accessFrom = (payload: AuthPayload): AccessToken => {
    const receivedAt = now();
    // The JWT's own lifetime (exp - iat) measured from now is immune to a skewed local clock.
    const lifetimeMs = decodeJwtLifetimeMs(payload.accessToken) ?? Math.max(0, Date.parse(payload.accessTokenExpiresAt) - receivedAt);
    const expiresAtMs = receivedAt + lifetimeMs;
    return { token: payload.accessToken, expiresAtMs, refreshAtMs: expiresAtMs - Math.min(marginMs, lifetimeMs / 4) };
  };

  const identityOf = (payload: AuthPayload): SessionIdentity => ({ user: payload.user, organization: payload.organization, role: payload.role });

  function adopt(payload: AuthPayload): void {
    access = accessFrom(payload);
    writeStored({ refreshToken: payload.refreshToken, refreshTokenExpiresAt: payload.refreshTokenExpiresAt, organizationId: payload.organization.id });
    const identity = identityOf(payload);
    deps.channel?.post({ type: 'adopted', accessToken: access.token, expiresAtMs: access.expiresAtMs, identity });
    schedule();
    setState({ status: 'signedIn', identity });
  }

  const end = (reason: string | undefined, broadcast: boolean) => {
    access = undefined;
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (broadcast) {
      writeStored(undefined);
      deps.channel?.post({ type: 'signedOut', reason });
    } else {
      memoryStored = undefined;
    }
    setState({ status: 'signedOut', reason });
  };

  const sessionEnded = (reason = SESSION_ENDED) => new ApiError({ message: reason, code: 'UNAUTHENTICATED', reason: 'SESSION_ENDED' });

  /** Under the lock: trade the newest refresh token; a refusal ends the session everywhere. */
  async function rotateLocked(exchange: (refreshToken: string) => Promise<AuthPayload>): Promise<AuthPayload> {
    const stored = readStored();
    if (!usable(stored)) {
      end(state.status === 'signedIn' ? SESSION_ENDED : undefined, true);
      throw sessionEnded();
    }
    let payload: AuthPayload;
    try {
      payload = await exchange(stored.refreshToken);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
        end(state.status === 'restoring' ? undefined : SESSION_ENDED, true);
        throw sessionEnded();
      }
      throw error;
    }
    adopt(payload);
    return payload;
  }

  function refresh(staleToken?: string): Promise<string> {
    if (inflight) return inflight;
    const attempt = withLock(async () => {
      // Another tab (or an earlier caller here) may have rotated while we waited for the lock.
      if (access && fresh(access) && access.token !== staleToken) return access.token;
      return (await rotateLocked(deps.exchange)).accessToken;
    });
    inflight = attempt.finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const unlisten = deps.channel?.listen((message) => {
    switch (message.type) {
      case 'adopted':
        access = { token: message.accessToken, expiresAtMs: message.expiresAtMs, refreshAtMs: message.expiresAtMs - Math.min(marginMs, Math.max(0, message.expiresAtMs - now()) / 4) };
        schedule();
        setState({ status: 'signedIn', identity: message.identity });
        return;
      case 'signedOut':
        end(message.reason, false);
        return;
    }
  });

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      if (!usable(readStored())) {
        writeStored(undefined);
        setState({ status: 'signedOut' });
        return;
      }
      setState({ status: 'restoring' });
      try {
        await refresh();
      } catch {
        // A network failure while restoring: stay out until the user signs in again (the token is kept).
        if (state.status === 'restoring') setState({ status: 'signedOut', reason: 'Orchestra could not be reached to resume your session.' });
      }
    },
    adopt,
    async getAccessToken() {
      if (access && fresh(access)) return access.token;
      if (state.status === 'signedOut' && !usable(readStored())) throw sessionEnded(state.reason ?? 'Please sign in.');
      return refresh(access?.token);
    },
    refresh,
    async rotate(exchange) {
      const run = withLock(() => rotateLocked(exchange));
      // Refreshes started meanwhile wait for this rotation rather than racing it.
      const wait = run.then((p) => p.accessToken);
      inflight = wait.finally(() => {
        if (inflight === wait) inflight = undefined;
      });
      return identityOf(await run);
    },
    async signOut(revoke) {
      const stored = readStored();
      if (revoke && stored) await revoke(stored.refreshToken).catch(() => undefined);
      end(undefined, true);
    },
    dispose() {
      unlisten?.();
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}

/** The browser's pieces: localStorage, navigator.locks and a BroadcastChannel, each when available. */
export function browserSessionDeps(): Omit<SessionDeps, 'exchange'> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  let channel: SessionChannel | undefined;
  if (typeof BroadcastChannel !== 'undefined') {
    const bc = new BroadcastChannel('orchestra.session');
    channel = {
      post: (message) => bc.postMessage(message),
      listen(onMessage) {
        const handler = (event: MessageEvent<SessionMessage>) => onMessage(event.data);
        bc.addEventListener('message', handler);
        return () => bc.removeEventListener('message', handler);
      },
    };
  }
  let storage: KeyValueStorage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  return {
    storage,
    channel,
    withLock: locks ? <T>(fn: () => Promise<T>) => locks.request('orchestra.session.rotate', fn) as Promise<T> : undefined,
  };
}
