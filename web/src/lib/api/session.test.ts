import { ApiError } from './errors';
import { createSession, STORAGE_KEY, type AuthPayload, type KeyValueStorage, type Session, type SessionChannel, type SessionDeps, type SessionMessage } from './session';

/**
 * The identity service's refresh contract, kept in memory: each refresh token works once; using one
 * again revokes the whole family (as identity does), after which every refresh is refused.
 * The tests check the session never trips it.
 */
class RefreshServer {
  private issued = 0;
  private readonly valid = new Set<string>();
  private revoked = false;
  readonly used: string[] = [];
  reuseDetected = false;
  /** Calls in progress, to see that exchanges never overlap. */
  inFlight = 0;
  maxInFlight = 0;
  lifetimeSeconds = 900;
  organization = { id: 'org-1', name: 'Acme' };

  constructor(private readonly clock: { now: number }) {}

  login(): AuthPayload {
    return this.issue();
  }

  private issue(): AuthPayload {
    this.issued += 1;
    const refreshToken = `rt-${this.issued}`;
    this.valid.add(refreshToken);
    const iat = Math.floor(this.clock.now / 1000);
    return {
      accessToken: jwt({ iat, exp: iat + this.lifetimeSeconds, n: this.issued }),
      accessTokenExpiresAt: new Date((iat + this.lifetimeSeconds) * 1000).toISOString(),
      refreshToken,
      refreshTokenExpiresAt: new Date(this.clock.now + 30 * 86_400_000).toISOString(),
      role: 'ADMIN',
      user: { id: 'user-1', email: 'ada@example.com', name: 'Ada' },
      organization: this.organization,
    };
  }

