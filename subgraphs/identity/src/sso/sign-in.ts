import type { Configuration } from 'openid-client';
import { AppError, badInput, newId, openSecret, recordAudit, traceIdOf, withAuditFailureScope, type PoolClient, type Principal } from '@orchestra/lib';
import { releaseFromUnverifiedHolder } from '../auth/email-verification';
import { normalizeEmail } from '../auth/email';
import { hashSecret, newSecret, secretMatches } from '../auth/opaque-tokens';
import { recordSignInSuccess } from '../auth/sign-in';
import { startSession, type AuthPayload } from '../auth/sessions';
import { actingUser, inSystem, SERVICE, type IdentityDeps } from '../deps';
import { findMembership, insertMembership, listMembershipsOfUser } from '../store/memberships';
import { findOrganization } from '../store/organizations';
import { findSsoConnection, findSsoConnectionByDomain, findSsoConnectionBySlug, type SsoConnectionRow } from '../store/sso-connections';
import { findSsoIdentityUser, linkSsoIdentity } from '../store/sso-identities';
import { findSsoSignInByStateForUpdate, insertSsoSignIn, markSsoSignInUsed, type SsoSignInRow } from '../store/sso-sign-ins';
import { findEmailHolder, findTokenVersion, findUser, insertUser, markEmailVerified, type UserRow } from '../store/users';
import { parseSlug, ssoKeyring, ssoRedirectUri } from './connections';
import { ssoFailure } from './errors';

/**
 * Single sign-on with OpenID Connect (issue 13): authorization code + PKCE (S256) + state + nonce.
 *
 * 1. startSsoSignIn (by e-mail domain or the connection's slug) records a sign-in (hashes of the state
 *    and of a browser binding, the PKCE verifier, the nonce; SSO_SIGN_IN_TTL_SECONDS, single use) and
 *    answers the provider's authorization URL and the binding, which the browser keeps (sessionStorage)
 *    so that a callback URL pushed into another browser (login CSRF) signs nobody in there.
 * 2. The provider sends the browser back to APP_URL/sso/callback; the web app hands the query and the
 *    binding to completeSsoSignIn, which spends the state, exchanges the code and validates the ID
 *    token (issuer, audience, nonce, expiry, signature through the provider's JWKS), then finds or
 *    provisions the user and opens the platform's usual session in the connection's organization.
 *
 * Organization isolation (docs/decisions.md, "Single sign-on for members of several organizations"):
 * a connection signs in to its own organization only, and only addresses at its own e-mail domains. An
 * existing account is linked only when it is already a member of this organization (it may belong to
 * others too); an unverified account holding the address gives it up (the provider proved it). The
 * session it opens is confined to the connection's organization: it cannot switch to another one, whose
 * own rules (password, second factor, its own single sign-on) still decide how one gets in there. So one
 * organization's provider, run by that organization's admins, never opens anything in another.
 */

const MAX_CALLBACK_QUERY = 8000;
const MAX_BINDING = 200;
const MAX_NAME = 200;

export interface StartSsoSignInInput {
  email?: string | null | undefined;
  slug?: string | null | undefined;
}

export interface SsoSignInStart {
  authorizationUrl: string;
  binding: string;
  expiresAt: Date;
}

async function findConnection(deps: IdentityDeps, input: StartSsoSignInInput): Promise<SsoConnectionRow> {
  const email = input.email?.trim() ? input.email : undefined;
  const slug = input.slug?.trim() ? input.slug : undefined;
  if (email === undefined && slug === undefined) throw badInput('email', 'enter your work e-mail address or your organization\'s sign-in name', 'REQUIRED');
  if (email !== undefined) {
    const domain = normalizeEmail(email).split('@')[1]!;
    const found = await findSsoConnectionByDomain(deps.pool, domain);
    if (!found) throw new AppError('NOT_FOUND', `no organization signs in ${domain} addresses with single sign-on`, { reason: 'SSO_NOT_CONFIGURED', field: 'email' });
    return found;
  }
  const found = await findSsoConnectionBySlug(deps.pool, parseSlug(slug!));
  if (!found) throw new AppError('NOT_FOUND', `no organization has single sign-on under the name "${slug!.trim()}"`, { reason: 'SSO_NOT_CONFIGURED', field: 'slug' });
  return found;
}

