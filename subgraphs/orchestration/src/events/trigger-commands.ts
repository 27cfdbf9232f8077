import { randomBytes } from 'node:crypto';
import { AppError, isUuid, newId, notFound, recordAudit, type Principal, type Queryable } from '@orchestra/lib';
import { SERVICE, type Engine } from '../engine/engine';
import { rewrapSecret, sealSecret, type SecretKeyring } from '../secrets/keyring';
import { findWorkflowById } from '../store/workflows';
import { countTriggers, deleteTrigger as deleteTriggerRow, findTrigger, insertTrigger, listTriggers, lockWebhookSecretsToRewrap, setWebhookSecret, storeRewrappedWebhookKey, type TriggerRow } from '../store/triggers';
import { MAX_TRIGGERS_PER_EVENT } from './emit';
import { checkEventFilter, checkEventName } from './event-filter';

/**
 * Triggers (issue 10): a workflow started by every event of a name whose payload passes the filter,
 * optionally with an inbound webhook (POST /hooks/<trigger id> on the gateway, HMAC-signed with the
 * trigger's secret). The secret is shown once — when the webhook is created or its secret rotated —
 * and stored envelope-encrypted with the organization-secret keyring. Each change is audited.
 */

export const MAX_TRIGGERS_PER_ORG = 1_000;

export interface CreateTriggerInput {
  workflowId: string;
  eventName: string;
  filter?: unknown;
  /** Give the trigger an inbound webhook (its secret is in the answer, once). */
  webhook?: boolean | null;
}

export interface TriggerWithSecret {
  trigger: TriggerRow;
  /** The webhook's signing secret: only in the answer that created or rotated it. */
  webhookSecret: string | null;
}

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;
const summary = (t: TriggerRow) => ({ workflowId: t.workflowId, eventName: t.eventName, filter: t.filter, hasWebhook: t.hasWebhook });

/** What seals webhook secrets: the organization-secret keyring (SECRETS_KEYS). */
function keyringOf(engine: Engine): SecretKeyring {
  const keyring = engine.config.SECRETS_KEYS;
  if (!keyring) throw new AppError('UNAVAILABLE', 'webhook secrets need SECRETS_KEYS on the orchestration service', { reason: 'SECRETS_NOT_CONFIGURED' });
  return keyring;
}

/** A webhook secret binds to its organization and trigger (a row copied elsewhere does not open). */
export const webhookBinding = (orgId: string, triggerId: string) => ({ orgId, secretId: `trigger:${triggerId}` });

const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export async function createTrigger(engine: Engine, principal: Principal, input: CreateTriggerInput): Promise<TriggerWithSecret> {
  if (!isUuid(input.workflowId)) throw new AppError('NOT_FOUND', `workflow ${input.workflowId} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: 'input.workflowId' });
  const eventName = checkEventName(input.eventName, 'input.eventName');
  const filter = checkEventFilter(input.filter, 'input.filter');
  const keyring = input.webhook ? keyringOf(engine) : undefined;
  const orgId = principal.orgId as string;
  return engine.inTenant(principal, async (tx) => {
    if (!(await findWorkflowById(tx, input.workflowId))) throw new AppError('NOT_FOUND', `workflow ${input.workflowId} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: 'input.workflowId' });
    if ((await countTriggers(tx)) >= MAX_TRIGGERS_PER_ORG) {
      throw new AppError('CONFLICT', `an organization has at most ${MAX_TRIGGERS_PER_ORG} triggers: delete one first`, { reason: 'TOO_MANY_TRIGGERS', field: 'input.workflowId' });
    }
    if ((await listTriggers(tx, { eventName }, MAX_TRIGGERS_PER_EVENT)).length >= MAX_TRIGGERS_PER_EVENT) {
      throw new AppError('CONFLICT', `event "${eventName}" has ${MAX_TRIGGERS_PER_EVENT} triggers already (the most one event starts)`, { reason: 'TOO_MANY_TRIGGERS', field: 'input.eventName' });
    }
    const id = newId();
    const secret = keyring ? newWebhookSecret() : null;
    const trigger = await insertTrigger(tx, {
      id,
      orgId,
      workflowId: input.workflowId,
      eventName,
      filter,
      webhook: keyring && secret ? sealSecret(keyring, webhookBinding(orgId, id), secret) : null,
      createdBy: actorOf(principal),
    });
    await recordAudit(tx, SERVICE, principal, { action: 'trigger.create', targetType: 'Trigger', targetId: id, diff: { after: summary(trigger) } });
    engine.log.info('trigger created', { triggerId: id, orgId, workflowId: trigger.workflowId, eventName, webhook: trigger.hasWebhook, requestId: principal.requestId });
    return { trigger, webhookSecret: secret };
  });
}

async function lockedTrigger(tx: Queryable, id: string): Promise<TriggerRow> {
  const trigger = isUuid(id) ? await findTrigger(tx, id, { lock: true }) : undefined;
  if (!trigger) throw notFound('trigger', id);
  return trigger;
}

/** A new webhook secret (the old one stops working at once); gives a trigger without a webhook one. */
export async function rotateTriggerSecret(engine: Engine, principal: Principal, id: string): Promise<TriggerWithSecret> {
  const keyring = keyringOf(engine);
  return engine.inTenant(principal, async (tx) => {
    const before = await lockedTrigger(tx, id);
    const secret = newWebhookSecret();
    const trigger = (await setWebhookSecret(tx, id, sealSecret(keyring, webhookBinding(before.orgId, id), secret))) as TriggerRow;
    await recordAudit(tx, SERVICE, principal, { action: 'trigger.rotate_secret', targetType: 'Trigger', targetId: id, diff: { before: summary(before), after: summary(trigger) } });
    engine.log.info('trigger webhook secret rotated', { triggerId: id, orgId: trigger.orgId, requestId: principal.requestId });
    return { trigger, webhookSecret: secret };
  });
}

/** Deletes a trigger (its webhook and delivery log with it; runs it started stay). */
export async function deleteTrigger(engine: Engine, principal: Principal, id: string): Promise<TriggerRow> {
  return engine.inTenant(principal, async (tx) => {
    const trigger = await lockedTrigger(tx, id);
    await deleteTriggerRow(tx, id);
    await recordAudit(tx, SERVICE, principal, { action: 'trigger.delete', targetType: 'Trigger', targetId: id, diff: { before: summary(trigger) } });
    engine.log.info('trigger deleted', { triggerId: id, orgId: trigger.orgId, requestId: principal.requestId });
    return trigger;
  });
}

/** After a SECRETS_KEYS rotation, re-wraps webhook secrets still wrapped by an older key (as rewrapSecrets does for secrets). */
export async function rewrapWebhookSecrets(engine: Engine, batchSize = 100): Promise<number> {
  const keyring = engine.config.SECRETS_KEYS;
  if (!keyring) return 0;
  const known = [...keyring.keys.keys()];
  let total = 0;
  for (;;) {
    const done = await engine.inSystem(async (tx) => {
      const rows = await lockWebhookSecretsToRewrap(tx, keyring.active.id, known, batchSize);
      for (const row of rows) await storeRewrappedWebhookKey(tx, row.id, rewrapSecret(keyring, webhookBinding(row.orgId, row.id), row.sealed));
      return rows.length;
    });
    total += done;
    if (done < batchSize) break;
  }
  if (total > 0) engine.log.info('webhook secrets re-wrapped with the active key', { count: total, keyId: keyring.active.id });
  return total;
}
