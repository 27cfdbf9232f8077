import { SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { createPrincipalSigner, createPrincipalVerifier, generatePrincipalKeys, roleAtLeast, type Principal } from './principal';

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
