import { apiKeyRevokedChannel, AppError, conflict, diffOf, notFound, recordAudit, traceIdOf, type PoolClient, type Principal, type Role } from '@orchestra/lib';
import { inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { revokeApiKeysCreatedBy, type ApiKeyRow } from '../store/api-keys';
import {
  deleteMembership,
  findMembership,
  findMembershipForUpdate,
  lockOwners,
  updateMembershipRole,
  type MemberRow,
  type MembershipRow,
} from '../store/memberships';
import { bumpMemberTokenVersion, findUser } from '../store/users';
import { requireId } from '../validation';

/** The caller's role as the database has it now (the token's role may be minutes old). */
export async function callerRole(tx: PoolClient, orgId: string, userId: string): Promise<Role> {
  const membership = await findMembership(tx, orgId, userId);
  if (!membership) throw new AppError('FORBIDDEN', 'you are no longer a member of this organization', { reason: 'NOT_A_MEMBER' });
  return membership.role;
}

/** Only owners grant or take away the owner role. */
export function assertMayTouchOwnerRole(role: Role, what: string): void {
  if (role !== 'owner') throw new AppError('FORBIDDEN', `only owners can ${what}`, { reason: 'OWNER_ROLE_REQUIRED' });
}

export const lastOwner = (what: string): AppError =>
  conflict(`cannot ${what} the last owner: make another member owner first`, 'LAST_OWNER');

interface MemberChange {
  membership: MembershipRow;
  tokenVersion: number | undefined;
}

/**
 * Runs a role change or removal: locks the owners (so two owners cannot demote each other at once
 * and leave none), then the member, then checks the rules. After commit, the member's old access
 * tokens are made stale, so their next refresh carries the new role (or fails).
 */
async function changeMember(
  deps: IdentityDeps,
  principal: Principal,
  membershipId: string,
  change: (tx: PoolClient, ctx: { target: MembershipRow; owners: string[]; role: Role }) => Promise<MemberChange>,
): Promise<MemberChange> {
  const { userId: callerId, orgId } = signedInUser(principal);
  const id = requireId('id', membershipId);
  const result = await inTenant(deps, principal, async (tx) => {
    const owners = await lockOwners(tx, orgId);
    const target = await findMembershipForUpdate(tx, orgId, id);
    if (!target) throw notFound('membership', id);
    const role = await callerRole(tx, orgId, callerId);
    return change(tx, { target, owners, role });
  });
  if (result.tokenVersion !== undefined) await deps.revocations.setTokenVersion(result.membership.userId, result.tokenVersion);
  return result;
}

export async function changeMemberRole(deps: IdentityDeps, principal: Principal, membershipId: string, newRole: Role): Promise<MembershipRow> {
  const { membership } = await changeMember(deps, principal, membershipId, async (tx, { target, owners, role }) => {
    if (target.role === newRole) {
      await recordAudit(tx, SERVICE, principal, { action: 'member.change_role', targetType: 'Membership', targetId: target.id, diff: { role: newRole, unchanged: true } });
      return { membership: target, tokenVersion: undefined };
    }
    if (target.role === 'owner' && owners.length <= 1) throw lastOwner('demote');
    if (target.role === 'owner' || newRole === 'owner') assertMayTouchOwnerRole(role, newRole === 'owner' ? 'grant the owner role' : 'take the owner role away');
    const updated = await updateMembershipRole(tx, target.id, newRole);
    if (!updated) throw notFound('membership', target.id);
    const tokenVersion = await bumpMemberTokenVersion(tx, target.userId);
    await recordAudit(tx, SERVICE, principal, {
      action: 'member.change_role',
      targetType: 'Membership',
      targetId: target.id,
      diff: diffOf({ role: target.role, userId: target.userId }, { role: newRole, userId: target.userId }),
    });
    return { membership: updated, tokenVersion };
  });
  deps.log.info('member role changed', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), membershipId, role: newRole });
  return membership;
}

export async function removeMember(deps: IdentityDeps, principal: Principal, membershipId: string): Promise<MemberRow> {
  let removedUser: MemberRow['user'] | undefined;
  let revokedKeys: ApiKeyRow[] = [];
  const { membership } = await changeMember(deps, principal, membershipId, async (tx, { target, owners, role }) => {
    if (target.role === 'owner' && owners.length <= 1) throw lastOwner('remove');
    if (target.role === 'owner') assertMayTouchOwnerRole(role, 'remove an owner');
    // Read while the user is still visible to this organization.
    removedUser = await findUser(tx, target.userId);
    // Raised while the membership still exists: the definer function checks it.
    const tokenVersion = await bumpMemberTokenVersion(tx, target.userId);
    const deleted = await deleteMembership(tx, target.id);
    if (!deleted) throw notFound('membership', target.id);
    // The keys they created go with them (docs/decisions.md): they saw every secret when it was made.
    revokedKeys = await revokeApiKeysCreatedBy(tx, target.orgId, target.userId, principal.userId);
    for (const key of revokedKeys) {
      await recordAudit(tx, SERVICE, principal, {
        action: 'api_key.revoke',
        targetType: 'ApiKey',
        targetId: key.id,
        diff: { reason: 'CREATOR_REMOVED', createdBy: target.userId, membershipId: target.id, name: key.name },
      });
    }
    await recordAudit(tx, SERVICE, principal, {
      action: 'member.remove',
      targetType: 'Membership',
      targetId: target.id,
      diff: { before: { userId: target.userId, email: removedUser?.email, role: target.role }, after: null, apiKeysRevoked: revokedKeys.map((k) => k.id) },
    });
    return { membership: deleted, tokenVersion };
  });
  if (!removedUser) throw new AppError('INTERNAL', `user of membership ${membership.id} was not found`);
  // After commit: every gateway drops its cached checks of the revoked keys at once.
  for (const key of revokedKeys) await deps.redis.publish(apiKeyRevokedChannel(deps.config.REDIS_PREFIX), key.id);
  deps.log.info('member removed', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), membershipId, userId: membership.userId, apiKeysRevoked: revokedKeys.length });
  return { ...membership, user: removedUser };
}
