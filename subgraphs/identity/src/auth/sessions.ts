import { AppError, newId, recordAudit, traceIdOf, unauthenticated, type PoolClient, type Principal, type Role } from '@orchestra/lib';
import { actingUser, inSystem, inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { findMembership } from '../store/memberships';
import { findOrganization, type OrganizationRow } from '../store/organizations';
import {
  clearSealedSuccessors,
  findLiveSsoSessionOrgs,
  findRefreshTokenForUpdate,
  insertRefreshToken,
  insertSession,
  markRefreshTokenUsed,
  markSessionRefreshed,
  revokeSession,
  revokeUserSessions,
  type RefreshTokenRow,
  type SessionRevocation,
} from '../store/sessions';
import { isTwoFactorEnrollmentRequired } from '../store/two-factor';
import { bumpTokenVersion, findUser, findTokenVersion, setLastOrganization, type UserRow } from '../store/users';
import { assertPasswordSignInAllowed } from '../sso/require-sso';
import { requireId } from '../validation';
import { formatRowToken, hashSecret, newSecret, parseRowToken, secretMatches } from './opaque-tokens';
import { openSuccessor, sealSuccessor } from './sealed-successor';

/** What sign-in, sign-up, refresh and switching organization answer (GraphQL AuthPayload). */
export interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  tokenType: 'Bearer';
  user: UserRow;
  organization: OrganizationRow;
  role: Role;
  /** Not in the schema: the session (refresh-token family) the tokens belong to. */
  sessionId: string;
}

const REFRESH_TOKEN_PREFIX = 'ort';

/** Clock slack added to revocation lifetimes so that no access token outlives its revocation. */
const REVOCATION_SLACK_SECONDS = 60;

interface TokenSubject {
  sessionId: string;
  user: UserRow;
  organization: OrganizationRow;
  role: Role;
  tokenVersion: number;
  /** No token issued may outlive this (the session's hard end, or the refresh token a switch traded). */
  notAfter?: Date | null | undefined;
}

/** A switch out of a session that an organization's single sign-on opened. */
const ssoSessionConfined = (): AppError =>
  new AppError('FORBIDDEN', "this session was opened by another organization's single sign-on and reaches that organization only: sign out and sign in to this organization its own way (password, or its single sign-on)", {
    reason: 'SSO_SESSION_CONFINED',
    field: 'organizationId',
  });

const sessionOver = (): AppError => unauthenticated('the session has reached its end: sign in again', 'SESSION_EXPIRED');

/** The access-token lifetime that `notAfter` leaves, or sessionOver when nothing is left. */
function accessTtlSeconds(deps: IdentityDeps, notAfter: Date | null | undefined): number {
  const cap = notAfter?.getTime() ?? Number.POSITIVE_INFINITY;
  const accessTtl = Math.min(deps.config.ACCESS_TOKEN_TTL_SECONDS, Math.floor((cap - Date.now()) / 1000));
  if (accessTtl < 1) throw sessionOver();
  return accessTtl;
}

/** An access token for the subject's organization with the given refresh token, inside `tx`. */
async function withAccessToken(
  deps: IdentityDeps,
  tx: PoolClient,
  s: TokenSubject,
  accessTtl: number,
  refresh: { refreshToken: string; refreshTokenExpiresAt: Date },
): Promise<AuthPayload> {
  // The organization requires a second factor the user has not enrolled: the token reaches only enrolment
  // (the gateway enforces it; a change of either answer raises the user's token version, so tokens are re-issued).
  const enrollmentRequired = await isTwoFactorEnrollmentRequired(tx, s.user.id, s.organization.id);
  const access = await deps.keyRing.sign(
    { sub: s.user.id, org: s.organization.id, role: s.role, email: s.user.email, sid: s.sessionId, tv: s.tokenVersion, ...(enrollmentRequired ? { tfa: 'required' as const } : {}) },
    accessTtl,
  );
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    ...refresh,
    tokenType: 'Bearer',
    user: s.user,
    organization: s.organization,
    role: s.role,
    sessionId: s.sessionId,
  };
}

