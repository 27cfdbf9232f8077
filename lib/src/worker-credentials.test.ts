import { createDispatchTokenSet, createWorkerAuthority, mintWorkerToken, workerIdOfToken } from './worker-credentials';

const secret = 's'.repeat(40);
const next = 'n'.repeat(40);

describe('worker tokens', () => {
  it('are bound to the worker id they were minted for', () => {
    const authority = createWorkerAuthority([secret]);
    const token = mintWorkerToken(secret, 'gpu-worker-7.a:b');
    expect(workerIdOfToken(token)).toBe('gpu-worker-7.a:b');
    expect(authority.verifyWorkerToken(token)).toBe('gpu-worker-7.a:b');
  });

  it('refuse a changed id, a changed MAC, another secret and anything malformed', () => {
    const authority = createWorkerAuthority([secret]);
    const [prefix, , mac] = mintWorkerToken(secret, 'worker-a').split('.');
    const otherId = `${prefix}.${Buffer.from('worker-b').toString('base64url')}.${mac}`;
    expect(authority.verifyWorkerToken(otherId)).toBeUndefined();
    const token = mintWorkerToken(secret, 'worker-a');
    expect(authority.verifyWorkerToken(`${token.slice(0, -2)}AA`)).toBeUndefined();
    expect(authority.verifyWorkerToken(mintWorkerToken(next, 'worker-a'))).toBeUndefined();
    for (const bad of ['', 'owk1', 'owk1..', 'owk2.d29ya2Vy.abc', `owk1.${Buffer.from('bad id!').toString('base64url')}.abc`]) expect(authority.verifyWorkerToken(bad)).toBeUndefined();
    expect(() => mintWorkerToken('short', 'worker-a')).toThrow(/at least 32/);
    expect(() => mintWorkerToken(secret, 'bad id!')).toThrow(/not 1-128/);
  });

  it('verify under every configured secret while the first one signs (rotation)', () => {
    const rotating = createWorkerAuthority([next, secret]);
    expect(rotating.verifyWorkerToken(mintWorkerToken(secret, 'w'))).toBe('w');
    expect(rotating.verifyWorkerToken(mintWorkerToken(next, 'w'))).toBe('w');
    expect(rotating.dispatchTokens('w')).toEqual([rotating.dispatchToken('w'), createWorkerAuthority([secret]).dispatchToken('w')]);
    expect(rotating.dispatchToken('w')).toBe(createWorkerAuthority([next]).dispatchToken('w'));
  });
});

describe('dispatch tokens', () => {
  it('differ per worker and from the worker token, and a worker accepts only those it was handed', () => {
    const authority = createWorkerAuthority([secret]);
    expect(authority.dispatchToken('a')).not.toBe(authority.dispatchToken('b'));
    expect(authority.dispatchToken('a')).not.toBe(mintWorkerToken(secret, 'a'));
    const accepted = createDispatchTokenSet();
    expect(accepted.has(authority.dispatchToken('a'))).toBe(false);
    accepted.accept(authority.dispatchTokens('a'));
    expect(accepted.has(authority.dispatchToken('a'))).toBe(true);
    expect(accepted.has(authority.dispatchToken('b'))).toBe(false);
    // An empty answer (an unknown worker) does not wipe what it holds.
    accepted.accept([]);
    expect(accepted.has(authority.dispatchToken('a'))).toBe(true);
  });
});
