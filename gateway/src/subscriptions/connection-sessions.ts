import { AppError, toAppError, type Logger, type Principal } from '@orchestra/lib/gateway';
import type { AccessEvent } from '../auth/access-watch';
import type { LiveSubscription } from './live-subscription';
import { authorizeSubscriber } from './registry';

/** What a WebSocket connection authenticated with (connection_init, or authenticateConnection later). */
export interface ConnectionCredential {
  principal: Principal;
  /** When it stops being valid (ms since the epoch): an access token's `exp`. */
  expiresAt?: number | undefined;
  /** An access token's session and token version, to match identity's announcements. */
  sessionId?: string | undefined;
  tokenVersion?: number | undefined;
  /** Asks again whether the credential is still valid (after announcements may have been missed); throws when not. */
  recheck?: (() => Promise<void>) | undefined;
}

/**
 * One WebSocket connection's authentication. While it is valid its subscriptions receive events; when
 * it expires or identity announces that its access changed, every subscription on it ends with
 * UNAUTHENTICATED and the connection waits for a new credential (authenticateConnection) instead of
 * closing. A new credential re-authorizes the open subscriptions: they carry on where they are, or
 * end with FORBIDDEN if the new principal may not see them.
 */
export class ConnectionSession {
  credential: ConnectionCredential | undefined;
  /** Why the last credential stopped, until a new one is given. */
  lapsed: AppError | undefined;
  readonly subscriptions = new Set<LiveSubscription>();
  /** The second (since the epoch) whose expiry sweep lapses this session's credential (ConnectionSessions). */
  expirySecond: number | undefined;

  constructor(private readonly index: ConnectionSessions) {}

  /** The principal new subscriptions act as, or the error saying why there is none. */
  principal(): Principal {
    if (!this.credential) throw this.lapsed ?? new AppError('UNAUTHENTICATED', 'this connection is not authenticated', { reason: 'SIGN_IN_REQUIRED' });
    return this.credential.principal;
  }

  /** Cheap, on every delivery: authenticated and not past expiry. */
  allows(): boolean {
    const credential = this.credential;
    return credential !== undefined && (credential.expiresAt === undefined || Date.now() < credential.expiresAt);
  }

  authenticate(credential: ConnectionCredential): void {
    this.index.unlink(this);
    this.credential = credential;
    this.lapsed = undefined;
    this.index.link(this);
    this.index.unwatchExpiry(this);
    if (credential.expiresAt !== undefined) this.index.watchExpiry(this, credential.expiresAt);
  }

  /** Its credential's expiry came (ConnectionSessions' sweep). */
  expire(): void {
    this.lapse(new AppError('UNAUTHENTICATED', 'your access token expired: authenticate the connection again (authenticateConnection) and subscribe from where you were', { reason: 'TOKEN_EXPIRED' }));
  }

  /** Ends every subscription with `error`; new ones are refused until the connection authenticates again. */
  lapse(error: AppError): void {
    if (!this.credential) return;
    this.index.unlink(this);
    this.credential = undefined;
    this.lapsed = error;
    this.index.unwatchExpiry(this);
    this.index.log.info('connection access ended', { reason: error.reason, subscriptions: this.subscriptions.size });
    for (const subscription of [...this.subscriptions]) subscription.end(error);
  }

  /** The connection closed. */
  close(): void {
    this.index.unlink(this);
    this.index.unwatchExpiry(this);
    this.credential = undefined;
    for (const subscription of [...this.subscriptions]) subscription.end();
  }
}

/**
 * Every open connection, indexed by what identity's announcements name (sessions, users, API keys),
 * so an announcement reaches the connections it concerns without scanning the others.
 */
export class ConnectionSessions {
  private readonly bySession = new Map<string, Set<ConnectionSession>>();
  private readonly byUser = new Map<string, Set<ConnectionSession>>();
  private readonly byApiKey = new Map<string, Set<ConnectionSession>>();
  readonly all = new Set<ConnectionSession>();
  /**
   * Sessions by the second their credential expires in, swept once a second: one timer for every
   * connection instead of one each (10,000 connections made 10,000 timers, each of its own duration).
   * A delivery checks the expiry itself (allows()), so nothing is sent past it meanwhile.
   */
  private readonly expiring = new Map<number, Set<ConnectionSession>>();
  private sweptUpTo = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(readonly log: Logger) {}

  watchExpiry(session: ConnectionSession, expiresAt: number): void {
    if (!this.sweeper) {
      this.sweptUpTo = Math.floor(Date.now() / 1000) - 1;
      this.sweeper = setInterval(() => this.sweepExpired(), 1_000);
      this.sweeper.unref();
    }
    // A credential already past its expiry lapses at the next sweep.
    const second = Math.max(Math.ceil(expiresAt / 1000), this.sweptUpTo + 1);
    let due = this.expiring.get(second);
    if (!due) this.expiring.set(second, (due = new Set()));
    due.add(session);
    session.expirySecond = second;
  }