/** The provider's configuration (discovery cached per issuer); a provider that does not answer is UNAVAILABLE, naming the issuer. */
async function discoverProvider(deps: IdentityDeps, connection: SsoConnectionRow, clientSecret: string | undefined): Promise<Configuration> {
  try {
    return await deps.oidc.discover(connection.issuer, { clientId: connection.clientId, clientSecret });
  } catch (error) {
    throw ssoFailure('UNAVAILABLE', `the identity provider ${connection.issuer} of this organization cannot be reached: ${(error as Error).message}`, 'SSO_PROVIDER_UNAVAILABLE', error);
  }
}

export async function startSsoSignIn(deps: IdentityDeps, principal: Principal, input: StartSsoSignInInput): Promise<SsoSignInStart> {
  const limit = await deps.ssoSignIns.hit(principal.ip ?? 'unknown');
  if (!limit.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil(limit.retryAfterMs / 1000));
    throw new AppError('RATE_LIMITED', `too many single sign-ons started from this address: try again in ${retryAfterSeconds} s`, { reason: 'TOO_MANY_SSO_SIGN_INS', details: { retryAfterSeconds } });
  }
  const connection = await findConnection(deps, input);
  const config = await discoverProvider(deps, connection, undefined);
  const { state, nonce, codeVerifier } = await deps.oidc.randomSecrets();
  const binding = newSecret();
  const redirectUri = ssoRedirectUri(deps);
  const expiresAt = new Date(Date.now() + deps.config.SSO_SIGN_IN_TTL_SECONDS * 1000);
  const authorizationUrl = await deps.oidc.buildAuthorizationUrl(config, { redirectUri, state, nonce, codeVerifier });
  await insertSsoSignIn(deps.pool, {
    id: newId(),
    connectionId: connection.id,
    orgId: connection.orgId,
    stateHash: hashSecret(state),
    bindingHash: hashSecret(binding),
    codeVerifier,
    nonce,
    redirectUri,
    expiresAt,
    ip: principal.ip,
  });
  deps.log.info('single sign-on started', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), orgId: connection.orgId, connectionId: connection.id });
  return { authorizationUrl, binding, expiresAt };
}

export interface CompleteSsoSignInInput {
  /** The query string the provider sent the browser back with (`?code=…&state=…`). */
  callbackQuery: string;
  /** The binding startSsoSignIn answered, kept by the browser that started. */
  binding: string;
}

const stateError = (message: string, reason: string): AppError => badInput('callbackQuery', message, reason);

/** Finds the sign-in of the callback's state and spends it (its own transaction: a replay fails even if the rest does). */
async function spendState(deps: IdentityDeps, params: URLSearchParams, binding: string): Promise<{ signIn: SsoSignInRow; state: string }> {
  const state = params.get('state');
  if (state === null || state === '' || state.length > 500) throw stateError('this sign-in has no valid state: start single sign-on again', 'SSO_STATE_INVALID');
  const spent = await inSystem(deps, async (tx): Promise<{ error: AppError } | { signIn: SsoSignInRow }> => {
    const signIn = await findSsoSignInByStateForUpdate(tx, hashSecret(state));
    if (!signIn) return { error: stateError('this sign-in has no valid state: start single sign-on again', 'SSO_STATE_INVALID') };
    if (!secretMatches(binding, signIn.bindingHash)) return { error: stateError('this sign-in was started in another browser: start single sign-on again here', 'SSO_STATE_INVALID') };
    if (signIn.usedAt !== null) return { error: stateError('this sign-in was already used: start single sign-on again', 'SSO_STATE_USED') };
    if (signIn.expiresAt.getTime() <= Date.now()) return { error: stateError('this sign-in took too long: start single sign-on again', 'SSO_STATE_EXPIRED') };
    await markSsoSignInUsed(tx, signIn.id);
    return { signIn };
  });
  if ('error' in spent) throw spent.error;
  return { signIn: spent.signIn, state };
}

