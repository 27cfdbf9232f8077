import { AppError, badInput, isUuid, ROLES, unauthenticated, withTenantTransaction, type GrpcServiceImpl, type Principal } from '@orchestra/lib';
import { identityV1 } from '@orchestra/proto';
import { authenticateApiKey } from '../api-keys/api-keys';
import { inSystem, inTenant, TENANT_ROLE, type IdentityDeps } from '../deps';
import { listMembers } from '../store/memberships';
import { findUsers } from '../store/users';

const MAX_BATCH = 500;
/** The most members ListMembers answers with. */
const MAX_MEMBERS = 1000;

/** How long the gateway may cache an access-token answer (it verifies tokens itself; this is for other callers). */
const ACCESS_TOKEN_CACHE_MS = 5_000;

/** IdentityService: "who is this credential?" and user look-ups, for the gateway and other services. */
export function createIdentityGrpc(deps: IdentityDeps): GrpcServiceImpl<typeof identityV1.IdentityServiceService> {
  const outcomes = deps.counters.authenticate;

  const authenticateAccessToken = async (token: string): Promise<identityV1.AuthenticateResponse> => {
    const claims = await deps.keyRing.verify(token);
    const revoked = await deps.revocations.check(claims);
    if (revoked !== undefined) {
      // gRPC carries code and reason only, so the message says which revocation it was.
      const message =
        revoked === 'SESSION_REVOKED'
          ? 'access token has been revoked: its session has ended, sign in again'
          : 'access token has been revoked: it is out of date (signed out everywhere, password or role changed), refresh it';
      throw new AppError('UNAUTHENTICATED', message, { reason: 'TOKEN_REVOKED', details: { why: revoked } });
    }
    return {
      principal: {
        kind: identityV1.PrincipalKind.PRINCIPAL_KIND_USER,
        id: claims.sub,
        orgId: claims.org,
        role: claims.role,
        scopes: [],
        userId: claims.sub,
        apiKeyId: '',
        display: claims.email,
      },
      cacheTtlMs: Math.max(0, Math.min(ACCESS_TOKEN_CACHE_MS, claims.exp * 1000 - Date.now())),
    };
  };

  return {
    async authenticate(request, ctx) {
      const credential = request.credential;
      const kind = credential?.$case ?? 'none';
      try {
        if (!credential || credential.value === '') throw badInput('credential', 'send an access_token or an api_key', 'CREDENTIAL_REQUIRED');
        if (credential.$case === 'accessToken') {
          const response = await authenticateAccessToken(credential.value);
          outcomes.inc({ credential: kind, outcome: 'ok' });
          return response;
        }
        const { key, role, cacheTtlMs } = await authenticateApiKey(deps, credential.value, request.clientIp || undefined, ctx.requestId);
        outcomes.inc({ credential: kind, outcome: 'ok' });
        return {
          principal: {
            kind: identityV1.PrincipalKind.PRINCIPAL_KIND_API_KEY,
            id: key.id,
            orgId: key.orgId,
            // The key's creator's role (approvals decide by role); empty when its creator is no longer a member.
            role: role ?? '',
            scopes: key.scopes,
            userId: '',
            apiKeyId: key.id,
            display: key.name,
          },
          cacheTtlMs,
        };
      } catch (error) {
        const reason = error instanceof AppError ? (error.reason ?? error.code) : 'INTERNAL';
        outcomes.inc({ credential: kind, outcome: reason });
        if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
          ctx.log.info('credential refused', { credential: kind, reason, clientIp: request.clientIp });
        }
        throw error;
      }
    },

    async getUsers(request, ctx) {
      if (request.ids.length > MAX_BATCH) throw badInput('ids', `at most ${MAX_BATCH} ids per call`, 'TOO_MANY_IDS');
      const ids = [...new Set(request.ids.filter(isUuid))];
      if (ids.length === 0) return { users: [] };
      // A call made for an end user sees only the members of that user's organization.
      const principal: Principal | undefined = ctx.principal;
      const rows = principal?.orgId !== undefined
        ? await inTenant(deps, principal, (tx) => findUsers(tx, ids))
        : principal === undefined
          ? await inSystem(deps, (tx) => findUsers(tx, ids))
          : (() => {
              throw unauthenticated('a forwarded principal without an organization cannot look users up', 'NO_ORGANIZATION');
            })();
      return { users: rows.map((u) => ({ id: u.id, email: u.email, name: u.name, createdAt: u.createdAt })) };
    },
    async listMembers(request, ctx) {
      if (!isUuid(request.orgId)) throw badInput('org_id', 'an organization id (UUID) is required', 'INVALID_ID');
      const unknownRole = request.roles.find((r) => !(ROLES as readonly string[]).includes(r));
      if (unknownRole !== undefined) throw badInput('roles', `unknown role "${unknownRole.slice(0, 40)}" (one of ${ROLES.join(', ')})`, 'UNKNOWN_ROLE');
      // A call made for an end user may only list that user's own organization.
      const principal: Principal | undefined = ctx.principal;
      if (principal !== undefined && principal.orgId !== request.orgId) throw new AppError('FORBIDDEN', 'members of another organization cannot be listed', { reason: 'OTHER_ORGANIZATION' });
      // Row-level security scopes the read to the organization asked for.
      const rows = await withTenantTransaction(deps.pool, TENANT_ROLE, { orgId: request.orgId }, (tx) => listMembers(tx, { orgId: request.orgId, limit: MAX_MEMBERS }));
      const roles = new Set(request.roles);
      return {
        members: rows
          .filter((m) => roles.size === 0 || roles.has(m.role))
          .map((m) => ({ userId: m.userId, email: m.user.email, name: m.user.name, role: m.role })),
      };
    },
  };
}
