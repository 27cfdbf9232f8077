import { openSecret, rewrapSecret } from '@orchestra/lib';
import { inSystem, type IdentityDeps } from '../deps';
import { findSsoConnectionsToRewrap, updateSsoSecret } from '../store/sso-connections';

/**
 * After a SECRETS_KEYS rotation (a new key first, the old one kept after it), re-wraps the data keys of
 * SSO client secrets with the active key at start, so the old key can then be dropped. A secret whose
 * key is gone is logged and left alone (its connection fails at sign-in until an admin sets the secret again).
 */
export async function rewrapSsoSecrets(deps: IdentityDeps): Promise<void> {
  const keyring = deps.config.SECRETS_KEYS;
  if (!keyring) return;
  const rewrapped = await inSystem(deps, async (tx) => {
    let count = 0;
    for (const connection of await findSsoConnectionsToRewrap(tx, keyring.active.id)) {
      const binding = { orgId: connection.orgId, secretId: connection.id };
      try {
        const sealed = rewrapSecret(keyring, binding, connection.secret);
        openSecret(keyring, binding, sealed);
        await updateSsoSecret(tx, connection.id, sealed);
        count += 1;
      } catch (error) {
        deps.log.error('an SSO client secret does not unwrap with SECRETS_KEYS: set it again on the SSO settings page', { err: error, orgId: connection.orgId, connectionId: connection.id });
      }
    }
    return count;
  });
  if (rewrapped > 0) deps.log.info('SSO client secrets re-wrapped with the active key', { rewrapped, keyId: keyring.active.id });
}
