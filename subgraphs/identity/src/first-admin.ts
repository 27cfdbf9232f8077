import { randomBytes } from 'node:crypto';
import { AppError, ConfigError, newId, newRequestId, recordAudit, servicePrincipal, withSystemTransaction, type Pool } from '@orchestra/lib';
import { normalizeEmail } from './auth/email';
import { checkPasswordStrength, type PasswordHasher } from './auth/passwords';
import type { IdentityConfig } from './config';
import { SERVICE } from './deps';
import { MAX_ORGANIZATION_NAME, MAX_USER_NAME } from './members/organizations';
import { insertMembership } from './store/memberships';
import { insertOrganization } from './store/organizations';
import { countUsers, insertPassword, insertUser } from './store/users';
import { requireName } from './validation';

export type FirstAdmin =
  | { created: false }
  | { created: true; email: string; organization: string; organizationId: string; userId: string; /** Set only when it was generated (to be shown once). */ generatedPassword: string | undefined };

/** The env variable a bad first-admin value came from, in one line. */
function asConfigError(variable: string, error: unknown): never {
  if (error instanceof AppError) throw new ConfigError(`config: ${variable} ${error.message}`);
  throw error;
}

/**
 * Creates the first organization and its owner when there are no users yet: from ADMIN_EMAIL and
 * ADMIN_PASSWORD, or with a generated password the caller shows once. Replicas starting together
 * serialize on an advisory lock, so exactly one creates it.
 */
export async function ensureFirstAdmin({ pool, config, hasher }: { pool: Pool; config: IdentityConfig; hasher: PasswordHasher }): Promise<FirstAdmin> {
  if ((await countUsers(pool)) > 0) return { created: false };
  let email: string;
  let name: string;
  let organization: string;
  try {
    email = normalizeEmail(config.ADMIN_EMAIL);
  } catch (error) {
    asConfigError('ADMIN_EMAIL', error);
  }
  try {
    name = requireName('name', config.ADMIN_NAME, MAX_USER_NAME);
  } catch (error) {
    asConfigError('ADMIN_NAME', error);
  }
  try {
    organization = requireName('name', config.ADMIN_ORG_NAME, MAX_ORGANIZATION_NAME);
  } catch (error) {
    asConfigError('ADMIN_ORG_NAME', error);
  }
  const generatedPassword = config.ADMIN_PASSWORD === undefined ? randomBytes(18).toString('base64url') : undefined;
  const password = config.ADMIN_PASSWORD ?? generatedPassword!;
  try {
    checkPasswordStrength(password, { minLength: config.PASSWORD_MIN_LENGTH }, { email, name });
  } catch (error) {
    asConfigError('ADMIN_PASSWORD', error);
  }
  const passwordHash = await hasher.hash(password);

  return withSystemTransaction(pool, async (tx): Promise<FirstAdmin> => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':first-admin'))");
    if ((await countUsers(tx)) > 0) return { created: false };
    const org = await insertOrganization(tx, { id: newId(), name: organization });
    // The operator chose the address: nothing to verify.
    const user = await insertUser(tx, { id: newId(), email, name, emailVerified: true });
    await insertPassword(tx, user.id, passwordHash);
    await insertMembership(tx, { id: newId(), orgId: org.id, userId: user.id, role: 'owner' });
    await recordAudit(tx, SERVICE, servicePrincipal(SERVICE, newRequestId(), org.id), {
      action: 'organization.create',
      targetType: 'Organization',
      targetId: org.id,
      diff: { name: organization, owner: { id: user.id, email }, firstAdmin: true },
    });
    return { created: true, email, organization, organizationId: org.id, userId: user.id, generatedPassword };
  });
}
