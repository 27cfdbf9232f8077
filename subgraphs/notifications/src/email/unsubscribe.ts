import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe links work without signing in, so they carry the organization and user, signed with a
 * key derived from the services' INTERNAL_TOKEN (HMAC-SHA256): nobody can forge one for someone else.
 */
export interface Unsubscriber {
  token(orgId: string, userId: string): string;
  /** The organization and user of a valid token, else undefined. */
  verify(token: string): { orgId: string; userId: string } | undefined;
  url(orgId: string, userId: string): string;
}

export function createUnsubscriber(internalToken: string, publicUrl: string): Unsubscriber {
  const key = createHash('sha256').update(`orchestra-unsubscribe:${internalToken}`).digest();
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  const token = (orgId: string, userId: string) => {
    const payload = Buffer.from(JSON.stringify({ o: orgId, u: userId })).toString('base64url');
    return `${payload}.${sign(payload)}`;
  };
  return {
    token,
    verify(value) {
      const [payload, signature, extra] = value.split('.');
      if (!payload || !signature || extra !== undefined || value.length > 500) return undefined;
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { o?: unknown; u?: unknown };
        return typeof parsed.o === 'string' && typeof parsed.u === 'string' ? { orgId: parsed.o, userId: parsed.u } : undefined;
      } catch {
        return undefined;
      }
    },
    url: (orgId, userId) => `${publicUrl.replace(/\/$/, '')}/unsubscribe?token=${token(orgId, userId)}`,
  };
}
