import {
  createGuardedFetch,
  createWakeableSleep,
  idleSleepMs,
  isPrivateAddress,
  newId,
  toAppError,
  withSystemTransaction,
  type GuardedFetch,
  type Logger,
  type Metrics,
  type Pool,
} from '@orchestra/lib';
import { insertEvents } from '../store/events';
import { claimDueDeliveries, deliveryDueInMs, failPendingOf, insertAttempt, recordOutcome, type AttemptResult, type WebhookDelivery } from '../store/webhook-deliveries';
import { disableEndpoint, findEndpoint, type WebhookEndpoint } from '../store/webhook-endpoints';
import { webhookHeaders } from './signature';

export interface WebhookSenderOptions {
  pool: Pool;
  log: Logger;
  metrics: Metrics;
  /** First retry delay; doubles per attempt (with jitter) up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  /** Private addresses that may be reached anyway (exact IPs). */
  allowedPrivateIps: readonly string[];
  pollMs: number;
  /** The longest it sleeps with nothing due (lib's idleSleepMs). Default: pollMs (a poll every pollMs). */
  idleMaxMs?: number;
  /** Deliveries attempted at once. Default 10. */
  concurrency?: number;
  /** A disabled endpoint's event is stored: the fan-out tells its admins. */
  onEndpointDisabled: () => void;
}

export interface WebhookSender {
  start(): void;
  stop(): Promise<void>;
  wake(): void;
  /** Attempts the due deliveries once; resolves to how many were attempted. */
  sendDue(): Promise<number>;
}

const EXCERPT_BYTES = 1024;

/** Exponential with jitter: base·2^(n-1) capped at max, between 80 % and 100 % of it. */
export const retryDelayMs = (attempt: number, baseMs: number, maxMs: number, random = Math.random): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling * (0.8 + 0.2 * random()));
};

async function excerptOf(response: Response): Promise<string | null> {
  try {
    const text = await response.text();
    return text.length > EXCERPT_BYTES ? `${text.slice(0, EXCERPT_BYTES)}…` : text;
  } catch {
    return null;
  }
}

