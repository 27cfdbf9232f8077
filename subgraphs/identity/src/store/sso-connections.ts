import type { Queryable, Role, SealedSecret } from '@orchestra/lib';

/** An organization's OpenID Connect connection, as stored (the client secret sealed). */
export interface SsoConnectionRow {
  id: string;
  orgId: string;
  slug: string;
  issuer: string;
  clientId: string;
  secret: SealedSecret;
  defaultRole: Exclude<Role, 'owner'>;
  requireSso: boolean;
  /** Sorted. */
  domains: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface Row extends Omit<SsoConnectionRow, 'secret'> {
  secretKeyId: string;
  secretWrappedKey: Buffer;
  secretCiphertext: Buffer;
}

const COLUMNS = `c.id, c.org_id AS "orgId", c.slug, c.issuer, c.client_id AS "clientId", c.secret_key_id AS "secretKeyId",
  c.secret_wrapped_key AS "secretWrappedKey", c.secret_ciphertext AS "secretCiphertext", c.default_role AS "defaultRole",
  c.require_sso AS "requireSso", c.created_at AS "createdAt", c.updated_at AS "updatedAt",
  coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM sso_domains d WHERE d.connection_id = c.id), '{}') AS domains`;

const toConnection = ({ secretKeyId, secretWrappedKey, secretCiphertext, ...rest }: Row): SsoConnectionRow => ({
  ...rest,
  secret: { keyId: secretKeyId, wrappedKey: secretWrappedKey, ciphertext: secretCiphertext },
});

export async function findSsoConnectionOfOrg(db: Queryable, orgId: string, lock = false): Promise<SsoConnectionRow | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections c WHERE c.org_id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [orgId]);
  return rows[0] && toConnection(rows[0]);
}

export async function findSsoConnection(db: Queryable, id: string): Promise<SsoConnectionRow | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections c WHERE c.id = $1`, [id]);
  return rows[0] && toConnection(rows[0]);
}

/** The connection that claims an e-mail domain (system read: sign-in). */
export async function findSsoConnectionByDomain(db: Queryable, domain: string): Promise<SsoConnectionRow | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections c JOIN sso_domains d ON d.connection_id = c.id WHERE d.domain = $1`, [domain]);
  return rows[0] && toConnection(rows[0]);
}

export async function findSsoConnectionBySlug(db: Queryable, slug: string): Promise<SsoConnectionRow | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections c WHERE c.slug = $1`, [slug]);
  return rows[0] && toConnection(rows[0]);
}

export interface SsoConnectionValues {
  id: string;
  orgId: string;
  slug: string;
  issuer: string;
  clientId: string;
  secret: SealedSecret;
  defaultRole: Exclude<Role, 'owner'>;
  requireSso: boolean;
}

export async function insertSsoConnection(db: Queryable, c: SsoConnectionValues): Promise<void> {
  await db.query(
    `INSERT INTO sso_connections (id, org_id, slug, issuer, client_id, secret_key_id, secret_wrapped_key, secret_ciphertext, default_role, require_sso)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [c.id, c.orgId, c.slug, c.issuer, c.clientId, c.secret.keyId, c.secret.wrappedKey, c.secret.ciphertext, c.defaultRole, c.requireSso],
  );
}

/** Updates everything but the secret, and the secret too when one is given. */
export async function updateSsoConnection(db: Queryable, c: Omit<SsoConnectionValues, 'secret' | 'orgId'> & { secret?: SealedSecret | undefined }): Promise<void> {
  await db.query(
    `UPDATE sso_connections SET slug = $2, issuer = $3, client_id = $4, default_role = $5, require_sso = $6,
       secret_key_id = coalesce($7, secret_key_id), secret_wrapped_key = coalesce($8, secret_wrapped_key), secret_ciphertext = coalesce($9, secret_ciphertext),
       updated_at = now()
     WHERE id = $1`,
    [c.id, c.slug, c.issuer, c.clientId, c.defaultRole, c.requireSso, c.secret?.keyId ?? null, c.secret?.wrappedKey ?? null, c.secret?.ciphertext ?? null],
  );
}

/** Sets the connection's domains to exactly `domains`. */
export async function replaceSsoDomains(db: Queryable, connectionId: string, orgId: string, domains: readonly string[]): Promise<void> {
  await db.query('DELETE FROM sso_domains WHERE connection_id = $1 AND NOT (domain = ANY($2::text[]))', [connectionId, domains]);
  await db.query(
    'INSERT INTO sso_domains (domain, org_id, connection_id) SELECT unnest($3::text[]), $2, $1 ON CONFLICT (domain) DO NOTHING',
    [connectionId, orgId, domains],
  );
}

/** Of `domains`, those another organization claims (through a definer function: a tenant cannot read them). */
export async function ssoDomainsTaken(db: Queryable, domains: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ taken: string[] }>('SELECT sso_domains_taken($1::text[]) AS taken', [domains]);
  return rows[0]!.taken;
}

export async function ssoSlugTaken(db: Queryable, slug: string): Promise<boolean> {
  const { rows } = await db.query<{ taken: boolean }>('SELECT sso_slug_taken($1) AS taken', [slug]);
  return rows[0]!.taken;
}

export async function deleteSsoConnection(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sso_connections WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/**
 * The connection's slug when password sign-in into the organization is refused for this member: the
 * organization requires SSO, the member's e-mail domain is one it signs in, and they are not an owner
 * (owners keep their password: the way back in when the provider is down or misconfigured).
 */
export async function ssoRequiredFor(db: Queryable, orgId: string, role: Role, email: string): Promise<string | undefined> {
  if (role === 'owner') return undefined;
  const { rows } = await db.query<{ slug: string }>(
    `SELECT c.slug FROM sso_connections c JOIN sso_domains d ON d.connection_id = c.id
      WHERE c.org_id = $1 AND c.require_sso AND d.domain = split_part($2, '@', 2)`,
    [orgId, email],
  );
  return rows[0]?.slug;
}

/** Connections whose secret is wrapped by another key than `activeKeyId` (system: re-wrap after a key rotation). */
export async function findSsoConnectionsToRewrap(db: Queryable, activeKeyId: string): Promise<SsoConnectionRow[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections c WHERE c.secret_key_id <> $1 FOR UPDATE OF c`, [activeKeyId]);
  return rows.map(toConnection);
}

export async function updateSsoSecret(db: Queryable, id: string, secret: SealedSecret): Promise<void> {
  await db.query('UPDATE sso_connections SET secret_key_id = $2, secret_wrapped_key = $3, secret_ciphertext = $4 WHERE id = $1', [id, secret.keyId, secret.wrappedKey, secret.ciphertext]);
}
