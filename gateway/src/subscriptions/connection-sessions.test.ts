import { AppError, createMemoryLogger, type Principal } from '@orchestra/lib';
import { ConnectionSessions, type ConnectionCredential } from './connection-sessions';

/**
 * The periodic recheck of connections' credentials (server.ts, every 60 s): only API-key connections
 * are asked again, and the others are not even looked at. It used to walk every connection and make a
 * promise for each; at 10,000 browser connections that was a burst of 10,000 async calls once a
 * minute in the gateway's event loop, in the middle of run events' deliveries (issue 11's p99).
 */
const log = createMemoryLogger('connection-sessions-test');

const userPrincipal = (i: number): Principal => ({ kind: 'user', id: `user-${i}`, userId: `user-${i}`, orgId: 'org-1', role: 'operator', scopes: [], requestId: 'r' });
const apiKeyPrincipal = (i: number): Principal => ({ kind: 'apiKey', id: `key-${i}`, apiKeyId: `key-${i}`, orgId: 'org-1', role: 'operator', scopes: [], requestId: 'r' });

/** A credential that counts how often anything reads whether it can be asked again. */
function countedCredential(principal: Principal, recheck: () => Promise<void>, reads: { n: number }): ConnectionCredential {
  return {
    principal,
    sessionId: `session-${principal.id}`,
    get recheck() {
      reads.n += 1;
      return recheck;
    },
  };
}

describe('ConnectionSessions rechecks', () => {
  it('asks only the API-key connections again, and looks at no other connection', async () => {
    const sessions = new ConnectionSessions(log);
    const userReads = { n: 0 };
    const userRechecks = jest.fn(async () => undefined);
    for (let i = 0; i < 1_000; i += 1) sessions.open().authenticate(countedCredential(userPrincipal(i), userRechecks, userReads));
    const keyReads = { n: 0 };
    const keyRechecks = jest.fn(async () => undefined);
    const revoked = jest.fn(async () => {
      throw new AppError('UNAUTHENTICATED', 'this API key has been revoked', { reason: 'API_KEY_REVOKED' });
    });
    const keys = [sessions.open(), sessions.open(), sessions.open()];
    keys[0]!.authenticate(countedCredential(apiKeyPrincipal(0), keyRechecks, keyReads));
    keys[1]!.authenticate(countedCredential(apiKeyPrincipal(1), keyRechecks, keyReads));
    keys[2]!.authenticate(countedCredential(apiKeyPrincipal(2), revoked, keyReads));
    userReads.n = 0;

    expect(await sessions.recheckApiKeys()).toBe(3);

    expect(keyRechecks).toHaveBeenCalledTimes(2);
    expect(revoked).toHaveBeenCalledTimes(1);
    expect(userRechecks).not.toHaveBeenCalled();
    // Not one of the 1,000 browser connections was looked at.
    expect(userReads.n).toBe(0);
    // A definite answer ends the revoked key's access; the others carry on.
    expect(keys[2]!.credential).toBeUndefined();
    expect(keys[2]!.lapsed?.reason).toBe('API_KEY_REVOKED');
    expect(keys[0]!.allows()).toBe(true);
  });

  it('asks nothing and makes no promise per connection when no API key is connected', async () => {
    const sessions = new ConnectionSessions(log);
    const reads = { n: 0 };
    for (let i = 0; i < 1_000; i += 1) sessions.open().authenticate(countedCredential(userPrincipal(i), async () => undefined, reads));
    reads.n = 0;
    expect(await sessions.recheckApiKeys()).toBe(0);
    expect(reads.n).toBe(0);
  });

  it('after missed announcements (resync), asks every connection that can be asked', async () => {
    const sessions = new ConnectionSessions(log);
    const rechecks = jest.fn(async () => undefined);
    const reads = { n: 0 };
    for (let i = 0; i < 10; i += 1) sessions.open().authenticate(countedCredential(userPrincipal(i), rechecks, reads));
    sessions.open().authenticate(countedCredential(apiKeyPrincipal(0), rechecks, reads));
    // One without a way to ask (nothing to do for it), one not authenticated.
    sessions.open().authenticate({ principal: userPrincipal(99) });
    sessions.open();
    expect(await sessions.recheckAll()).toBe(11);
    expect(rechecks).toHaveBeenCalledTimes(11);
  });
});