/** The claims Orchestra needs from a validated ID token. */
interface SsoClaims {
  subject: string;
  email: string;
  name: string;
}

function claimsOf(claims: Record<string, unknown>, connection: SsoConnectionRow): SsoClaims {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw ssoFailure('UNAUTHENTICATED', 'the identity provider sent no usable subject (sub)', 'SSO_ID_TOKEN_INVALID');
  const rawEmail = claims['email'];
  if (typeof rawEmail !== 'string') throw ssoFailure('UNAUTHENTICATED', 'the identity provider sent no e-mail address: allow the "email" scope for this client', 'SSO_EMAIL_MISSING');
  if (claims['email_verified'] !== true) throw ssoFailure('FORBIDDEN', `the identity provider has not verified ${rawEmail.slice(0, 254)}: only verified addresses sign in`, 'SSO_EMAIL_NOT_VERIFIED');
  let email: string;
  try {
    email = normalizeEmail(rawEmail);
  } catch {
    throw ssoFailure('UNAUTHENTICATED', 'the identity provider sent an e-mail address that is not valid', 'SSO_EMAIL_MISSING');
  }
  const domain = email.split('@')[1]!;
  if (!connection.domains.includes(domain)) {
    throw ssoFailure('FORBIDDEN', `${domain} is not one of the e-mail domains this organization's single sign-on allows`, 'SSO_DOMAIN_NOT_ALLOWED');
  }
  const given = [claims['given_name'], claims['family_name']].filter((v): v is string => typeof v === 'string').join(' ');
  const candidate = typeof claims['name'] === 'string' && claims['name'].trim() !== '' ? claims['name'] : given.trim() !== '' ? given : email.split('@')[0]!;
  const name = [...candidate.replace(/\p{Cc}/gu, ' ').trim()].slice(0, MAX_NAME).join('') || email;
  return { subject: sub, email, name };
}

interface Provisioned {
  user: UserRow;
  /** What this sign-in created: a user and membership, a membership, or nothing. */
  provisioned: 'user' | 'membership' | null;
  released?: { userId: string; tokenVersion: number } | undefined;
}

/** Finds the user of the provider account, links or provisions one, and makes sure they are a member of the organization. */
async function resolveUser(deps: IdentityDeps, tx: PoolClient, principal: Principal, connection: SsoConnectionRow, c: SsoClaims): Promise<Provisioned> {
  const orgId = connection.orgId;
  let userId = await findSsoIdentityUser(tx, connection.id, c.subject);
  let provisioned: Provisioned['provisioned'] = null;
  let released: Provisioned['released'];
  if (userId === undefined) {
    const holder = await findEmailHolder(tx, c.email, true);
    // An existing account is linked when it is a member of this organization (others it belongs to are not reached: see above).
    const member = holder !== undefined && (await listMembershipsOfUser(tx, holder.id)).some((m) => m.orgId === orgId);
    if (holder && !member && !holder.emailVerified) released = await releaseFromUnverifiedHolder(tx, principal, holder.id, c.email, 'sso_sign_in');
    else if (holder && !member) {
      throw ssoFailure('CONFLICT', `an Orchestra account for ${c.email} already exists outside this organization: sign in with its password, or ask an admin of this organization to invite it`, 'SSO_ACCOUNT_EXISTS');
    }
    if (holder && member) {
      userId = holder.id;
      // The provider proved the address.
      if (!holder.emailVerified) await markEmailVerified(tx, holder.id, c.email);
    } else {
      userId = newId();
      await insertUser(tx, { id: userId, email: c.email, name: c.name, emailVerified: true });
      provisioned = 'user';
    }
    await linkSsoIdentity(tx, { connectionId: connection.id, subject: c.subject, orgId, userId });
  } else {
    await linkSsoIdentity(tx, { connectionId: connection.id, subject: c.subject, orgId, userId });
  }
  if (!(await findMembership(tx, orgId, userId))) {
    await insertMembership(tx, { id: newId(), orgId, userId, role: connection.defaultRole });
    provisioned ??= 'membership';
  }
  const user = await findUser(tx, userId);
  return { user: user!, provisioned, released };
}

