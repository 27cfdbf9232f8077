import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppError, newId, newRequestId, notFound, isUuid, type Logger, type Principal, type RateLimiter } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { openSecret, SecretDecryptionError } from '../secrets/keyring';
import { insertDelivery, type WebhookDeliveryRow } from '../store/webhook-deliveries';
import { triggerOrg, webhookSecretOf, findTrigger } from '../store/triggers';
import { checkEvent, emitEventIn, type EventListener } from './emit';
import { webhookBinding } from './trigger-commands';

/**
 * An inbound webhook delivery (POST /hooks/<trigger id> on the gateway, passed here over gRPC with
 * its raw body). Checked in this order, each refusal recorded in the trigger's delivery log with its
 * reason: body size, the hook's rate limit, a webhook secret, the signature headers, the timestamp
 * (at most 5 minutes away from now), the HMAC-SHA256 of `<timestamp>.<body>` with the trigger's
 * secret, a JSON object body. Accepted: the body is emitted as an event of the trigger's name
 * (every trigger and event wait of that name sees it) in the transaction that records the delivery.
 *
 * The idempotency key is the sender's Idempotency-Key header, else the signature: a signed request
 * replayed within its 5 minutes starts nothing new.
 */

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const WEBHOOK_REFUSALS = ['BODY_TOO_LARGE', 'RATE_LIMITED', 'NO_WEBHOOK', 'MISSING_SIGNATURE', 'STALE_TIMESTAMP', 'BAD_SIGNATURE', 'INVALID_BODY'] as const;
/** A refusal of the webhook itself, or the reason of the event's own check (INVALID_EVENT_PAYLOAD, ...). */
export type WebhookRefusal = string;

export interface WebhookRequest {
  triggerId: string;
  /** The X-Orchestra-Timestamp header: unix seconds. */
  timestamp: string;
  /** The X-Orchestra-Signature header: `v1=<hex>` (several, comma-separated, when the sender signs with two secrets). */
  signature: string;
  body: Buffer;
  /** The gateway stopped reading at its limit: `body` is empty and bodyBytes says how far it got. */
  bodyTooLarge: boolean;
  bodyBytes: number;
  idempotencyKey: string;
  sourceIp: string;
  requestId: string;
}

export interface WebhookOutcome {
  delivery: WebhookDeliveryRow;
  runIds: string[];
}

export interface WebhookDeps {
  engine: Engine;
  log: Logger;
  /** Deliveries per trigger per window (the hook's rate limit). */
  limiter: RateLimiter;
  maxBodyBytes: number;
  listeners?: readonly EventListener[];
  now?: () => number;
}

/** The signature a sender puts in X-Orchestra-Signature for a body at a timestamp. */
export const signWebhook = (secret: string, timestamp: string, body: Buffer | string): string =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;

