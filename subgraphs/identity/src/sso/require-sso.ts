import { AppError, type PoolClient, type Role } from '@orchestra/lib';
import { ssoRequiredFor } from '../store/sso-connections';

/**
 * Refuses password sign-in (and switching a password session) into an organization that requires
 * single sign-on, for members at its SSO domains other than owners. The error carries the slug, so
 * the sign-in page can send the user on to their provider.
 */
export async function assertPasswordSignInAllowed(tx: PoolClient, orgId: string, role: Role, email: string): Promise<void> {
  const slug = await ssoRequiredFor(tx, orgId, role, email);
  if (slug === undefined) return;
  throw new AppError('FORBIDDEN', 'this organization requires single sign-on: sign in with SSO', { reason: 'SSO_REQUIRED', details: { ssoSlug: slug, organizationId: orgId } });
}
