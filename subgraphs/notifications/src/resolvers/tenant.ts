import { tenantScopeOf, withTenantTransaction, type Pool, type PoolClient, type RequestContext } from '@orchestra/lib';
import { AppError } from '@orchestra/lib';
import { NOTIFICATIONS_TENANT_ROLE } from '../migrate';

/** A transaction as the caller's organization (and user): row-level security keeps it to their rows. */
export const asTenant = <T>(pool: Pool, ctx: RequestContext, fn: (tx: PoolClient) => Promise<T>): Promise<T> =>
  withTenantTransaction(pool, NOTIFICATIONS_TENANT_ROLE, tenantScopeOf(ctx.principal), fn);

/** The signed-in user and organization; notifications are a user's, so API keys and services have none. */
export function signedInUser(ctx: RequestContext): { orgId: string; userId: string } {
  const { orgId, userId } = tenantScopeOf(ctx.principal);
  if (ctx.principal.kind !== 'user' || userId === undefined) throw new AppError('FORBIDDEN', 'notifications belong to signed-in users', { reason: 'USER_REQUIRED' });
  return { orgId, userId };
}
