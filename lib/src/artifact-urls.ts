import { createHmac, timingSafeEqual } from 'node:crypto';
import { env } from './config';

/**
 * Short-lived signed download URLs of task artifacts (issue 8; docs/decisions.md "Artifact
 * downloads: signed URLs"). Orchestration signs `GET /artifacts/<id>?org=&exp=&sig=` for an artifact
 * its caller may read; the gateway checks the signature and expiry, then looks the artifact up
 * under the signed org (so an id of another org is simply not found) before it streams the bytes.
 * The HMAC covers the artifact id, the org id and the expiry; keys rotate like other secret lists
 * (the first signs, all verify).
 */

/** Minimum characters of a URL-signing key. */
export const ARTIFACT_URL_KEY_MIN_LENGTH = 32;

export const artifactUrlEnv = {
  /** Comma-separated HMAC keys (the first signs, all verify); the same list on orchestration and the gateway. Unset: no download URLs. */
  ARTIFACT_URL_KEYS: env.secretList(ARTIFACT_URL_KEY_MIN_LENGTH).optional(),
};

export const artifactUrlTtlEnv = {
  /** How long a download URL stays valid. */
  ARTIFACT_URL_TTL_SECONDS: env.int(300, { min: 10, max: 86_400 }),
};

export const ARTIFACT_DOWNLOAD_PATH = '/artifacts/';

export interface ArtifactGrant {
  artifactId: string;
  orgId: string;
  /** Unix seconds after which the URL is refused. */
  expiresAt: number;
}

const mac = (key: string, grant: ArtifactGrant): Buffer => createHmac('sha256', key).update(`orchestra-artifact-download:v1\n${grant.artifactId}\n${grant.orgId}\n${grant.expiresAt}`).digest();

/** The path and query of a download URL for the grant (prefix it with the gateway's public origin, if any). */
export function signArtifactUrl(keys: readonly string[], grant: ArtifactGrant, base = ''): string {
  const key = keys[0];
  if (key === undefined) throw new Error('signArtifactUrl needs a key');
  const query = new URLSearchParams({ org: grant.orgId, exp: String(grant.expiresAt), sig: mac(key, grant).toString('base64url') });
  return `${base.replace(/\/+$/, '')}${ARTIFACT_DOWNLOAD_PATH}${encodeURIComponent(grant.artifactId)}?${query.toString()}`;
}

export type ArtifactUrlCheck = { ok: true; grant: ArtifactGrant } | { ok: false; reason: 'MALFORMED' | 'EXPIRED' | 'BAD_SIGNATURE' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks a download URL's parts (`id` from the path; `org`, `exp`, `sig` from the query) at `nowMs`. */
export function verifyArtifactUrl(keys: readonly string[], parts: { id: string; org?: unknown; exp?: unknown; sig?: unknown }, nowMs = Date.now()): ArtifactUrlCheck {
  const { id, org, exp, sig } = parts;
  if (!UUID.test(id) || typeof org !== 'string' || !UUID.test(org) || typeof exp !== 'string' || !/^\d{1,12}$/.test(exp) || typeof sig !== 'string' || sig.length > 100) {
    return { ok: false, reason: 'MALFORMED' };
  }
  const grant: ArtifactGrant = { artifactId: id.toLowerCase(), orgId: org.toLowerCase(), expiresAt: Number(exp) };
  const given = Buffer.from(sig, 'base64url');
  const valid = keys.some((key) => {
    const expected = mac(key, grant);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  // The signature first: an expired URL says so only when it is genuine.
  if (!valid) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (grant.expiresAt * 1000 <= nowMs) return { ok: false, reason: 'EXPIRED' };
  return { ok: true, grant };
}
