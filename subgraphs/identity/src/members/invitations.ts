import { AppError, badInput, conflict, isUniqueViolation, newId, notFound, recordAudit, recordNotification, renderMail, traceIdOf, type Principal, type Role } from '@orchestra/lib';
import { normalizeEmail } from '../auth/email';
import { formatRowToken, hashSecret, newSecret, parseRowToken, secretMatches } from '../auth/opaque-tokens';
import { mailVerification, prepareVerification } from '../auth/email-verification';
import { checkPasswordStrength } from '../auth/passwords';
import { parseSecondFactor } from '../auth/totp';
import { spendSecondFactor } from '../auth/two-factor-sign-in';
import { isTwoFactorEnabled } from '../store/two-factor';
import { startSession, type AuthPayload } from '../auth/sessions';
import { assertSignInAllowed, invalidCredentials, recordSignInFailure, recordSignInSuccess } from '../auth/sign-in';
import { actingUser, inSystem, inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import {
  findInvitation,
  findInvitationById,
  findInvitationForUpdate,
  insertInvitation,
  markInvitationAccepted,
  revokeInvitation as revokeInvitationRow,
  revokeOpenInvitationFor,
  type InvitationRow,
} from '../store/invitations';
import { findMembership, insertMembership } from '../store/memberships';
import { findOrganization } from '../store/organizations';
import { findUserCredentialsByEmail, findUserIdByEmail, insertPassword, insertUser } from '../store/users';
import { requireId, requireName } from '../validation';
import { assertMayTouchOwnerRole, callerRole } from './members';
import { emailTaken, MAX_USER_NAME } from './organizations';

const INVITATION_TOKEN_PREFIX = 'oin';

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';

export function invitationStatus(inv: Pick<InvitationRow, 'acceptedAt' | 'revokedAt' | 'expiresAt'>, now = Date.now()): InvitationStatus {
  if (inv.acceptedAt !== null) return 'ACCEPTED';
  if (inv.revokedAt !== null) return 'REVOKED';
  if (inv.expiresAt.getTime() <= now) return 'EXPIRED';
  return 'PENDING';
}

/**
 * Invites an address into the current organization and mails the invitee a link. Inviting the same
 * address again replaces the open invitation. The answer is the same whether or not the address has
 * an account: nobody joins without accepting, and nothing tells the admin who has one (issue 9 item 3).
 * `showToken`: inviteMember also hands the admin the token (to pass on by other means); addMember does not.
 */
async function createInvitation(deps: IdentityDeps, principal: Principal, input: { email: string; role: Role }, via: 'inviteMember' | 'addMember'): Promise<{ invitation: InvitationRow; token: string }> {
  const { userId: callerId, orgId } = signedInUser(principal);
  const email = normalizeEmail(input.email);
  const perOrg = await deps.invitationMails.hit(orgId);
  if (!perOrg.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil(perOrg.retryAfterMs / 1000));
    throw new AppError('RATE_LIMITED', `too many invitations from this organization: try again in ${retryAfterSeconds} s`, { reason: 'TOO_MANY_INVITATIONS', details: { retryAfterSeconds } });
  }
  const secret = newSecret();
  const id = newId();
  const { invitation, organizationName } = await inTenant(deps, principal, async (tx) => {
    const role = await callerRole(tx, orgId, callerId);
    if (input.role === 'owner') assertMayTouchOwnerRole(role, 'invite owners');
    const existing = await findUserIdByEmail(tx, email);
    // Members of the admin's own organization are no secret to them (they list them anyway).
    if (existing !== undefined && (await findMembership(tx, orgId, existing))) {
      throw new AppError('CONFLICT', `${email} is already a member`, { reason: 'ALREADY_MEMBER', field: 'email' });
    }
    const replaced = await revokeOpenInvitationFor(tx, orgId, email);
    const row = await insertInvitation(tx, {
      id,
      orgId,
      email,
      role: input.role,
      tokenHash: hashSecret(secret),
      invitedBy: callerId,
      expiresAt: new Date(Date.now() + deps.config.INVITATION_TTL_SECONDS * 1000),
    });
    await recordAudit(tx, SERVICE, principal, { action: 'invitation.create', targetType: 'Invitation', targetId: id, diff: { email, role: input.role, replacedOpenInvitation: replaced > 0, via } });
    await recordNotification(tx, SERVICE, { type: 'member.invited', orgId, data: { invitationId: id, email, role: input.role, invitedBy: principal.display } });
    return { invitation: row, organizationName: (await findOrganization(tx, orgId))?.name ?? 'an organization' };
  });
  const token = formatRowToken(INVITATION_TOKEN_PREFIX, id, secret);
  mailInvitation(deps, principal, { to: email, invitationId: id, organizationName, role: input.role, inviter: principal.display, token });
  deps.log.info('member invited', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), invitationId: id, orgId, via });
  return { invitation, token };
}

