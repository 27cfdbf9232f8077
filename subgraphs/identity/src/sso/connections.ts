import { AppError, badInput, newId, recordAudit, sealSecret, type Principal, type Role, type SecretKeyring } from '@orchestra/lib';
import { inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import {
  deleteSsoConnection as deleteConnectionRow,
  findSsoConnectionOfOrg,
  insertSsoConnection,
  replaceSsoDomains,
  ssoDomainsTaken,
  ssoSlugTaken,
  updateSsoConnection,
  type SsoConnectionRow,
} from '../store/sso-connections';
import { parseIssuer } from './oidc-client';

/**
 * An organization admin's OpenID Connect connection (issue 13): issuer (checked by reading its
 * discovery document), client id, client secret (write-only, envelope-encrypted with SECRETS_KEYS and
 * bound to the organization and connection), the e-mail domains it signs in (each claimed by one
 * organization at most), the role of members provisioned just in time, and whether password sign-in
 * is refused for members (owners keep it: the way back in when the provider is down or misconfigured).
 */

export const MAX_SSO_DOMAINS = 20;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface ConfigureSsoInput {
  slug: string;
  issuer: string;
  clientId: string;
  clientSecret?: string | null | undefined;
  domains: string[];
  defaultRole: Role;
  requireSso: boolean;
}

/** What the API shows of a connection: never the secret. */
export interface SsoConnectionView {
  id: string;
  slug: string;
  issuer: string;
  clientId: string;
  clientSecretSet: true;
  domains: string[];
  defaultRole: Exclude<Role, 'owner'>;
  requireSso: boolean;
  redirectUri: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Where the provider sends the browser back: the web app's callback page (register it at the provider). */
export const ssoRedirectUri = (deps: IdentityDeps): string => `${deps.config.APP_URL}/sso/callback`;

export const toView = (deps: IdentityDeps, c: SsoConnectionRow): SsoConnectionView => ({
  id: c.id,
  slug: c.slug,
  issuer: c.issuer,
  clientId: c.clientId,
  clientSecretSet: true,
  domains: c.domains,
  defaultRole: c.defaultRole,
  requireSso: c.requireSso,
  redirectUri: ssoRedirectUri(deps),
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

/** The keyring that seals client secrets, or UNAVAILABLE when identity has none. */
export function ssoKeyring(deps: IdentityDeps): SecretKeyring {
  const keyring = deps.config.SECRETS_KEYS;
  if (!keyring) throw new AppError('UNAVAILABLE', 'single sign-on needs SECRETS_KEYS on the identity service (it encrypts client secrets)', { reason: 'SECRETS_NOT_CONFIGURED' });
  return keyring;
}

export function parseSlug(raw: string, field = 'slug'): string {
  const slug = raw.trim().toLowerCase();
  if (!SLUG.test(slug)) throw badInput(field, 'slug must be 1 to 40 lower-case letters, digits and inner hyphens (like "acme")', 'SSO_SLUG_INVALID');
  return slug;
}

/** An e-mail domain as stored (lower-case, no leading @). */
export function parseDomain(raw: string, field = 'domains'): string {
  const domain = raw.trim().toLowerCase().replace(/^@/, '');
  if (!DOMAIN.test(domain)) throw badInput(field, `${JSON.stringify(raw.slice(0, 100))} is not an e-mail domain (like example.com)`, 'SSO_DOMAIN_INVALID');
  return domain;
}

function parseDomains(raw: readonly string[]): string[] {
  if (raw.length === 0) throw badInput('domains', 'name at least one e-mail domain', 'REQUIRED');
  if (raw.length > MAX_SSO_DOMAINS) throw badInput('domains', `at most ${MAX_SSO_DOMAINS} domains`, 'TOO_MANY');
  return [...new Set(raw.map((d) => parseDomain(d)))].sort();
}

function parseClientId(raw: string): string {
  const value = raw.trim();
  if (value === '') throw badInput('clientId', 'client id is required', 'REQUIRED');
  if (value.length > 255) throw badInput('clientId', 'client id is longer than 255 characters', 'TOO_LONG');
  if (/\p{Cc}/u.test(value)) throw badInput('clientId', 'client id must not contain control characters', 'INVALID_CHARACTERS');
  return value;
}

function parseClientSecret(raw: string): string {
  if (raw.length === 0) throw badInput('clientSecret', 'client secret is required', 'REQUIRED');
  if (raw.length > 1000) throw badInput('clientSecret', 'client secret is longer than 1000 characters', 'TOO_LONG');
  if (/\p{Cc}/u.test(raw)) throw badInput('clientSecret', 'client secret must not contain control characters', 'INVALID_CHARACTERS');
  return raw;
}

function parseDefaultRole(role: Role): Exclude<Role, 'owner'> {
  if (role === 'owner') throw badInput('defaultRole', 'members provisioned by single sign-on cannot be owners: choose admin, operator or viewer', 'SSO_ROLE_NOT_ALLOWED');
  return role;
}

/** The current organization's connection, or null. */
export async function getSsoConnection(deps: IdentityDeps, principal: Principal): Promise<SsoConnectionView | null> {
  const { orgId } = signedInUser(principal);
  const row = await inTenant(deps, principal, (tx) => findSsoConnectionOfOrg(tx, orgId));
  return row ? toView(deps, row) : null;
}

/** Creates or replaces the current organization's connection (the secret is kept when none is given). */
export async function configureSso(deps: IdentityDeps, principal: Principal, input: ConfigureSsoInput): Promise<SsoConnectionView> {
  const { orgId } = signedInUser(principal);
  const slug = parseSlug(input.slug);
  const issuer = parseIssuer(input.issuer, deps.config.SSO_ALLOW_INSECURE_ISSUERS);
  const clientId = parseClientId(input.clientId);
  const clientSecret = input.clientSecret === null || input.clientSecret === undefined ? undefined : parseClientSecret(input.clientSecret);
  const domains = parseDomains(input.domains);
  const defaultRole = parseDefaultRole(input.defaultRole);
  const requireSso = input.requireSso;
  const keyring = ssoKeyring(deps);
  // A wrong issuer is caught now, not at the first member's sign-in.
  await deps.oidc.discover(issuer, { clientId }, { fresh: true });

  const row = await inTenant(deps, principal, async (tx) => {
    const existing = await findSsoConnectionOfOrg(tx, orgId, true);
    if (!existing && clientSecret === undefined) throw badInput('clientSecret', 'client secret is required for a new connection', 'REQUIRED');
    const taken = await ssoDomainsTaken(tx, domains);
    if (taken.length > 0) {
      throw new AppError('CONFLICT', `${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} already signed in by another organization's single sign-on`, { reason: 'SSO_DOMAIN_TAKEN', field: 'domains', details: { domains: taken } });
    }
    if (await ssoSlugTaken(tx, slug)) throw new AppError('CONFLICT', `the slug "${slug}" is taken: choose another`, { reason: 'SSO_SLUG_TAKEN', field: 'slug' });
    const id = existing?.id ?? newId();
    const secret = clientSecret === undefined ? undefined : sealSecret(keyring, { orgId, secretId: id }, clientSecret);
    const values = { id, slug, issuer, clientId, defaultRole, requireSso };
    if (existing) await updateSsoConnection(tx, { ...values, secret });
    else await insertSsoConnection(tx, { ...values, orgId, secret: secret! });
    await replaceSsoDomains(tx, id, orgId, domains);
    await recordAudit(tx, SERVICE, principal, {
      action: 'sso.configure',
      targetType: 'SsoConnection',
      targetId: id,
      diff: {
        before: existing ? { slug: existing.slug, issuer: existing.issuer, clientId: existing.clientId, domains: existing.domains, defaultRole: existing.defaultRole, requireSso: existing.requireSso } : null,
        after: { slug, issuer, clientId, domains, defaultRole, requireSso },
        // (Named so the audit redaction keeps it: it says whether, never what.)
        clientAuthChanged: secret !== undefined,
      },
    });
    return findSsoConnectionOfOrg(tx, orgId);
  });
  return toView(deps, row!);
}

/** Removes the current organization's connection; members provisioned by it stay (with no password, until they reset one). */
export async function deleteSsoConnection(deps: IdentityDeps, principal: Principal): Promise<boolean> {
  const { orgId } = signedInUser(principal);
  return inTenant(deps, principal, async (tx) => {
    const existing = await findSsoConnectionOfOrg(tx, orgId, true);
    if (!existing) throw new AppError('NOT_FOUND', 'this organization has no single sign-on connection', { reason: 'SSO_NOT_CONFIGURED' });
    await deleteConnectionRow(tx, existing.id);
    await recordAudit(tx, SERVICE, principal, { action: 'sso.delete', targetType: 'SsoConnection', targetId: existing.id, diff: { slug: existing.slug, issuer: existing.issuer, domains: existing.domains } });
    return true;
  });
}

/** What the "test connection" button shows: the provider's endpoints from its discovery document. */
export interface SsoDiscoveryView {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string | null;
  userinfoEndpoint: string | null;
  supportsPkce: boolean;
}

export async function testSsoConnection(deps: IdentityDeps, principal: Principal, rawIssuer: string): Promise<SsoDiscoveryView> {
  signedInUser(principal);
  const issuer = parseIssuer(rawIssuer, deps.config.SSO_ALLOW_INSECURE_ISSUERS);
  const config = await deps.oidc.discover(issuer, { clientId: 'orchestra-connection-test' }, { fresh: true });
  const meta = config.serverMetadata();
  if (!meta.authorization_endpoint || !meta.token_endpoint) {
    throw badInput('issuer', `${issuer} names no authorization or token endpoint: it cannot sign users in with the authorization code flow`, 'SSO_DISCOVERY_FAILED');
  }
  return {
    issuer: meta.issuer,
    authorizationEndpoint: meta.authorization_endpoint,
    tokenEndpoint: meta.token_endpoint,
    jwksUri: meta.jwks_uri ?? null,
    userinfoEndpoint: meta.userinfo_endpoint ?? null,
    supportsPkce: meta.code_challenge_methods_supported?.includes('S256') ?? false,
  };
}
