import { SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { createPrincipalSigner, createPrincipalVerifier, generatePrincipalKeys, principalClaimChecks, roleAtLeast, type Principal } from './principal';

const keys = generatePrincipalKeys();
const signer = createPrincipalSigner(keys.privateKeyPem);
const verifier = createPrincipalVerifier(keys.publicKeyPem);
const principal: Principal = { kind: 'user', id: 'u1', userId: 'u1', orgId: 'o1', role: 'admin', scopes: [], requestId: 'req_1', ip: '10.0.0.1' };

describe('gateway-signed principal', () => {
  it('round-trips', async () => {
    expect(await verifier.verify(await signer.sign(principal))).toEqual(principal);
  });

  it('refuses a missing header', async () => {
    await expect(verifier.verify(undefined)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_MISSING' });
  });

  it('refuses a header signed by another key', async () => {
    const other = createPrincipalSigner(generatePrincipalKeys().privateKeyPem);
    await expect(verifier.verify(await other.sign(principal))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
  });

  it('refuses a tampered payload', async () => {
    const [h, p, s] = (await signer.sign(principal)).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    payload['role'] = 'owner';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
  });

  it('refuses an expired header', async () => {
    const old = await new SignJWT({ ...principal })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('orchestra-gateway')
      .setAudience('orchestra-internal')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(createPrivateKey(keys.privateKeyPem));
    await expect(verifier.verify(old)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_EXPIRED' });
  });

  it('orders roles', () => {
    expect(roleAtLeast('owner', 'admin')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast(undefined, 'viewer')).toBe(false);
  });
});

describe('identity headers (signed once per caller, the request id beside them)', () => {
  afterEach(() => jest.useRealTimers());

  it('reuses one header per caller for 30 s, and signs again after', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-07T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const reusing = createPrincipalSigner(keys.privateKeyPem);
    const first = await reusing.signIdentity(principal);
    jest.setSystemTime(new Date('2026-12-07T10:00:29Z'));
    expect(await reusing.signIdentity({ ...principal, requestId: 'req_2', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBe(first);
    // Another caller, or the same one from another address, is another identity.
    expect(await reusing.signIdentity({ ...principal, id: 'u2', userId: 'u2' })).not.toBe(first);
    expect(await reusing.signIdentity({ ...principal, ip: '10.0.0.2' })).not.toBe(first);
    jest.setSystemTime(new Date('2026-12-07T10:00:31Z'));
    const second = await reusing.signIdentity(principal);
    expect(second).not.toBe(first);
    const iat = (header: string) => (JSON.parse(Buffer.from(header.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;
    expect(iat(second) - iat(first)).toBe(31);
  });

  it('never serves one caller the header of another whose fields only read alike', async () => {
    const reusing = createPrincipalSigner(keys.privateKeyPem);
    const viewer: Principal = { kind: 'user', id: 'u3', userId: 'u3', orgId: 'o1', scopes: [], requestId: 'req_1', display: 'x",role:"owner' };
    const owner: Principal = { kind: 'user', id: 'u3', userId: 'u3', orgId: 'o1', scopes: [], requestId: 'req_1', display: 'x', role: 'owner' };
    const claims = (header: string) => JSON.parse(Buffer.from(header.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims(await reusing.signIdentity(viewer))).toMatchObject({ display: 'x",role:"owner' });
    expect(claims(await reusing.signIdentity(viewer)).role).toBeUndefined();
    expect(claims(await reusing.signIdentity(owner))).toMatchObject({ display: 'x', role: 'owner' });
    // The same caller with its fields in another order is the same identity (one signature, or at worst another).
    expect(await verifier.verify(await reusing.signIdentity({ requestId: 'req_9', scopes: [], userId: 'u3', orgId: 'o1', id: 'u3', kind: 'user', display: 'x', role: 'owner' }))).toMatchObject({ id: 'u3', role: 'owner', requestId: expect.any(String) as unknown });
  });

  it('carries neither the request id nor the trace: the verifier takes them from beside the header', async () => {
    const header = await signer.signIdentity({ ...principal, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const claims = JSON.parse(Buffer.from(header.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims['requestId']).toBeUndefined();
    expect(claims['traceparent']).toBeUndefined();
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(await verifier.verify(header, { requestId: 'req_other', traceparent: trace })).toEqual({ ...principal, requestId: 'req_other', traceparent: trace });
    // Without a request id beside it (or with one that is not an id) the request gets a fresh one.
    expect((await verifier.verify(header)).requestId).toMatch(/^req_/);
    expect((await verifier.verify(header, { requestId: 'bad id\nwith a newline' })).requestId).toMatch(/^req_[A-Za-z0-9_-]+$/);
  });

  it('a whole principal keeps its own request id whatever is sent beside it', async () => {
    expect((await verifier.verify(await signer.sign(principal), { requestId: 'req_other' })).requestId).toBe('req_1');
  });

  it('is refused when another key signed it or it was tampered with, also after a good header was cached', async () => {
    const header = await signer.signIdentity(principal);
    await verifier.verify(header, { requestId: 'req_a' });
    const other = createPrincipalSigner(generatePrincipalKeys().privateKeyPem);
    await expect(verifier.verify(await other.signIdentity(principal))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
    const [h, p, s] = header.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    payload['role'] = 'owner';
    await expect(verifier.verify(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`)).rejects.toMatchObject({ reason: 'PRINCIPAL_INVALID' });
  });

  it('a verified header is not served from the cache once it has expired', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-07T11:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const verifying = createPrincipalVerifier(keys.publicKeyPem);
    const header = await signer.sign({ ...principal, id: 'u9', userId: 'u9' });
    await verifying.verify(header);
    jest.setSystemTime(new Date('2026-12-07T11:00:30Z'));
    expect((await verifying.verify(header)).id).toBe('u9');
    // 60 s of life and jose's 5 s of clock tolerance later it is refused, cached or not.
    jest.setSystemTime(new Date('2026-12-07T11:01:06Z'));
    await expect(verifying.verify(header)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_EXPIRED' });
  });

  it("checks a verified header's claims once per process; each request gets its own principal, each header its own organization", async () => {
    const verifying = createPrincipalVerifier(keys.publicKeyPem);
    const identity = jest.spyOn(principalClaimChecks.identity, 'safeParse');
    const whole = jest.spyOn(principalClaimChecks.whole, 'safeParse');
    try {
      const o1 = await signer.signIdentity({ ...principal, id: 'u5', userId: 'u5', scopes: ['runs:read'] });
      const o2 = await signer.signIdentity({ ...principal, id: 'u5', userId: 'u5', orgId: 'o2', role: 'viewer', scopes: ['runs:read'] });
      const first = await verifying.verify(o1, { requestId: 'req_a' });
      // What one request does to its principal does not reach the next request's.
      first.scopes.push('runs:write');
      (first as { orgId?: string }).orgId = 'o2';
      expect(await verifying.verify(o1, { requestId: 'req_b' })).toMatchObject({ orgId: 'o1', role: 'admin', scopes: ['runs:read'], requestId: 'req_b' });
      expect(await verifying.verify(o2, { requestId: 'req_c' })).toMatchObject({ orgId: 'o2', role: 'viewer', requestId: 'req_c' });
      expect(await verifying.verify(o1, { requestId: 'req_d' })).toMatchObject({ orgId: 'o1', role: 'admin', requestId: 'req_d' });
      expect(identity).toHaveBeenCalledTimes(2);
      const signed = await signer.sign({ ...principal, id: 'u6', userId: 'u6' });
      const a = await verifying.verify(signed);
      a.scopes.push('x');
      expect(await verifying.verify(signed)).toEqual({ ...principal, id: 'u6', userId: 'u6' });
      expect(whole).toHaveBeenCalledTimes(1);
    } finally {
      identity.mockRestore();
      whole.mockRestore();
    }
  });

  it('refuses claims that do not make a principal every time (a good signature is not enough, and nothing is kept)', async () => {
    const verifying = createPrincipalVerifier(keys.publicKeyPem);
    const bad = await new SignJWT({ kind: 'robot', id: 'r1', scopes: [] })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('orchestra-gateway')
      .setAudience('orchestra-internal')
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(createPrivateKey(keys.privateKeyPem));
    await expect(verifying.verify(bad, { requestId: 'req_a' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
    await expect(verifying.verify(bad, { requestId: 'req_b' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
  });
});