  unwatchExpiry(session: ConnectionSession): void {
    const second = session.expirySecond;
    if (second === undefined) return;
    session.expirySecond = undefined;
    const due = this.expiring.get(second);
    due?.delete(session);
    if (due?.size === 0) this.expiring.delete(second);
    if (this.expiring.size === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Lapses the sessions whose expiry second has come. */
  private sweepExpired(): void {
    const upTo = Math.floor(Date.now() / 1000);
    for (let second = this.sweptUpTo + 1; second <= upTo; second += 1) {
      const due = this.expiring.get(second);
      if (!due) continue;
      this.expiring.delete(second);
      for (const session of due) {
        session.expirySecond = undefined;
        session.expire();
      }
    }
    this.sweptUpTo = upTo;
    if (this.expiring.size === 0) this.stopSweeping();
  }

  open(): ConnectionSession {
    const session = new ConnectionSession(this);
    this.all.add(session);
    return session;
  }

  forget(session: ConnectionSession): void {
    session.close();
    this.all.delete(session);
  }

  link(session: ConnectionSession): void {
    const { credential } = session;
    if (!credential) return;
    const add = (map: Map<string, Set<ConnectionSession>>, key: string | undefined) => {
      if (key === undefined) return;
      let set = map.get(key);
      if (!set) map.set(key, (set = new Set()));
      set.add(session);
    };
    add(this.bySession, credential.sessionId);
    if (credential.principal.kind === 'user') add(this.byUser, credential.principal.userId ?? credential.principal.id);
    if (credential.principal.kind === 'apiKey') add(this.byApiKey, credential.principal.apiKeyId ?? credential.principal.id);
  }

  unlink(session: ConnectionSession): void {
    const { credential } = session;
    if (!credential) return;
    const remove = (map: Map<string, Set<ConnectionSession>>, key: string | undefined) => {
      if (key === undefined) return;
      const set = map.get(key);
      set?.delete(session);
      if (set?.size === 0) map.delete(key);
    };
    remove(this.bySession, credential.sessionId);
    remove(this.byUser, credential.principal.userId ?? credential.principal.id);
    remove(this.byApiKey, credential.principal.apiKeyId ?? credential.principal.id);
  }

  /** Applies one of identity's announcements to the connections it concerns. */
  apply(event: AccessEvent): void {
    switch (event.kind) {
      case 'session':
        for (const session of [...(this.bySession.get(event.sessionId) ?? [])]) {
          session.lapse(new AppError('UNAUTHENTICATED', 'you signed out of this session: sign in again', { reason: 'SESSION_REVOKED' }));
        }
        return;
      case 'tokenVersion':
        for (const session of [...(this.byUser.get(event.userId) ?? [])]) {
          if ((session.credential?.tokenVersion ?? Number.POSITIVE_INFINITY) >= event.version) continue;
          session.lapse(
            new AppError('UNAUTHENTICATED', 'your access changed (signed out everywhere, password or role changed, or removed from the organization): refresh your token and authenticate the connection again', {
              reason: 'TOKEN_VERSION_STALE',
            }),
          );
        }
        return;
      case 'apiKey':
        for (const session of [...(this.byApiKey.get(event.apiKeyId) ?? [])]) {
          session.lapse(new AppError('UNAUTHENTICATED', 'this API key has been revoked', { reason: 'API_KEY_REVOKED' }));
        }
        return;
      case 'resync':
        void this.recheckAll();
        return;
    }
  }

  /**
   * Asks identity again about every API-key connection (the periodic check: an API key's revocation is
   * announced, but an announcement may be missed). Only those are looked at, through their index: the
   * check used to walk every connection and make a promise for each (recheckAll with a filter), at
   * 10,000 browser connections (no API key among them) a burst of 10,000 async calls and a
   * Promise.all once a minute that held up every delivery meanwhile. Returns how many were asked.
   */
  recheckApiKeys(): Promise<number> {
    const asked: ConnectionSession[] = [];
    for (const set of this.byApiKey.values()) for (const session of set) if (session.credential?.recheck) asked.push(session);
    return this.recheck(asked);
  }

  /** Asks again about every credential that can be asked about (announcements may have been missed). */
  recheckAll(): Promise<number> {
    const asked: ConnectionSession[] = [];
    for (const session of this.all) if (session.credential?.recheck) asked.push(session);
    return this.recheck(asked);
  }

  /** Asks again about `sessions`' credentials (one promise for those that can be asked, none for the others). */
  private async recheck(sessions: readonly ConnectionSession[]): Promise<number> {
    if (sessions.length === 0) return 0;
    await Promise.all(
      sessions.map(async (session) => {
        const credential = session.credential;
        if (!credential?.recheck) return;
        try {
          await credential.recheck();
        } catch (error) {
          const appError = toAppError(error);
          // Only a definite answer ends access; an unreachable store is asked again next time.
          if (session.credential === credential && (appError.code === 'UNAUTHENTICATED' || appError.code === 'FORBIDDEN')) session.lapse(appError);
        }
      }),
    );
    return sessions.length;
  }

  /** Re-authorizes a connection's open subscriptions for its (new) principal; the ones it may not see end with FORBIDDEN. */
  async reauthorize(session: ConnectionSession, previous: Principal | undefined): Promise<void> {
    const principal = session.principal();
    for (const subscription of [...session.subscriptions]) {
      try {
        if (previous && previous.orgId !== principal.orgId) {
          throw new AppError('FORBIDDEN', 'the connection now acts in another organization: subscribe again there', { reason: 'ORGANIZATION_CHANGED' });
        }
        authorizeSubscriber(principal, subscription.field);
        await subscription.field.authorizeResource(principal, subscription.args);
      } catch (error) {
        subscription.end(toAppError(error));
      }
    }
  }
}