/** A new refresh token in the session and an access token for its organization, inside `tx`. */
async function issueTokens(deps: IdentityDeps, tx: PoolClient, s: TokenSubject): Promise<AuthPayload & { refreshTokenId: string }> {
  const accessTtl = accessTtlSeconds(deps, s.notAfter);
  const cap = s.notAfter?.getTime() ?? Number.POSITIVE_INFINITY;
  const refreshId = newId();
  const secret = newSecret();
  const refreshTokenExpiresAt = new Date(Math.min(Date.now() + deps.config.REFRESH_TOKEN_TTL_SECONDS * 1000, cap));
  await insertRefreshToken(tx, { id: refreshId, sessionId: s.sessionId, tokenHash: hashSecret(secret), expiresAt: refreshTokenExpiresAt });
  const payload = await withAccessToken(deps, tx, s, accessTtl, { refreshToken: formatRowToken(REFRESH_TOKEN_PREFIX, refreshId, secret), refreshTokenExpiresAt });
  return { ...payload, refreshTokenId: refreshId };
}

/** Starts a session (a new refresh-token family) for a user who has just proven who they are. */
export async function startSession(
  deps: IdentityDeps,
  tx: PoolClient,
  principal: Principal,
  s: Omit<TokenSubject, 'sessionId'> & { /** Opened by this organization's single sign-on: the session reaches it only. */ ssoOrgId?: string | undefined },
): Promise<AuthPayload> {
  const expiresAt = s.notAfter ?? undefined;
  const session = await insertSession(tx, { id: newId(), userId: s.user.id, orgId: s.organization.id, ip: principal.ip, userAgent: principal.userAgent, expiresAt, ssoOrgId: s.ssoOrgId });
  await setLastOrganization(tx, s.user.id, s.organization.id);
  const { refreshTokenId: _, ...payload } = await issueTokens(deps, tx, { ...s, sessionId: session.id });
  return payload;
}

/**
 * The refresh token a request may use, locked, with its secret: the one presented, or — when the one
 * presented is the immediately previous token within the reuse grace (`previous`) — its successor, the
 * family's live token, whose whole token string (`successor`) the presented one unsealed.
 */
interface Usable {
  token: RefreshTokenRow;
  secret: string;
  previous?: { presented: RefreshTokenRow; successor: string } | undefined;
}

type Checked = ({ ok: true } & Usable) | { ok: false; error: AppError; revoke?: { sessionId: string; orgId: string; userId: string } };

/**
 * The successor of `token` when `token` is the immediately previous refresh token of its family, traded
 * less than REFRESH_TOKEN_REUSE_GRACE_SECONDS ago, and the successor is the family's live token (not
 * traded itself, not expired): a reload during a refresh presents the token the server has just rotated
 * and never received the answer. Anything else that was traded is reuse. Locks the successor.
 */
async function successorWithinGrace(deps: IdentityDeps, tx: PoolClient, token: RefreshTokenRow, secret: string): Promise<Usable | undefined> {
  const graceMs = deps.config.REFRESH_TOKEN_REUSE_GRACE_SECONDS * 1000;
  if (graceMs === 0 || token.usedAt === null || token.replacedBy === null || token.successorSealed === null) return undefined;
  if (Date.now() - token.usedAt.getTime() > graceMs) return undefined;
  const successor = await findRefreshTokenForUpdate(tx, token.replacedBy);
  if (!successor || successor.sessionId !== token.sessionId || successor.usedAt !== null || successor.expiresAt.getTime() <= Date.now()) return undefined;
  const opened = openSuccessor(secret, token.id, token.successorSealed);
  const parsed = opened === undefined ? undefined : parseRowToken(REFRESH_TOKEN_PREFIX, opened);
  if (!parsed || parsed.rowId !== successor.id || !secretMatches(parsed.secret, successor.tokenHash)) return undefined;
  return { token: successor, secret: parsed.secret, previous: { presented: token, successor: opened! } };
}

/**
 * Finds and locks the refresh token and says whether it may be used. A token whose secret matches
 * but that was already traded is reuse: someone holds a copy, so the whole session ends — except the
 * immediately previous token within the reuse grace (successorWithinGrace), which stands for its successor.
 */
