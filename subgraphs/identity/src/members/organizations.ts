import { AppError, diffOf, isUniqueViolation, newId, recordAudit, traceIdOf, type Principal } from '@orchestra/lib';
import { normalizeEmail } from '../auth/email';
import { mailVerification, prepareVerification, releaseFromUnverifiedHolder } from '../auth/email-verification';
import { checkPasswordStrength } from '../auth/passwords';
import { startSession, type AuthPayload } from '../auth/sessions';
import { recordSignInSuccess } from '../auth/sign-in';
import { actingUser, countCreation, inSystem, inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { insertMembership } from '../store/memberships';
import { findOrganization, insertOrganization, renameOrganization, type OrganizationRow } from '../store/organizations';
import { findEmailHolder, findUser, insertPassword, insertUser, renameUser, type UserRow } from '../store/users';
import { requireName } from '../validation';

export const MAX_ORGANIZATION_NAME = 100;
export const MAX_USER_NAME = 200;

export interface SignUpInput {
  email: string;
  password: string;
  name: string;
  organizationName: string;
}

export const emailTaken = (field = 'email'): AppError =>
  new AppError('CONFLICT', 'an account with this email already exists: sign in (or reset its password if the address is yours), then create the organization from there', {
    reason: 'EMAIL_TAKEN',
    field,
  });

/** A new organization and its owner, signed in. Everything is checked before anything is written. */
export async function signUp(deps: IdentityDeps, principal: Principal, input: SignUpInput): Promise<AuthPayload> {
  const email = normalizeEmail(input.email);
  const name = requireName('name', input.name, MAX_USER_NAME);
  const organizationName = requireName('organizationName', input.organizationName, MAX_ORGANIZATION_NAME);
  checkPasswordStrength(input.password, { minLength: deps.config.PASSWORD_MIN_LENGTH }, { email, name });
  await countCreation(deps, principal, 'signUp');
  const passwordHash = await deps.hasher.hash(input.password);
  try {
    const { payload, verification, released } = await inSystem(deps, async (tx) => {
      // An address held by a sign-up that never verified it, for longer than it may hold one, is free.
      const holder = await findEmailHolder(tx, email, true);
      const stale = holder !== undefined && !holder.emailVerified && holder.createdAt.getTime() < Date.now() - deps.config.UNVERIFIED_ACCOUNT_HOLD_SECONDS * 1000;
      const released = stale ? await releaseFromUnverifiedHolder(tx, principal, holder.id, email, 'unverified sign-up expired') : undefined;
      const organization = await insertOrganization(tx, { id: newId(), name: organizationName });
      const user = await insertUser(tx, { id: newId(), email, name });
      await insertPassword(tx, user.id, passwordHash);
      await insertMembership(tx, { id: newId(), orgId: organization.id, userId: user.id, role: 'owner' });
      const result = await startSession(deps, tx, principal, { user, organization, role: 'owner', tokenVersion: 0 });
      await recordAudit(tx, SERVICE, actingUser(principal, user, organization.id), {
        action: 'organization.sign_up',
        targetType: 'Organization',
        targetId: organization.id,
        orgId: organization.id,
        diff: { organization: { name: organizationName }, owner: { id: user.id, email, name }, releasedFromUnverifiedAccount: released?.userId },
      });
      const verification = await prepareVerification(deps, tx, user, email, 'sign_up');
      return { payload: result, verification, released };
    });
    if (released) await deps.revocations.setTokenVersion(released.userId, released.tokenVersion);
    await deps.verificationMails.hit(payload.user.id);
    mailVerification(deps, principal, payload.user.id, verification);
    await recordSignInSuccess(deps, principal, email);
    deps.log.info('signed up', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: payload.user.id, orgId: payload.organization.id });
    return payload;
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw emailTaken();
    throw error;
  }
}

/** Another organization, owned by the signed-in user. */
export async function createOrganization(deps: IdentityDeps, principal: Principal, input: { name: string }): Promise<OrganizationRow> {
  const { userId } = signedInUser(principal);
  const name = requireName('name', input.name, MAX_ORGANIZATION_NAME);
  await countCreation(deps, principal, 'organization');
  // The new organization is not the caller's current one, so its rows cannot be written under the
  // current tenant: a system transaction, writing only what belongs to the new org.
  return inSystem(deps, async (tx) => {
    const organization = await insertOrganization(tx, { id: newId(), name });
    await insertMembership(tx, { id: newId(), orgId: organization.id, userId, role: 'owner' });
    await recordAudit(tx, SERVICE, principal, { action: 'organization.create', targetType: 'Organization', targetId: organization.id, orgId: organization.id, diff: { name } });
    return organization;
  });
}

export async function updateOrganization(deps: IdentityDeps, principal: Principal, input: { name: string }): Promise<OrganizationRow> {
  const { orgId } = signedInUser(principal);
  const name = requireName('name', input.name, MAX_ORGANIZATION_NAME);
  return inTenant(deps, principal, async (tx) => {
    const before = await findOrganization(tx, orgId);
    const after = await renameOrganization(tx, orgId, name);
    if (!before || !after) throw new AppError('NOT_FOUND', `organization ${orgId} not found`, { reason: 'ORGANIZATION_NOT_FOUND' });
    await recordAudit(tx, SERVICE, principal, { action: 'organization.update', targetType: 'Organization', targetId: orgId, diff: diffOf({ name: before.name }, { name: after.name }) });
    return after;
  });
}

export async function updateProfile(deps: IdentityDeps, principal: Principal, input: { name: string }): Promise<UserRow> {
  const { userId } = signedInUser(principal);
  const name = requireName('name', input.name, MAX_USER_NAME);
  return inTenant(deps, principal, async (tx) => {
    const before = await findUser(tx, userId);
    const after = await renameUser(tx, userId, name);
    if (!before || !after) throw new AppError('NOT_FOUND', `user ${userId} not found`, { reason: 'USER_NOT_FOUND' });
    await recordAudit(tx, SERVICE, principal, { action: 'user.update', targetType: 'User', targetId: userId, diff: diffOf({ name: before.name }, { name: after.name }) });
    return after;
  });
}