/** Which check of the ID token (or of the answer carrying it) failed, from what openid-client threw. */
function failedCheck(error: unknown): { check: string; words: string } {
  const code = (error as { code?: unknown }).code;
  // openid-client words its errors generally and keeps oauth4webapi's precise one as the cause.
  const cause = (error as { cause?: unknown }).cause;
  const text = `${(error as Error).message ?? ''} ${cause instanceof Error ? cause.message : ''}`;
  if (code === 'OAUTH_KEY_SELECTION_FAILED') return { check: 'signature', words: 'is signed with a key the provider does not publish (not in its JWKS)' };
  if (/signature verification failed/i.test(text)) return { check: 'signature', words: "has a signature that does not verify against the provider's published keys (forged or altered)" };
  if (/"aud"|"azp"/.test(text)) return { check: 'audience', words: 'was issued to another client (its audience is not this connection\'s client id)' };
  if (/"nonce"/.test(text)) return { check: 'nonce', words: 'does not belong to this sign-in (its nonce differs)' };
  if (/"iss"/.test(text)) return { check: 'issuer', words: 'names another issuer' };
  if (/"exp"|"iat"|"nbf"/.test(text) || code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return { check: 'time', words: 'has expired or is not valid yet' };
  return { check: 'format', words: 'failed validation' };
}

/** Maps what openid-client throws on a callback to an error the user and the admin can act on. */
function exchangeError(error: unknown, issuer: string): AppError {
  if (error instanceof AppError) return error;
  const name = (error as Error).name;
  const code = (error as { code?: unknown }).code;
  const text = (error as Error).message;
  const what = typeof code === 'string' ? code : name;
  if (name === 'AuthorizationResponseError') {
    const e = error as { error?: string; error_description?: string };
    const said = [e.error, e.error_description].filter(Boolean).join(': ').slice(0, 300);
    return ssoFailure('UNAUTHENTICATED', `the identity provider refused the sign-in (${said})`, 'SSO_PROVIDER_REFUSED', error);
  }
  if (name === 'ResponseBodyError') return ssoFailure('UNAUTHENTICATED', `the identity provider did not accept the sign-in code (${text.slice(0, 300)}): start single sign-on again`, 'SSO_CODE_INVALID', error);
  // What the private-network guard refused reaches here wrapped by openid-client.
  const guardRefusal = (error as { cause?: unknown }).cause;
  if (guardRefusal instanceof AppError) return ssoFailure('UNAVAILABLE', `the identity provider ${issuer} cannot be reached: ${guardRefusal.message}`, 'SSO_PROVIDER_UNAVAILABLE', error);
  if ((error instanceof TypeError && /fetch failed/.test(text)) || code === 'OAUTH_TIMEOUT') return ssoFailure('UNAVAILABLE', `the identity provider ${issuer} does not answer: try again later`, 'SSO_PROVIDER_UNAVAILABLE', error);
  const { check, words } = failedCheck(error);
  const cause = (error as { cause?: unknown }).cause;
  const precise = cause instanceof Error ? cause.message : text;
  return new AppError('UNAUTHENTICATED', `sign-in refused: the ID token from ${issuer} ${words} (${what}: ${precise.slice(0, 200)})`, { reason: 'SSO_ID_TOKEN_INVALID', details: { check }, cause: error });
}

export async function completeSsoSignIn(deps: IdentityDeps, principal: Principal, input: CompleteSsoSignInInput): Promise<AuthPayload> {
  if (typeof input.callbackQuery !== 'string' || input.callbackQuery.length > MAX_CALLBACK_QUERY) throw badInput('callbackQuery', `callbackQuery must be at most ${MAX_CALLBACK_QUERY} characters`, 'TOO_LONG');
  if (typeof input.binding !== 'string' || input.binding.length === 0 || input.binding.length > MAX_BINDING) throw stateError('this sign-in has no valid browser binding: start single sign-on again', 'SSO_STATE_INVALID');
  const params = new URLSearchParams(input.callbackQuery.replace(/^\?/, ''));
  const { signIn, state } = await spendState(deps, params, input.binding);
  // From here on, failures are recorded in the organization's audit trail.
  let issuer = 'the provider';
  const scope = (error: unknown) => withAuditFailureScope(exchangeError(error, issuer), { orgIds: [signIn.orgId], diff: { connectionId: signIn.connectionId } });
  try {
    const connection = await findSsoConnection(deps.pool, signIn.connectionId);
    if (!connection || connection.orgId !== signIn.orgId) throw new AppError('NOT_FOUND', 'this organization no longer has single sign-on', { reason: 'SSO_NOT_CONFIGURED' });
    issuer = connection.issuer;
    const providerError = params.get('error');
    if (providerError !== null) {
      const description = params.get('error_description');
      throw ssoFailure('UNAUTHENTICATED', `the identity provider refused the sign-in (${[providerError, description].filter(Boolean).join(': ').slice(0, 300)})`, 'SSO_PROVIDER_REFUSED');
    }
    const clientSecret = openSecret(ssoKeyring(deps), { orgId: connection.orgId, secretId: connection.id }, connection.secret);
    const config = await discoverProvider(deps, connection, clientSecret);
    const callbackUrl = new URL(signIn.redirectUri);
    callbackUrl.search = params.toString();
    const claims = claimsOf(await deps.oidc.exchangeCode(config, callbackUrl, { state, nonce: signIn.nonce, codeVerifier: signIn.codeVerifier }), connection);

    const outcome = await inSystem(deps, async (tx) => {
      const resolved = await resolveUser(deps, tx, principal, connection, claims);
      const { user } = resolved;
      const membership = (await findMembership(tx, connection.orgId, user.id))!;
      const organization = (await findOrganization(tx, connection.orgId))!;
      const tokenVersion = (await findTokenVersion(tx, user.id)) ?? 0;
      const payload = await startSession(deps, tx, principal, { user, organization, role: membership.role, tokenVersion, ssoOrgId: connection.orgId });
      const actor = actingUser(principal, user, connection.orgId);
      if (resolved.provisioned !== null) {
        await recordAudit(tx, SERVICE, actor, {
          action: 'sso.provision',
          targetType: 'User',
          targetId: user.id,
          orgId: connection.orgId,
          diff: { email: user.email, name: user.name, role: membership.role, created: resolved.provisioned, connectionId: connection.id },
        });
      }
      await recordAudit(tx, SERVICE, actor, {
        action: 'auth.sso_login',
        targetType: 'User',
        targetId: user.id,
        orgId: connection.orgId,
        diff: { sessionId: payload.sessionId, role: membership.role, connectionId: connection.id, issuer: connection.issuer },
      });
      return { payload, released: resolved.released };
    });
    if (outcome.released) await deps.revocations.setTokenVersion(outcome.released.userId, outcome.released.tokenVersion);
    await recordSignInSuccess(deps, principal, outcome.payload.user.email);
    deps.counters.signIns.inc();
    deps.log.info('signed in with single sign-on', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: outcome.payload.user.id, orgId: connection.orgId, sessionId: outcome.payload.sessionId });
    return outcome.payload;
  } catch (error) {
    throw scope(error);
  }
}