async function checkRefreshToken(deps: IdentityDeps, tx: PoolClient, presented: string): Promise<Checked> {
  const parsed = parseRowToken(REFRESH_TOKEN_PREFIX, presented);
  const invalid = unauthenticated('refresh token is not valid: sign in again', 'REFRESH_TOKEN_INVALID');
  if (!parsed) return { ok: false, error: invalid };
  const token = await findRefreshTokenForUpdate(tx, parsed.rowId);
  // A token whose id exists but whose secret does not match was altered: as invalid as a made-up one.
  if (!token || !secretMatches(parsed.secret, token.tokenHash)) return { ok: false, error: invalid };
  const { session } = token;
  if (session.revokedAt !== null) {
    const why = session.revokedReason === 'REFRESH_TOKEN_REUSED' ? 'it was ended because one of its refresh tokens was used twice' : 'it was signed out';
    return { ok: false, error: unauthenticated(`refresh token belongs to a session that has ended (${why}): sign in again`, 'REFRESH_TOKEN_REVOKED') };
  }
  let usable: Usable = { token, secret: parsed.secret };
  if (token.usedAt !== null) {
    const successor = await successorWithinGrace(deps, tx, token, parsed.secret);
    if (!successor) {
      return {
        ok: false,
        error: unauthenticated('refresh token was already used: the session has been ended for safety, sign in again', 'REFRESH_TOKEN_REUSED'),
        revoke: { sessionId: session.id, orgId: session.orgId, userId: session.userId },
      };
    }
    usable = successor;
  } else if (token.expiresAt.getTime() <= Date.now()) {
    return { ok: false, error: unauthenticated('refresh token has expired: sign in again', 'REFRESH_TOKEN_EXPIRED') };
  }
  if (session.expiresAt !== null && session.expiresAt.getTime() <= Date.now()) return { ok: false, error: sessionOver() };
  return { ok: true, ...usable };
}

/** Ends the session after refresh-token reuse, as its own audit event, in the same transaction. */
async function endReusedSession(deps: IdentityDeps, tx: PoolClient, principal: Principal, revoke: { sessionId: string; orgId: string; userId: string }): Promise<void> {
  await revokeSession(tx, revoke.sessionId, 'REFRESH_TOKEN_REUSED');
  await recordAudit(tx, SERVICE, principal, {
    action: 'auth.refresh_token_reused',
    targetType: 'Session',
    targetId: revoke.sessionId,
    orgId: revoke.orgId,
    outcome: 'UNAUTHENTICATED',
    diff: { userId: revoke.userId, sessionRevoked: true },
  });
}

/** After commit: access tokens of an ended session stop working at the gateway at once. */
async function revokeSessionAccess(deps: IdentityDeps, sessionId: string): Promise<void> {
  await deps.revocations.revokeSession(sessionId, deps.config.ACCESS_TOKEN_TTL_SECONDS + REVOCATION_SLACK_SECONDS);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: AppError; revokedSession?: string | undefined };

/**
 * Runs a refresh-token operation whose failures may still have to commit (reuse ends the session
 * and records it), then applies the Redis side of a revocation and throws the failure.
 */
async function withRefreshToken<T>(
  deps: IdentityDeps,
  principal: Principal,
  presented: string,
  use: (tx: PoolClient, usable: Usable) => Promise<Outcome<T>>,
): Promise<T> {
  const outcome = await inSystem(deps, async (tx): Promise<Outcome<T>> => {
    const checked = await checkRefreshToken(deps, tx, presented);
    if (checked.ok) return use(tx, checked);
    if (checked.revoke) await endReusedSession(deps, tx, principal, checked.revoke);
    return { ok: false, error: checked.error, revokedSession: checked.revoke?.sessionId };
  });
  if (outcome.ok) return outcome.value;
  if (outcome.revokedSession !== undefined) {
    deps.log.warn('session ended by a refused refresh', { reason: outcome.error.reason, sessionId: outcome.revokedSession, requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), ip: principal.ip });
    await revokeSessionAccess(deps, outcome.revokedSession);
  }
  deps.counters.refreshFailures.inc({ reason: outcome.error.reason ?? 'UNKNOWN' });
  throw outcome.error;
}

/** The user, organization and token version new tokens are made from (one query at a time: one client). */
async function loadSubject(tx: PoolClient, userId: string, orgId: string): Promise<{ user: UserRow; organization: OrganizationRow; tokenVersion: number }> {
  const user = await findUser(tx, userId);
  const organization = await findOrganization(tx, orgId);
  const tokenVersion = await findTokenVersion(tx, userId);
  if (!user || !organization || tokenVersion === undefined) throw new AppError('INTERNAL', `user ${userId} or organization ${orgId} is missing`);
  return { user, organization, tokenVersion };
}

const earliest = (a: Date | null, b: Date | null): Date | null => (a === null ? b : b === null ? a : a < b ? a : b);

/**
 * Rotates the token inside its session and issues tokens for `orgId` (the session's own org on a
 * plain refresh). The user's current role there is read again, so a role change shows up here.
 */
