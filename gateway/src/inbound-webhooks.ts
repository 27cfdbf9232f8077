import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toAppError, unaryCall, ERROR_CODES, type Logger, type Metrics } from '@orchestra/lib/gateway';
import type { orchestrationV1 } from '@orchestra/proto';

/**
 * POST /hooks/<trigger id> — inbound webhooks from third parties (issue 10). The gateway reads the
 * raw body (never parsed here: the signature is over its exact bytes) up to its limit and hands it,
 * with the X-Orchestra-Timestamp / X-Orchestra-Signature / Idempotency-Key headers and the caller's
 * IP, to OrchestrationService.DeliverWebhook, which verifies the HMAC with the trigger's secret,
 * applies the hook's rate limit and records the delivery, accepted or refused. A body past the limit
 * is counted (not kept) and still reported, so the refusal is in the trigger's delivery log. A flood
 * from one IP is held back here first by the anonymous per-IP limit (not recorded: it names no hook
 * it proved anything about).
 */

export interface InboundWebhookDeps {
  orchestration: orchestrationV1.OrchestrationServiceClient;
  internalToken: string;
  maxBodyBytes: number;
  log: Logger;
  metrics: Metrics;
  /** Per-IP limit (the anonymous limiter): true when the request may go on. */
  allow(request: FastifyRequest): { allowed: boolean; retryAfterMs: number };
}

/** What the gateway read of a body: the bytes, or (past the limit) only how many there were. */
interface ReadBody {
  bytes: Buffer;
  tooLarge: boolean;
  length: number;
}

/** Past this many times the limit the connection is dropped rather than drained. */
const DRAIN_FACTOR = 16;

const STATUS_OF_REFUSAL: Record<string, number> = {
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  NO_WEBHOOK: 404,
  MISSING_SIGNATURE: 401,
  STALE_TIMESTAMP: 401,
  BAD_SIGNATURE: 401,
};

const header = (request: FastifyRequest, name: string): string => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.slice(0, 1_000) ?? '';
};

export function registerInboundWebhooks(app: FastifyInstance, deps: InboundWebhookDeps): void {
  const { orchestration, internalToken, maxBodyBytes, log } = deps;
  const answered = deps.metrics.counter('inbound_webhooks_total', 'Inbound webhook requests, by outcome', ['outcome']);

  // Its own scope: every content type is read as raw bytes here, and only here.
  void app.register((scope, _options, registered) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { bodyLimit: maxBodyBytes * DRAIN_FACTOR }, (_request, payload, done) => {
      const chunks: Buffer[] = [];
      let length = 0;
      payload.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length <= maxBodyBytes) chunks.push(chunk);
      });
      payload.on('end', () => done(null, { bytes: length <= maxBodyBytes ? Buffer.concat(chunks) : Buffer.alloc(0), tooLarge: length > maxBodyBytes, length } satisfies ReadBody));
      payload.on('error', (err) => done(err, undefined));
    });

    scope.post<{ Params: { id: string } }>('/hooks/:id', async (request, reply: FastifyReply) => {
      const requestId = request.id;
      const limited = deps.allow(request);
      if (!limited.allowed) {
        answered.inc({ outcome: 'ip_rate_limited' });
        return reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000)))).send({ accepted: false, reason: 'RATE_LIMITED', message: 'too many requests from this address' });
      }
      const body = (request.body as ReadBody | undefined) ?? { bytes: Buffer.alloc(0), tooLarge: false, length: 0 };
      try {
        const answer = await unaryCall(
          orchestration,
          orchestration.deliverWebhook,
          {
            triggerId: request.params.id.slice(0, 100),
            timestamp: header(request, 'x-orchestra-timestamp'),
            signature: header(request, 'x-orchestra-signature'),
            body: body.bytes,
            bodyTooLarge: body.tooLarge,
            bodyBytes: Math.min(body.length, 2 ** 31 - 1),
            idempotencyKey: header(request, 'idempotency-key').slice(0, 200),
            sourceIp: request.ip,
            requestId,
          },
          { internalToken },
          { requestId, deadlineMs: 10_000 },
        );
        answered.inc({ outcome: answer.accepted ? 'accepted' : answer.reason.toLowerCase() });
        const status = answer.accepted ? 202 : (STATUS_OF_REFUSAL[answer.reason] ?? 400);
        return reply
          .code(status)
          .header('cache-control', 'no-store')
          .send(answer.accepted ? { accepted: true, deliveryId: answer.deliveryId, eventId: answer.eventId, runIds: answer.runIds } : { accepted: false, reason: answer.reason, message: answer.message, deliveryId: answer.deliveryId });
      } catch (error) {
        const appError = toAppError(error);
        answered.inc({ outcome: appError.code.toLowerCase() });
        if (appError.code === 'INTERNAL' || appError.code === 'UNAVAILABLE') log.warn('inbound webhook failed', { err: error, requestId });
        const status = appError.code === 'NOT_FOUND' ? 404 : ERROR_CODES[appError.code].http;
        return reply.code(status).header('cache-control', 'no-store').send({ accepted: false, reason: appError.code === 'NOT_FOUND' ? 'NOT_FOUND' : appError.code, message: appError.code === 'NOT_FOUND' ? 'no such webhook' : appError.message, requestId });
      }
    });
    registered();
  });
}