function signatureMatches(secret: string, timestamp: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice(3), 'hex');
  return header
    .split(/[\s,]+/)
    .filter((part) => part.startsWith('v1='))
    .some((part) => {
      const given = Buffer.from(part.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const webhookPrincipal = (triggerId: string, orgId: string, requestId: string, ip: string): Principal => ({
  kind: 'service',
  id: `webhook:${triggerId}`,
  orgId,
  scopes: [],
  display: `webhook ${triggerId}`,
  requestId: requestId || newRequestId(),
  ...(ip ? { ip } : {}),
});

class Refused extends Error {
  constructor(
    readonly reason: WebhookRefusal,
    message: string,
  ) {
    super(message);
  }
}

export async function deliverWebhook(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookOutcome> {
  const { engine, log, limiter, maxBodyBytes } = deps;
  const now = deps.now ?? Date.now;
  const { triggerId } = request;
  const orgId = isUuid(triggerId) ? await engine.inSystem((tx) => triggerOrg(tx, triggerId)) : undefined;
  if (!orgId) throw notFound('webhook', triggerId);
  const principal = webhookPrincipal(triggerId, orgId, request.requestId, request.sourceIp);
  const bodyBytes = request.bodyTooLarge ? request.bodyBytes : request.body.length;
  const record = (outcome: 'ACCEPTED' | 'REFUSED', reason: string | null, message: string | null, eventId: string | null) => ({
    id: newId(),
    orgId,
    triggerId,
    outcome,
    reason,
    message,
    eventId,
    bodyBytes,
    sourceIp: request.sourceIp || null,
    requestId: principal.requestId,
  });

  try {
    if (request.bodyTooLarge || request.body.length > maxBodyBytes) throw new Refused('BODY_TOO_LARGE', `the body has more than ${maxBodyBytes} bytes`);
    const limited = await limiter.hit(triggerId);
    if (!limited.allowed) throw new Refused('RATE_LIMITED', `more than ${limited.limit} deliveries in the window: retry in ${Math.ceil(limited.retryAfterMs / 1000)} s`);
    const sealed = await engine.inTenant(principal, (tx) => webhookSecretOf(tx, triggerId));
    if (!sealed) throw new Refused('NO_WEBHOOK', 'the trigger has no webhook (rotate its secret to give it one)');
    if (!request.timestamp || !request.signature) throw new Refused('MISSING_SIGNATURE', 'send X-Orchestra-Timestamp and X-Orchestra-Signature');
    const seconds = /^[0-9]{1,12}$/.test(request.timestamp) ? Number(request.timestamp) : NaN;
    if (!Number.isFinite(seconds) || Math.abs(now() / 1000 - seconds) > WEBHOOK_TOLERANCE_SECONDS) {
      throw new Refused('STALE_TIMESTAMP', `X-Orchestra-Timestamp is unix seconds within ${WEBHOOK_TOLERANCE_SECONDS} s of now`);
    }
    const keyring = engine.config.SECRETS_KEYS;
    if (!keyring) throw new Refused('SECRET_UNREADABLE', 'this orchestration service has no SECRETS_KEYS: webhook secrets cannot be read');
    let secret: string;
    try {
      secret = openSecret(keyring, webhookBinding(orgId, triggerId), sealed);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      log.error('a webhook secret does not open (its key was removed from SECRETS_KEYS?)', { err: error, triggerId, orgId });
      throw new Refused('SECRET_UNREADABLE', 'the webhook secret cannot be read on the server: rotate it');
    }
    if (!signatureMatches(secret, request.timestamp, request.body, request.signature)) throw new Refused('BAD_SIGNATURE', 'the signature does not match the body and timestamp');
    let payload: unknown;
    try {
      payload = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new Refused('INVALID_BODY', 'the body is not JSON');
    }
    const key = request.idempotencyKey || `webhook:${triggerId}:${createHash('sha256').update(request.signature).digest('hex').slice(0, 40)}`;
    let event;
    try {
      event = checkEvent({ name: 'pending', payload, idempotencyKey: key.slice(0, 200) }, 'body');
    } catch (error) {
      if (error instanceof AppError) throw new Refused(error.reason ?? 'INVALID_BODY', error.message);
      throw error;
    }
    return await engine.change(principal, async (ctx) => {
      const trigger = await findTrigger(ctx.tx, triggerId);
      if (!trigger) throw new Refused('NO_WEBHOOK', 'the trigger was deleted');
      const emitted = await emitEventIn(ctx, engine, principal, { ...event, name: trigger.eventName }, 'WEBHOOK', deps.listeners ?? []);
      const delivery = await insertDelivery(ctx.tx, record('ACCEPTED', null, null, emitted.event.id));
      const runIds = emitted.starts.flatMap((s) => (s.runId && !s.deduplicated ? [s.runId] : []));
      log.info('webhook accepted', { triggerId, orgId, eventId: emitted.event.id, runs: runIds.length, requestId: principal.requestId });
      return { delivery, runIds };
    });
  } catch (error) {
    const refusal = error instanceof Refused ? error : undefined;
    const appError = error instanceof AppError ? error : undefined;
    if (!refusal && !appError) throw error;
    const reason = refusal ? refusal.reason : (appError?.reason ?? appError?.code ?? 'REFUSED');
    const message = (refusal ?? appError)?.message ?? null;
    const delivery = await engine.inTenant(principal, (tx) => insertDelivery(tx, record('REFUSED', reason, message, null)));
    log.info('webhook refused', { triggerId, orgId, reason, requestId: principal.requestId, sourceIp: request.sourceIp });
    return { delivery, runIds: [] };
  }
}