async function rotate(deps: IdentityDeps, tx: PoolClient, principal: Principal, usable: Usable, orgId: string, action: 'auth.refresh' | 'auth.switch_organization'): Promise<Outcome<AuthPayload>> {
  const { token, secret } = usable;
  const { session } = token;
  const membership = await findMembership(tx, orgId, session.userId);
  if (!membership) {
    if (orgId !== session.orgId) return { ok: false, error: new AppError('FORBIDDEN', `you are not a member of organization ${orgId}`, { reason: 'NOT_A_MEMBER', field: 'organizationId' }) };
    await revokeSession(tx, session.id, 'MEMBERSHIP_ENDED');
    return {
      ok: false,
      error: unauthenticated('you are no longer a member of this organization: sign in again', 'MEMBERSHIP_ENDED'),
      revokedSession: session.id,
    };
  }
  const { user, organization, tokenVersion } = await loadSubject(tx, session.userId, orgId);
  const subject = { sessionId: session.id, user, organization, role: membership.role, tokenVersion };
  const audit = (diff: Record<string, unknown>) =>
    recordAudit(tx, SERVICE, actingUser(principal, user, orgId), {
      action,
      targetType: action === 'auth.refresh' ? 'Session' : 'Organization',
      targetId: action === 'auth.refresh' ? session.id : orgId,
      orgId,
      diff: { ...(action === 'auth.refresh' ? { role: membership.role } : { from: session.orgId, to: orgId, role: membership.role }), ...diff },
    });
  const { previous } = usable;
  const graceDiff = previous ? { reuseGrace: { previousId: previous.presented.id, usedMsAgo: Date.now() - (previous.presented.usedAt?.getTime() ?? 0) } } : {};
  // The previous token within the grace, on a plain refresh: the same successor again (it is still the
  // family's live token, so nothing is rotated) with a new access token. Answering the same one, not a
  // newer one, keeps every copy of the answer good: the lost one, a retry's, another tab's.
  if (previous && action === 'auth.refresh') {
    const notAfter = earliest(session.expiresAt, token.expiresAt);
    const payload = await withAccessToken(deps, tx, { ...subject, notAfter }, accessTtlSeconds(deps, notAfter), { refreshToken: previous.successor, refreshTokenExpiresAt: token.expiresAt });
    await markSessionRefreshed(tx, session.id, orgId);
    await audit(graceDiff);
    return { ok: true, value: payload };
  }
  // A refresh starts a new refresh-token lifetime (up to the session's end); a switch is no refresh:
  // the session keeps the expiry of the token it traded.
  const notAfter = earliest(session.expiresAt, action === 'auth.switch_organization' ? token.expiresAt : null);
  await clearSealedSuccessors(tx, session.id);
  const { refreshTokenId, ...payload } = await issueTokens(deps, tx, { ...subject, notAfter });
  const sealed = deps.config.REFRESH_TOKEN_REUSE_GRACE_SECONDS > 0 ? sealSuccessor(secret, token.id, payload.refreshToken) : null;
  await markRefreshTokenUsed(tx, token.id, { id: refreshTokenId, sealed });
  await markSessionRefreshed(tx, session.id, orgId);
  if (orgId !== session.orgId) await setLastOrganization(tx, user.id, orgId);
  await audit(graceDiff);
  return { ok: true, value: payload };
}

/** Trades a refresh token for new tokens (rotation). */
export async function refresh(deps: IdentityDeps, principal: Principal, presented: string): Promise<AuthPayload> {
  const payload = await withRefreshToken(deps, principal, presented, (tx, usable) => rotate(deps, tx, principal, usable, usable.token.session.orgId, 'auth.refresh'));
  // Self-healing: should a revocation write to Redis have been lost, the next refresh restores it.
  await deps.revocations.setTokenVersion(payload.user.id, await findTokenVersion(deps.pool, payload.user.id) ?? 0);
  return payload;
}

/** Ends the session of a refresh token. Any token of the session will do, even a rotated one. */
export async function logout(deps: IdentityDeps, principal: Principal, presented: string): Promise<boolean> {
  const parsed = parseRowToken(REFRESH_TOKEN_PREFIX, presented);
  const invalid = unauthenticated('refresh token is not valid', 'REFRESH_TOKEN_INVALID');
  if (!parsed) throw invalid;
  const sessionId = await inSystem(deps, async (tx) => {
    const token = await findRefreshTokenForUpdate(tx, parsed.rowId);
    if (!token || !secretMatches(parsed.secret, token.tokenHash)) return undefined;
    const ended = await revokeSession(tx, token.sessionId, 'LOGOUT');
    const user = await findUser(tx, token.session.userId);
    await recordAudit(tx, SERVICE, user ? actingUser(principal, user, token.session.orgId) : principal, {
      action: 'auth.logout',
      targetType: 'Session',
      targetId: token.sessionId,
      orgId: token.session.orgId,
      diff: ended ? null : { alreadyEnded: true },
    });
    return token.sessionId;
  });
  if (sessionId === undefined) throw invalid;
  await revokeSessionAccess(deps, sessionId);
  return true;
}

