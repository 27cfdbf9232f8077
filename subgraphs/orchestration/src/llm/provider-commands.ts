import { AppError, badInput, isUniqueViolation, isUuid, newId, notFound, recordAudit, type Principal, type Queryable } from '@orchestra/lib';
import { checkProviderSettings, LLM_PROVIDER_LIMITS, type LlmProviderInput, type LlmProviderSettings } from '../domain/llm-providers';
import { SERVICE, type Engine } from '../engine/engine';
import { countLlmProviders, deleteLlmProviderRow, insertLlmProvider, lockLlmProvider, updateLlmProviderRow, type LlmProviderRow } from '../store/llm-providers';
import { existingSecretNames } from '../store/secrets';

/**
 * An organization's model providers (issue 14): admins create, change and delete them; llm and
 * browser.agent steps name them. The API key is an organization secret named by the provider
 * (never given here, never shown). Every change is audited in its transaction.
 */

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

/** What an audit diff may hold of a provider: its settings (the key is a secret's name, not a value). */
const audited = (s: LlmProviderSettings) => ({ ...s, models: s.models.map((m) => m.alias) });

async function assertSecretExists(tx: Queryable, settings: LlmProviderSettings, field: string): Promise<void> {
  if (settings.apiKeySecret === null) return;
  if (!(await existingSecretNames(tx, [settings.apiKeySecret])).has(settings.apiKeySecret)) {
    throw badInput(field, `the organization has no secret "${settings.apiKeySecret}" (create it first: the API key is kept as a secret)`, 'UNKNOWN_SECRET');
  }
}

function checkId(id: string): string {
  if (!isUuid(id)) throw badInput('id', 'id must be a provider id (a UUID)', 'INVALID_ID');
  return id;
}

export async function createLlmProvider(engine: Engine, principal: Principal, input: LlmProviderInput): Promise<LlmProviderRow> {
  const settings = checkProviderSettings(input, undefined);
  return engine.inTenant(principal, async (tx) => {
    if ((await countLlmProviders(tx)) >= LLM_PROVIDER_LIMITS.perOrg) {
      throw new AppError('CONFLICT', `an organization has at most ${LLM_PROVIDER_LIMITS.perOrg} model providers: delete one first`, { reason: 'TOO_MANY_PROVIDERS', field: 'input.name' });
    }
    await assertSecretExists(tx, settings, 'input.apiKeySecret');
    let created: LlmProviderRow;
    try {
      created = await insertLlmProvider(tx, { ...settings, id: newId(), orgId: principal.orgId as string, createdBy: actorOf(principal) });
    } catch (error) {
      if (isUniqueViolation(error, 'llm_providers_name_unique')) throw new AppError('CONFLICT', `a provider named "${settings.name}" already exists`, { reason: 'PROVIDER_EXISTS', field: 'input.name' });
      throw error;
    }
    await recordAudit(tx, SERVICE, principal, { action: 'llm_provider.create', targetType: 'LlmProvider', targetId: created.id, diff: { after: audited(settings) } });
    engine.log.info('model provider created', { orgId: created.orgId, providerId: created.id, provider: created.name, requestId: principal.requestId });
    return created;
  });
}

export async function updateLlmProvider(engine: Engine, principal: Principal, rawId: string, input: LlmProviderInput): Promise<LlmProviderRow> {
  const id = checkId(rawId);
  if (input.name != null) throw badInput('input.name', 'a provider keeps its name (steps name it): create another one instead', 'NAME_IMMUTABLE');
  return engine.inTenant(principal, async (tx) => {
    const before = await lockLlmProvider(tx, id);
    if (!before) throw notFound('LlmProvider', id);
    const settings = checkProviderSettings(input, before);
    await assertSecretExists(tx, settings, 'input.apiKeySecret');
    const after = (await updateLlmProviderRow(tx, id, settings, actorOf(principal))) as LlmProviderRow;
    await recordAudit(tx, SERVICE, principal, { action: 'llm_provider.update', targetType: 'LlmProvider', targetId: id, diff: { before: audited(before), after: audited(settings) } });
    engine.log.info('model provider updated', { orgId: after.orgId, providerId: id, provider: after.name, requestId: principal.requestId });
    return after;
  });
}

/** Deletes a provider; steps that still name it fail at dispatch with UNKNOWN_PROVIDER. Answers the deleted provider. */
export async function deleteLlmProvider(engine: Engine, principal: Principal, rawId: string): Promise<LlmProviderRow> {
  const id = checkId(rawId);
  return engine.inTenant(principal, async (tx) => {
    const provider = await lockLlmProvider(tx, id);
    if (!provider) throw notFound('LlmProvider', id);
    await deleteLlmProviderRow(tx, id);
    await recordAudit(tx, SERVICE, principal, { action: 'llm_provider.delete', targetType: 'LlmProvider', targetId: id, diff: { before: audited(provider) } });
    engine.log.info('model provider deleted', { orgId: provider.orgId, providerId: id, provider: provider.name, requestId: principal.requestId });
    return provider;
  });
}
