import { API_KEY_PATTERN, apiKeyRevokedChannel, AppError, badInput, diffOf, isUniqueViolation, notFound, recordAudit, traceIdOf, unauthenticated, recordNotification, type Principal, type Role } from '@orchestra/lib';
import { newSecret, randomAlphanumeric, hashSecret, secretMatches } from '../auth/opaque-tokens';
import { inSystem, inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { findApiKey, insertApiKey, recordApiKeyUse, revokeApiKey as revokeApiKeyRow, type ApiKeyRow } from '../store/api-keys';
import { findMembership } from '../store/memberships';
import { requireName } from '../validation';
import { API_KEY_SCOPES, isApiKeyScope } from './scopes';

export type ApiKeyStatus = 'ACTIVE' | 'REVOKED' | 'EXPIRED';

export function apiKeyStatus(key: Pick<ApiKeyRow, 'revokedAt' | 'expiresAt'>, now = Date.now()): ApiKeyStatus {
  if (key.revokedAt !== null) return 'REVOKED';
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now) return 'EXPIRED';
  return 'ACTIVE';
}

export interface CreateApiKeyInput {
  name: string;
  scopes: string[];
  expiresAt?: Date | null | undefined;
}

/** Checks scopes against the catalog: each unknown one is named, with its position. */
function checkScopes(scopes: string[]): string[] {
  if (scopes.length === 0) throw badInput('scopes', 'an API key needs at least one scope', 'SCOPES_REQUIRED');
  scopes.forEach((scope, i) => {
    if (!isApiKeyScope(scope)) {
      throw badInput(`scopes[${i}]`, `unknown scope "${scope}": the scopes are ${API_KEY_SCOPES.map((s) => s.name).join(', ')}`, 'UNKNOWN_SCOPE');
    }
  });
  return [...new Set(scopes)].sort();
}

/** A new API key for the current organization. The full key is returned once; only a hash is kept. */
export async function createApiKey(deps: IdentityDeps, principal: Principal, input: CreateApiKeyInput): Promise<{ apiKey: ApiKeyRow; key: string }> {
  const { userId } = signedInUser(principal);
  const name = requireName('name', input.name, 100);
  const scopes = checkScopes(input.scopes);
  const expiresAt = input.expiresAt ?? undefined;
  if (expiresAt !== undefined && expiresAt.getTime() <= Date.now()) throw badInput('expiresAt', 'expiresAt must be in the future', 'EXPIRES_AT_IN_PAST');

  for (let attempt = 0; ; attempt += 1) {
    const id = randomAlphanumeric(12);
    const secret = newSecret();
    const key = `orc_${id}_${secret}`;
    if (!API_KEY_PATTERN.test(key)) throw new AppError('INTERNAL', 'generated API key does not match the API key pattern');
    try {
      const apiKey = await inTenant(deps, principal, async (tx) => {
        const row = await insertApiKey(tx, { id, orgId: principal.orgId!, name, scopes, secretHash: hashSecret(secret), createdBy: userId, expiresAt });
        await recordAudit(tx, SERVICE, principal, { action: 'api_key.create', targetType: 'ApiKey', targetId: id, diff: { name, scopes, expiresAt: expiresAt?.toISOString() ?? null } });
        await recordNotification(tx, SERVICE, { type: 'api_key.created', orgId: principal.orgId!, data: { apiKeyId: id, name, scopes, createdBy: principal.display } });
        return row;
      });
      deps.log.info('API key created', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), apiKeyId: id, orgId: principal.orgId });
      return { apiKey, key };
    } catch (error) {
      // 62^12 ids make a collision all but impossible; should one happen, draw again.
      if (attempt < 2 && isUniqueViolation(error, 'api_keys_pkey')) continue;
      throw error;
    }
  }
}