/** Ends every session of the signed-in user and makes all their access tokens stale. */
export async function logoutEverywhere(deps: IdentityDeps, principal: Principal): Promise<boolean> {
  const { userId } = signedInUser(principal);
  const { version, ended } = await inTenant(deps, principal, async (tx) => {
    const endedSessions = await revokeUserSessions(tx, userId, 'LOGOUT_EVERYWHERE');
    const newVersion = await bumpTokenVersion(tx, userId);
    await recordAudit(tx, SERVICE, principal, { action: 'auth.logout_everywhere', targetType: 'User', targetId: userId, diff: { sessionsEnded: endedSessions.length } });
    return { version: newVersion, ended: endedSessions };
  });
  await deps.revocations.setTokenVersion(userId, version);
  deps.log.info('signed out everywhere', { userId, sessions: ended.length, requestId: principal.requestId, traceId: traceIdOf(principal.traceparent) });
  return true;
}

/** Ends every session of a user, in `tx`, for a reason (password change); the caller bumps the token version. */
export const endAllSessions = (tx: PoolClient, userId: string, reason: SessionRevocation): Promise<string[]> => revokeUserSessions(tx, userId, reason);

/**
 * Tokens for another organization of the signed-in user: the given refresh token's session moves
 * there (rotating it, keeping its expiry), or without one a new session starts that ends when the
 * caller's access token would have: a switch never lengthens what the caller holds (issue 9, item 2).
 */
export async function switchOrganization(deps: IdentityDeps, principal: Principal, organizationId: string, presented: string | null | undefined): Promise<AuthPayload> {
  const { userId } = signedInUser(principal);
  const orgId = requireId('organizationId', organizationId);
  // A password session does not carry into an organization that requires single sign-on.
  if (orgId !== principal.orgId) {
    await inSystem(deps, async (tx) => {
      const membership = await findMembership(tx, orgId, userId);
      const user = await findUser(tx, userId);
      if (membership && user) await assertPasswordSignInAllowed(tx, orgId, membership.role, user.email);
    });
  }
  if (presented !== null && presented !== undefined) {
    return withRefreshToken(deps, principal, presented, async (tx, usable) => {
      const { token } = usable;
      if (token.session.userId !== userId) {
        return { ok: false, error: unauthenticated('refresh token belongs to someone else', 'REFRESH_TOKEN_INVALID') };
      }
      // A session opened by an organization's single sign-on reaches that organization only (docs/decisions.md).
      if (token.session.ssoOrgId !== null && token.session.ssoOrgId !== orgId) return { ok: false, error: ssoSessionConfined() };
      return rotate(deps, tx, principal, usable, orgId, 'auth.switch_organization');
    });
  }
  // Without a refresh token the caller's session cannot be told: a user with a live single sign-on
  // session (which must not leave its organization) switches with the refresh token only.
  if ((await findLiveSsoSessionOrgs(deps.pool, userId)).length > 0) {
    throw new AppError('FORBIDDEN', 'send the refresh token of your session to switch organization (you have a session opened by single sign-on, which reaches its own organization only)', {
      reason: 'REFRESH_TOKEN_REQUIRED',
      field: 'refreshToken',
    });
  }
  return inSystem(deps, async (tx) => {
    const membership = await findMembership(tx, orgId, userId);
    if (!membership) throw new AppError('FORBIDDEN', `you are not a member of organization ${orgId}`, { reason: 'NOT_A_MEMBER', field: 'organizationId' });
    const { user, organization, tokenVersion } = await loadSubject(tx, userId, orgId);
    // Without a known expiry (a principal not from an access token), no longer than a fresh access token.
    const notAfter = new Date((principal.tokenExpiresAt ?? Math.floor(Date.now() / 1000) + deps.config.ACCESS_TOKEN_TTL_SECONDS) * 1000);
    const payload = await startSession(deps, tx, principal, { user, organization, role: membership.role, tokenVersion, notAfter });
    await recordAudit(tx, SERVICE, actingUser(principal, user, orgId), {
      action: 'auth.switch_organization',
      targetType: 'Organization',
      targetId: orgId,
      orgId,
      diff: { from: principal.orgId, to: orgId, role: membership.role, sessionId: payload.sessionId },
    });
    return payload;
  });
}