/** Mails the invitee the accept link, after commit and without waiting (a failure is logged with the ids). */
function mailInvitation(deps: IdentityDeps, principal: Principal, m: { to: string; invitationId: string; organizationName: string; role: Role; inviter: string | undefined; token: string }): void {
  const link = `${deps.config.APP_URL}/accept-invitation?token=${encodeURIComponent(m.token)}`;
  const days = Math.round(deps.config.INVITATION_TTL_SECONDS / 86_400);
  const mail = renderMail({
    subject: `You are invited to ${m.organizationName} on Orchestra`,
    heading: 'Hello,',
    paragraphs: [
      `${m.inviter ?? 'An administrator'} invited ${m.to} to join ${m.organizationName} on Orchestra as ${m.role}.`,
      `Nothing happens unless you accept. The link works once, for ${days} days.`,
    ],
    action: { label: 'Accept the invitation', url: link },
    footer: 'If you do not want to join, ignore this mail.',
  });
  const logContext = { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), invitationId: m.invitationId };
  deps.mailer.send({ ...mail, to: m.to, kind: 'invitation', link, logContext }).catch((error: unknown) => {
    deps.log.error('invitation mail failed', { ...logContext, err: error });
  });
}

/** Invites an address (mailed a link) and hands the admin the one-time token too. */
export const inviteMember = (deps: IdentityDeps, principal: Principal, input: { email: string; role: Role }): Promise<{ invitation: InvitationRow; token: string }> =>
  createInvitation(deps, principal, input, 'inviteMember');

/**
 * Asks an address to join: the invitee is mailed a link and becomes a member only by accepting it.
 * The answer (the invitation, without its token) is the same whether or not the address has an account.
 */
export const addMember = async (deps: IdentityDeps, principal: Principal, input: { email: string; role: Role }): Promise<InvitationRow> =>
  (await createInvitation(deps, principal, input, 'addMember')).invitation;

export async function revokeInvitation(deps: IdentityDeps, principal: Principal, invitationId: string): Promise<InvitationRow> {
  const { orgId } = signedInUser(principal);
  const id = requireId('id', invitationId);
  return inTenant(deps, principal, async (tx) => {
    const invitation = await findInvitation(tx, orgId, id);
    if (!invitation) throw notFound('invitation', id);
    const status = invitationStatus(invitation);
    if (status === 'ACCEPTED' || status === 'REVOKED') throw conflict(`invitation ${id} is already ${status.toLowerCase()}`, 'INVITATION_CLOSED');
    const revoked = await revokeInvitationRow(tx, id);
    if (!revoked) throw conflict(`invitation ${id} was closed meanwhile`, 'INVITATION_CLOSED');
    await recordAudit(tx, SERVICE, principal, { action: 'invitation.revoke', targetType: 'Invitation', targetId: id, diff: { email: invitation.email } });
    return revoked;
  });
}

export interface AcceptInvitationInput {
  token: string;
  name?: string | null | undefined;
  password: string;
  twoFactorCode?: string | null | undefined;
}

const badToken = (message: string, reason: string) => badInput('token', message, reason);

/** Refuses an invitation that can no longer be accepted, saying why. */
function assertOpen(invitation: InvitationRow): void {
  switch (invitationStatus(invitation)) {
    case 'ACCEPTED':
      throw badToken('this invitation was already accepted', 'INVITATION_USED');
    case 'REVOKED':
      throw badToken('this invitation was withdrawn', 'INVITATION_REVOKED');
    case 'EXPIRED':
      throw badToken('this invitation has expired: ask for a new one', 'INVITATION_EXPIRED');
    case 'PENDING':
      return;
  }
}

/**
 * Accepts an invitation and signs the invitee in to its organization. A new address becomes an
 * account (name and password needed); an existing account proves itself with its password.
 */