  exchange = async (refreshToken: string): Promise<AuthPayload> => {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Let other callers run while this "request" is in flight.
      await new Promise((resolve) => setImmediate(resolve));
      this.used.push(refreshToken);
      if (this.revoked) throw new ApiError({ message: 'session revoked', code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
      if (!this.valid.has(refreshToken)) {
        this.reuseDetected = true;
        this.revoked = true;
        throw new ApiError({ message: 'refresh token reused: session ended', code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
      }
      this.valid.delete(refreshToken);
      return this.issue();
    } finally {
      this.inFlight -= 1;
    }
  };

  revokeAll(): void {
    this.revoked = true;
  }
}

function jwt(payload: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'EdDSA', typ: 'JWT' })}.${encode(payload)}.signature`;
}

class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

/** A BroadcastChannel between "tabs": delivers to every other tab, asynchronously like the real one. */
function channelBus() {
  const tabs = new Set<(m: SessionMessage) => void>();
  return (): SessionChannel => {
    let mine: ((m: SessionMessage) => void) | undefined;
    return {
      post: (message) => {
        for (const tab of tabs) if (tab !== mine) queueMicrotask(() => tab(structuredClone(message)));
      },
      listen(onMessage) {
        mine = onMessage;
        tabs.add(onMessage);
        return () => tabs.delete(onMessage);
      },
    };
  };
}

/** navigator.locks for one origin: callers run one at a time, in order. */
function originLock() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

interface Timer {
  at: number;
  fn: () => void;
}

function fakeTimers(clock: { now: number }) {
  const timers = new Set<Timer>();
  return {
    timers,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: clock.now + ms, fn };
      timers.add(timer);
      return timer;
    },
    clearTimer: (handle: unknown) => void timers.delete(handle as Timer),
    /** Moves the clock and fires what came due. */
    advance(ms: number) {
      clock.now += ms;
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at <= clock.now) {
          timers.delete(timer);
          timer.fn();
        }
      }
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('session', () => {
  let clock: { now: number };
  let server: RefreshServer;
  let sessions: Session[];

  beforeEach(() => {
    clock = { now: Date.parse('2026-11-22T10:00:00Z') };
    server = new RefreshServer(clock);
    sessions = [];
  });
  afterEach(() => sessions.forEach((s) => s.dispose()));

  const tab = (overrides: Partial<SessionDeps> = {}) => {
    const timers = fakeTimers(clock);
    const session = createSession({ exchange: server.exchange, now: () => clock.now, setTimer: timers.setTimer, clearTimer: timers.clearTimer, ...overrides });
    sessions.push(session);
    return { session, timers };
  };

  it('keeps the access token in memory and only the refresh token in storage', () => {
    const storage = new MemoryStorage();
    const { session } = tab({ storage });
    const payload = server.login();
    session.adopt(payload);
    const stored = storage.getItem(STORAGE_KEY)!;
    expect(JSON.parse(stored)).toEqual({ refreshToken: payload.refreshToken, refreshTokenExpiresAt: payload.refreshTokenExpiresAt, organizationId: 'org-1' });
    expect(stored).not.toContain(payload.accessToken);
    expect(session.getState()).toEqual({ status: 'signedIn', identity: { user: payload.user, organization: payload.organization, role: 'ADMIN' } });
  });

  it('shares one refresh among every caller in a tab', async () => {
    const storage = new MemoryStorage();
    const { session } = tab({ storage });
    session.adopt(server.login());
    clock.now += 899_000; // inside the refresh margin
    const tokens = await Promise.all([session.getAccessToken(), session.getAccessToken(), session.refresh(), session.getAccessToken()]);
    expect(server.used).toEqual(['rt-1']);
    expect(new Set(tokens).size).toBe(1);
    expect(server.reuseDetected).toBe(false);
  });

  it('does not refresh a token that is still fresh', async () => {
    const { session } = tab({ storage: new MemoryStorage() });
    const payload = server.login();
    session.adopt(payload);
    await expect(session.getAccessToken()).resolves.toBe(payload.accessToken);
    expect(server.used).toEqual([]);
  });

  it('measures expiry from the token lifetime, not the local clock (a skewed clock does not cause refresh loops)', async () => {
    const { session } = tab({ storage: new MemoryStorage() });
    const payload = server.login();
    // The local clock runs an hour ahead of the server: by the stated expiry the token is long gone.
    clock.now += 3_600_000;
    session.adopt(payload);
    await expect(session.getAccessToken()).resolves.toBe(payload.accessToken);
    expect(server.used).toEqual([]);
  });

  it('refreshes ahead of expiry on a timer', async () => {
    const { session, timers } = tab({ storage: new MemoryStorage(), refreshMarginMs: 60_000 });
    session.adopt(server.login());
    timers.advance(839_000);
    await settle();
    expect(server.used).toEqual([]);
    timers.advance(1_000);
    await settle();
    expect(server.used).toEqual(['rt-1']);
    // And again before the new token expires.
    timers.advance(840_000);
    await settle();
    expect(server.used).toEqual(['rt-1', 'rt-2']);
  });

  it('refreshes once when a request was refused with a token that was already replaced', async () => {
    const { session } = tab({ storage: new MemoryStorage() });
    const first = server.login();
    session.adopt(first);
    const replaced = await session.refresh(first.accessToken);
    // A second request that failed with the old token must not rotate again.
    await expect(session.refresh(first.accessToken)).resolves.toBe(replaced);
    expect(server.used).toEqual(['rt-1']);
  });

  it('serializes refreshes across tabs, so no refresh token is ever sent twice', async () => {
    const storage = new MemoryStorage();
    const lock = originLock();
    // No BroadcastChannel: each tab must find the newest refresh token in storage under the lock.
    const a = tab({ storage, withLock: lock }).session;
    const b = tab({ storage, withLock: lock }).session;
    a.adopt(server.login());
    await b.start();
    expect(server.used).toEqual(['rt-1']);
    clock.now += 899_000;
    await Promise.all([a.getAccessToken(), b.getAccessToken(), a.refresh(), b.refresh()]);
    expect(server.reuseDetected).toBe(false);
    expect(server.maxInFlight).toBe(1);
    expect(new Set(server.used).size).toBe(server.used.length);
    expect(a.getState().status).toBe('signedIn');
    expect(b.getState().status).toBe('signedIn');
  });

  it('without a lock, two tabs refreshing at once would reuse a token (what the lock prevents)', async () => {
    const storage = new MemoryStorage();
    const a = tab({ storage }).session;
    const b = tab({ storage }).session;
    a.adopt(server.login());
    b.adopt(server.login());
    clock.now += 899_000;
    // Both tabs read the same stored token and trade it at the same time.
    await Promise.allSettled([a.refresh('x'), b.refresh('y')]);
    expect(server.reuseDetected).toBe(true);
  });

  it('lets a waiting tab take the token another tab broadcast instead of rotating again', async () => {
    const storage = new MemoryStorage();
    const lock = originLock();
    const bus = channelBus();
    const a = tab({ storage, withLock: lock, channel: bus() }).session;
    const b = tab({ storage, withLock: lock, channel: bus() }).session;
    a.adopt(server.login());
    await settle();
    expect(b.getState().status).toBe('signedIn');
    clock.now += 899_000;
    const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    expect(server.used).toEqual(['rt-1']);
    expect(tb).toBe(ta);
  });

  it('switching organization rotates under the same lock as refreshes', async () => {
    const storage = new MemoryStorage();
    const lock = originLock();
    const { session } = tab({ storage, withLock: lock });
    session.adopt(server.login());
    clock.now += 899_000;
    const other = { id: 'org-2', name: 'Globex' };
    const switching = session.rotate(async (refreshToken) => {
      server.organization = other;
      return server.exchange(refreshToken);
    });
    const refreshing = session.getAccessToken();
    const [identity] = await Promise.all([switching, refreshing]);
    expect(identity.organization).toEqual(other);
    expect(server.reuseDetected).toBe(false);
    expect(session.getState()).toMatchObject({ status: 'signedIn', identity: { organization: other } });
  });

  it('ends the session everywhere when the refresh is refused', async () => {
    const storage = new MemoryStorage();
    const bus = channelBus();
    const a = tab({ storage, channel: bus() }).session;
    const b = tab({ storage, channel: bus() }).session;
    a.adopt(server.login());
    await settle();
    server.revokeAll();
    const refused = await a.refresh(await a.getAccessToken()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('UNAUTHENTICATED');
    const ended = a.getState();
    expect(ended.status === 'signedOut' && ended.reason).toMatch(/session has ended/);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    await settle();
    expect(b.getState().status).toBe('signedOut');
    await expect(a.getAccessToken()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps the session when the gateway cannot be reached, and retries later', async () => {
    const storage = new MemoryStorage();
    let down = true;
    const { session, timers } = tab({
      storage,
      retryAfterMs: 10_000,
      exchange: async (rt) => {
        if (down) throw new ApiError({ message: 'unreachable', code: 'NETWORK' });
        return server.exchange(rt);
      },
    });
    session.adopt(server.login());
    timers.advance(840_000);
    await settle();
    expect(session.getState().status).toBe('signedIn');
    expect(storage.getItem(STORAGE_KEY)).not.toBeNull();
    down = false;
    timers.advance(10_000);
    await settle();
    expect(server.used).toEqual(['rt-1']);
  });

  it('resumes a stored session on start, and settles signed out without one', async () => {
    const storage = new MemoryStorage();
    const first = tab({ storage }).session;
    first.adopt(server.login());
    const reloaded = tab({ storage }).session;
    expect(reloaded.getState().status).toBe('restoring');
    await reloaded.start();
    expect(reloaded.getState().status).toBe('signedIn');

    const fresh = tab({ storage: new MemoryStorage() }).session;
    await fresh.start();
    expect(fresh.getState()).toEqual({ status: 'signedOut' });
    await expect(fresh.getAccessToken()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('signs out with the refresh token and clears it', async () => {
    const storage = new MemoryStorage();
    const { session } = tab({ storage });
    session.adopt(server.login());
    const revoked: string[] = [];
    await session.signOut(async (rt) => revoked.push(rt));
    expect(revoked).toEqual(['rt-1']);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    expect(session.getState()).toEqual({ status: 'signedOut' });
  });

  it('works without storage (private mode): the refresh token stays in memory', async () => {
    const broken: KeyValueStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => undefined,
      removeItem: () => undefined,
    };
    const { session } = tab({ storage: broken });
    session.adopt(server.login());
    clock.now += 899_000;
    await session.getAccessToken();
    expect(server.used).toEqual(['rt-1']);
  });
});
