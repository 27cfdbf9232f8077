import { AppError, isUniqueViolation, newId, recordAudit, type Principal } from '@orchestra/lib';
import { checkSecretName, checkSecretValue, SECRET_LIMITS } from '../domain/secrets';
import type { Engine } from '../engine/engine';
import { SERVICE } from '../engine/engine';
import { countSecrets, countSecretsOfUnknownKeys, deleteSecret as deleteSecretRow, insertSecret, lockSecretByName, lockSecretsToRewrap, replaceSecretValue, storeRewrappedKey, type SecretInfo } from '../store/secrets';
import { rewrapSecret, sealSecret, type SecretKeyring } from './keyring';

/**
 * Creating, rotating and deleting an organization's secrets (issue 8). Values are sealed before they
 * reach SQL and are never returned, logged or put in an audit diff; every change is audited in its
 * transaction.
 */

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

function keyringOf(engine: Engine): SecretKeyring {
  const keyring = engine.config.SECRETS_KEYS;
  if (!keyring) throw new AppError('UNAVAILABLE', 'secrets are not configured on this orchestration service (set SECRETS_KEYS)', { reason: 'SECRETS_NOT_CONFIGURED' });
  return keyring;
}

export async function createSecret(engine: Engine, principal: Principal, input: { name: string; value: string }): Promise<SecretInfo> {
  const name = checkSecretName(input.name.trim());
  const value = checkSecretValue(input.value);
  const keyring = keyringOf(engine);
  const orgId = principal.orgId as string;
  return engine.inTenant(principal, async (tx) => {
    if ((await countSecrets(tx)) >= SECRET_LIMITS.perOrg) {
      throw new AppError('CONFLICT', `an organization has at most ${SECRET_LIMITS.perOrg} secrets: delete one first`, { reason: 'TOO_MANY_SECRETS', field: 'name' });
    }
    const id = newId();
    let secret: SecretInfo;
    try {
      secret = await insertSecret(tx, { id, orgId, name, sealed: sealSecret(keyring, { orgId, secretId: id }, value), createdBy: actorOf(principal) });
    } catch (error) {
      if (isUniqueViolation(error, 'secrets_name_unique')) {
        throw new AppError('CONFLICT', `a secret named "${name}" already exists (rotate it to change its value)`, { reason: 'SECRET_EXISTS', field: 'name' });
      }
      throw error;
    }
    await recordAudit(tx, SERVICE, principal, { action: 'secret.create', targetType: 'Secret', targetId: id, diff: { after: { name, version: secret.version } } });
    engine.log.info('secret created', { orgId, secretName: name, secretId: id, requestId: principal.requestId });
    return secret;
  });
}

export async function rotateSecret(engine: Engine, principal: Principal, input: { name: string; value: string }): Promise<SecretInfo> {
  const name = checkSecretName(input.name.trim());
  const value = checkSecretValue(input.value);
  const keyring = keyringOf(engine);
  const orgId = principal.orgId as string;
  return engine.inTenant(principal, async (tx) => {
    const before = await lockSecretByName(tx, name);
    if (!before) throw new AppError('NOT_FOUND', `secret "${name}" not found`, { reason: 'SECRET_NOT_FOUND', field: 'name' });
    const after = (await replaceSecretValue(tx, before.id, sealSecret(keyring, { orgId, secretId: before.id }, value), actorOf(principal))) as SecretInfo;
    await recordAudit(tx, SERVICE, principal, {
      action: 'secret.rotate',
      targetType: 'Secret',
      targetId: before.id,
      diff: { before: { version: before.version }, after: { name, version: after.version } },
    });
    engine.log.info('secret rotated', { orgId, secretName: name, secretId: before.id, version: after.version, requestId: principal.requestId });
    return after;
  });
}

export async function deleteSecret(engine: Engine, principal: Principal, rawName: string): Promise<SecretInfo> {
  const name = checkSecretName(rawName.trim());
  return engine.inTenant(principal, async (tx) => {
    const secret = await lockSecretByName(tx, name);
    if (!secret) throw new AppError('NOT_FOUND', `secret "${name}" not found`, { reason: 'SECRET_NOT_FOUND', field: 'name' });
    await deleteSecretRow(tx, secret.id);
    await recordAudit(tx, SERVICE, principal, { action: 'secret.delete', targetType: 'Secret', targetId: secret.id, diff: { before: { name, version: secret.version } } });
    engine.log.info('secret deleted', { orgId: secret.orgId, secretName: name, secretId: secret.id, requestId: principal.requestId });
    return secret;
  });
}

/**
 * After a key rotation (a new key first in SECRETS_KEYS), re-wraps the data key of every secret
 * still wrapped by an older key, in batches; the values' ciphertexts are not touched. Safe to run
 * from every replica at once (rows are locked, locked ones skipped). Resolves to how many it re-wrapped.
 */
export async function rewrapSecrets(engine: Engine, batchSize = 100): Promise<number> {
  const keyring = engine.config.SECRETS_KEYS;
  if (!keyring) return 0;
  const known = [...keyring.keys.keys()];
  let total = 0;
  for (;;) {
    const done = await engine.inSystem(async (tx) => {
      const rows = await lockSecretsToRewrap(tx, keyring.active.id, known, batchSize);
      for (const row of rows) await storeRewrappedKey(tx, row.id, rewrapSecret(keyring, { orgId: row.orgId, secretId: row.id }, row.sealed));
      return rows.length;
    });
    total += done;
    if (done < batchSize) break;
  }
  if (total > 0) engine.log.info('secrets re-wrapped with the active key', { count: total, keyId: keyring.active.id });
  const stranded = await engine.inSystem((tx) => countSecretsOfUnknownKeys(tx, known));
  if (stranded.length > 0) {
    engine.log.error('secrets are wrapped by keys SECRETS_KEYS no longer has: they cannot be read until that key is put back', { keys: stranded });
  }
  return total;
}

export type { SecretInfo } from '../store/secrets';