export async function acceptInvitation(deps: IdentityDeps, principal: Principal, input: AcceptInvitationInput): Promise<AuthPayload> {
  const parsed = parseRowToken(INVITATION_TOKEN_PREFIX, input.token);
  if (!parsed) throw badToken('token is not an invitation token', 'INVITATION_INVALID');

  // First look without locking, to do the slow password work outside the transaction.
  const preview = await findInvitationById(deps.pool, parsed.rowId);
  if (!preview || !secretMatches(parsed.secret, preview.tokenHash)) throw badToken('invitation token is not valid', 'INVITATION_INVALID');
  assertOpen(preview);
  const existing = await findUserCredentialsByEmail(deps.pool, preview.email);
  let newAccount: { name: string; passwordHash: string } | undefined;
  if (existing) {
    await assertSignInAllowed(deps, principal, existing.email);
    const { ok } = await deps.hasher.verify(existing.passwordHash, input.password);
    if (!ok) {
      await recordSignInFailure(deps, principal, existing.email);
      throw invalidCredentials();
    }
    // Whoever signed up with an address they never proved must not join organizations as its owner
    // (DESIGN.md, "E-mail verification"). Checked after the password, so it tells nothing to others.
    if (!existing.emailVerified) {
      throw new AppError('FORBIDDEN', `verify ${existing.email} first (follow the link mailed to it, or reset the password), then accept the invitation`, { reason: 'EMAIL_NOT_VERIFIED' });
    }
    // Accepting signs the account in: with two-factor on, the password alone is not enough.
    if (await isTwoFactorEnabled(deps.pool, existing.id)) {
      const raw = input.twoFactorCode ?? '';
      if (raw.trim() === '') throw badInput('twoFactorCode', 'this account signs in with a second factor: enter a code from its authenticator app', 'TWO_FACTOR_REQUIRED');
      const factor = parseSecondFactor(raw, 'twoFactorCode');
      if (!(await inSystem(deps, (tx) => spendSecondFactor(deps, tx, existing.id, factor)))) {
        await recordSignInFailure(deps, principal, existing.email);
        throw badInput('twoFactorCode', 'this code is not valid', 'INVALID_CODE');
      }
    }
  } else {
    const name = requireName('name', input.name, MAX_USER_NAME);
    checkPasswordStrength(input.password, { minLength: deps.config.PASSWORD_MIN_LENGTH }, { email: preview.email, name });
    newAccount = { name, passwordHash: await deps.hasher.hash(input.password) };
  }

  if (existing) await recordSignInSuccess(deps, principal, existing.email);
  try {
    const { payload, verification } = await inSystem(deps, async (tx) => {
      const invitation = await findInvitationForUpdate(tx, parsed.rowId);
      if (!invitation) throw badToken('invitation token is not valid', 'INVITATION_INVALID');
      // Checked again under the row lock: it may have been accepted or withdrawn meanwhile.
      assertOpen(invitation);
      const organization = await findOrganization(tx, invitation.orgId);
      if (!organization) throw badToken('the organization of this invitation no longer exists', 'INVITATION_INVALID');
      let user;
      let tokenVersion = 0;
      if (existing) {
        ({ tokenVersion } = existing);
        user = existing;
      } else {
        if (!newAccount) throw new AppError('INTERNAL', 'new account details missing');
        // The address may have signed up since the preview.
        if ((await findUserIdByEmail(tx, invitation.email)) !== undefined) throw emailTaken('token');
        user = await insertUser(tx, { id: newId(), email: invitation.email, name: newAccount.name });
        await insertPassword(tx, user.id, newAccount.passwordHash);
      }
      const current = await findMembership(tx, invitation.orgId, user.id);
      const membership = current ?? (await insertMembership(tx, { id: newId(), orgId: invitation.orgId, userId: user.id, role: invitation.role }));
      await markInvitationAccepted(tx, invitation.id, user.id);
      const payload = await startSession(deps, tx, principal, { user, organization, role: membership.role, tokenVersion });
      // The token came from an admin, not necessarily through the mailbox: a new account verifies its address like a sign-up.
      const verification = existing ? undefined : await prepareVerification(deps, tx, user, user.email, 'sign_up');
      await recordAudit(tx, SERVICE, actingUser(principal, user, invitation.orgId), {
        action: 'invitation.accept',
        targetType: 'Invitation',
        targetId: invitation.id,
        orgId: invitation.orgId,
        diff: { userId: user.id, email: user.email, role: membership.role, newAccount: !existing, alreadyMember: current !== undefined },
      });
      if (current === undefined) {
        await recordNotification(tx, SERVICE, { type: 'member.joined', orgId: invitation.orgId, data: { userId: user.id, email: user.email, role: membership.role } });
      }
      return { payload, verification };
    });
    if (verification) mailVerification(deps, principal, payload.user.id, verification);
    return payload;
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw emailTaken('token');
    throw error;
  }
}