/** Revokes a key and tells every gateway at once, so that no cached check keeps it alive. */
export async function revokeApiKey(deps: IdentityDeps, principal: Principal, id: string): Promise<ApiKeyRow> {
  const { userId } = signedInUser(principal);
  if (!/^[A-Za-z0-9]{12}$/.test(id)) throw notFound('API key', id);
  const { row, changed } = await inTenant(deps, principal, async (tx) => {
    const before = await findApiKey(tx, id);
    if (!before) throw notFound('API key', id);
    const after = await revokeApiKeyRow(tx, id, userId);
    if (!after) throw notFound('API key', id);
    const wasActive = before.revokedAt === null;
    // Every mutation is an event; revoking twice says so instead of inventing a change.
    const diff = wasActive ? diffOf({ revokedAt: null }, { revokedAt: after.revokedAt?.toISOString() }) : { alreadyRevoked: true };
    await recordAudit(tx, SERVICE, principal, { action: 'api_key.revoke', targetType: 'ApiKey', targetId: id, diff });
    return { row: after, changed: wasActive };
  });
  // Published even when it was revoked already: a gateway that missed the first message drops it now.
  await deps.redis.publish(apiKeyRevokedChannel(deps.config.REDIS_PREFIX), id);
  if (changed) deps.log.info('API key revoked', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), apiKeyId: id, orgId: principal.orgId });
  return row;
}

export interface AuthenticatedApiKey {
  key: ApiKeyRow;
  /**
   * The role the key acts with where a role decides (an approval's roles): its creator's current role
   * in the key's organization; undefined when its creator is no longer a member (removing a member
   * revokes their keys, so this is rare). A key never has more than the member who made it.
   */
  role: Role | undefined;
  /** How long the gateway may cache the answer. */
  cacheTtlMs: number;
}

/**
 * Checks an API key (IdentityService.Authenticate). Records its use at most once per interval: the
 * last-used time, and an "api_key.use" audit event.
 */
export async function authenticateApiKey(deps: IdentityDeps, presented: string, ip: string | undefined, requestId: string): Promise<AuthenticatedApiKey> {
  const invalid = unauthenticated('API key is not valid', 'API_KEY_INVALID');
  if (!API_KEY_PATTERN.test(presented)) throw invalid;
  const [, id = '', secret = ''] = /^orc_([A-Za-z0-9]{12})_(.+)$/.exec(presented) ?? [];
  const key = await findApiKey(deps.pool, id);
  if (!key || !secretMatches(secret, key.secretHash)) throw invalid;
  switch (apiKeyStatus(key)) {
    case 'REVOKED':
      throw unauthenticated('API key has been revoked', 'API_KEY_REVOKED');
    case 'EXPIRED':
      throw unauthenticated('API key has expired', 'API_KEY_EXPIRED');
    case 'ACTIVE':
      break;
  }
  const { API_KEY_LAST_USED_INTERVAL_SECONDS: touch, API_KEY_USE_AUDIT_INTERVAL_SECONDS: audit, API_KEY_CACHE_TTL_SECONDS: cacheTtl } = deps.config;
  const now = Date.now();
  const due = (at: Date | null, seconds: number) => at === null || now - at.getTime() >= seconds * 1000;
  // Most calls have nothing to write: decide from the row we read, and let the statement settle races.
  if (due(key.lastUsedAt, touch) || due(key.lastUseAuditedAt, audit)) {
    await inSystem(deps, async (tx) => {
      const use = await recordApiKeyUse(tx, key.id, ip, touch, audit);
      if (use?.audit) {
        const actor: Principal = { kind: 'apiKey', id: key.id, apiKeyId: key.id, orgId: key.orgId, scopes: key.scopes, display: key.name, requestId, ip };
        await recordAudit(tx, SERVICE, actor, { action: 'api_key.use', targetType: 'ApiKey', targetId: key.id, orgId: key.orgId, diff: { ip: ip ?? null } });
      }
    });
  }
  const createdBy = key.createdBy;
  const role = createdBy === null ? undefined : (await inSystem(deps, (tx) => findMembership(tx, key.orgId, createdBy)))?.role;
  const untilExpiry = key.expiresAt === null ? Number.POSITIVE_INFINITY : key.expiresAt.getTime() - now;
  return { key, role, cacheTtlMs: Math.max(0, Math.min(cacheTtl * 1000, untilExpiry)) };
}