/**
 * Sends webhook deliveries: claims due ones (a lease on next_attempt_at, so replicas never send the
 * same delivery at once and a crash leaves it due again), POSTs them through lib's private-network
 * guard with the Standard Webhooks headers, and records each attempt. A non-2xx answer or a network
 * error is retried with exponential backoff until the delivery's give_up_at; then the delivery fails,
 * its endpoint is disabled and a webhook.endpoint_disabled event is stored for its admins. A refused
 * private address is not retried.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { pool, metrics, baseDelayMs, maxDelayMs, timeoutMs, pollMs, idleMaxMs = pollMs, concurrency = 10, onEndpointDisabled } = options;
  const log = options.log.child({ component: 'webhook-sender' });
  const allowed = new Set(options.allowedPrivateIps);
  const fetcher: GuardedFetch = createGuardedFetch({ allowPrivate: false, isBlocked: (ip) => isPrivateAddress(ip) && !allowed.has(ip), connectTimeoutMs: timeoutMs, log });
  const attempts = metrics.counter('webhook_attempts_total', 'Webhook delivery attempts', ['outcome']);
  const latency = metrics.histogram('webhook_attempt_seconds', 'Time to an endpoint answer', [], [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const disabled = metrics.counter('webhook_endpoints_disabled_total', 'Endpoints disabled after their deliveries kept failing');

  const post = async (endpoint: WebhookEndpoint, delivery: WebhookDelivery): Promise<AttemptResult & { refused: boolean }> => {
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt.getTime() > Date.now()) secrets.push(endpoint.previousSecret);
    const headers = webhookHeaders(secrets, delivery.eventId, Math.floor(Date.now() / 1000), delivery.body);
    const started = performance.now();
    try {
      const response = await fetcher(endpoint.url, { method: 'POST', headers, body: delivery.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const latencyMs = Math.round(performance.now() - started);
      const succeeded = response.status >= 200 && response.status < 300;
      return { statusCode: response.status, latencyMs, responseExcerpt: await excerptOf(response), error: succeeded ? null : `HTTP ${response.status}`, succeeded, refused: false };
    } catch (error) {
      const latencyMs = Math.round(performance.now() - started);
      const appError = toAppError(error);
      const refused = appError.reason === 'PRIVATE_ADDRESS_BLOCKED' || appError.code === 'BAD_USER_INPUT';
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const message = refused ? appError.message : `${error instanceof Error ? error.message : String(error)}${cause}`;
      return { statusCode: null, latencyMs, responseExcerpt: null, error: message.slice(0, 1000), succeeded: false, refused };
    }
  };

  const attempt = async (delivery: WebhookDelivery): Promise<void> => {
    const endpoint = await withSystemTransaction(pool, (tx) => findEndpoint(tx, delivery.endpointId));
    if (!endpoint?.enabled) return;
    const result = await post(endpoint, delivery);
    attempts.inc({ outcome: result.succeeded ? 'succeeded' : result.refused ? 'refused' : 'failed' });
    latency.observe(result.latencyMs / 1000);
    const number = delivery.attempts + 1;
    const nextAt = new Date(Date.now() + retryDelayMs(number, baseDelayMs, maxDelayMs));
    const giveUp = !result.succeeded && (result.refused || nextAt.getTime() > delivery.giveUpAt.getTime());
    let endpointDisabled = false;
    await withSystemTransaction(pool, async (tx) => {
      await insertAttempt(tx, { ...result, id: newId(), orgId: delivery.orgId, deliveryId: delivery.id });
      await recordOutcome(tx, delivery.id, result, { status: result.succeeded ? 'succeeded' : giveUp ? 'failed' : 'pending', nextAttemptAt: result.succeeded || giveUp ? null : nextAt });
      if (giveUp && !result.refused) {
        const reason = `deliveries kept failing for ${Math.round((delivery.giveUpAt.getTime() - delivery.createdAt.getTime()) / 1000)} s (last: ${result.error ?? 'unknown'})`;
        const off = await disableEndpoint(tx, endpoint.id, reason);
        if (off) {
          endpointDisabled = true;
          await failPendingOf(tx, endpoint.id, 'endpoint disabled');
          await insertEvents(tx, [
            {
              id: newId(),
              orgId: endpoint.orgId,
              type: 'webhook.endpoint_disabled',
              occurredAt: new Date(),
              service: 'notifications',
              data: { endpointId: endpoint.id, url: endpoint.url, failures: number, ...(result.error ? { lastError: result.error } : {}) },
            },
          ]);
        }
      }
    });
    const context = { deliveryId: delivery.id, endpointId: endpoint.id, orgId: delivery.orgId, eventId: delivery.eventId, attempt: number, statusCode: result.statusCode, latencyMs: result.latencyMs };
    if (result.succeeded) log.debug('webhook delivered', context);
    else if (result.refused) log.warn('webhook refused: private address or bad URL, not retried', { ...context, error: result.error });
    else if (giveUp) log.warn('webhook delivery failed for good', { ...context, error: result.error });
    else log.info('webhook delivery failed: retried later', { ...context, error: result.error, nextAttemptAt: nextAt.toISOString() });
    if (endpointDisabled) {
      disabled.inc();
      log.warn('webhook endpoint disabled: its admins are notified', { endpointId: endpoint.id, orgId: endpoint.orgId });
      onEndpointDisabled();
    }
  };

  const sendDue = async (): Promise<number> => {
    const due = await withSystemTransaction(pool, (tx) => claimDueDeliveries(tx, concurrency, timeoutMs * 2 + 5_000));
    await Promise.all(due.map((d) => attempt(d).catch((err: unknown) => log.error('webhook attempt failed to record', { err, deliveryId: d.id }))));
    return due.length;
  };

  let running = false;
  let loop: Promise<void> | undefined;
  const { sleep, wake } = createWakeableSleep(() => running);

  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let nextDueInMs: number | undefined = 0;
          try {
            while (running && (await sendDue()) > 0) {
              // Keep going while deliveries are due.
            }
            // A retry's time; new deliveries and endpoint changes wake the loop.
            nextDueInMs = await deliveryDueInMs(pool);
          } catch (err) {
            log.error('webhook sender cycle failed', { err });
            nextDueInMs = 0;
          }
          await sleep(idleSleepMs(nextDueInMs, pollMs, idleMaxMs));
        }
      })();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      loop = undefined;
      await fetcher.close();
    },
    wake,
    sendDue,
  };
}
