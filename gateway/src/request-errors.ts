import type { FastifyError, FastifyInstance } from 'fastify';
import { toClientGraphQLError, AppError, type Logger } from '@orchestra/lib/gateway';

/** Fastify's own request failures (before any route runs) and the reason a client is told. */
const REQUEST_FAILURES: Record<string, { reason: string; message: (error: FastifyError, bodyLimit: number) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { reason: 'BODY_TOO_LARGE', message: (_e, limit) => `the request body is larger than ${limit} bytes` },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { reason: 'BAD_CONTENT_LENGTH', message: () => 'the request body does not match its Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { reason: 'EMPTY_BODY', message: () => 'the request body is empty; send a JSON object { "query": ... }' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { reason: 'UNSUPPORTED_MEDIA_TYPE', message: () => 'send GraphQL requests as application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { reason: 'INVALID_JSON', message: () => 'the request body is not valid JSON' },
};

/**
 * Answers requests Fastify could not read (too large, not JSON, wrong content type) as GraphQL
 * errors with code BAD_REQUEST and a reason, in the status Fastify chose; they are the client's
 * mistake and are logged at info (lib's http app does that). Anything else stays INTERNAL, masked.
 */
export function registerRequestErrorHandler(app: FastifyInstance, { bodyLimit, log }: { bodyLimit: number; log: Logger }): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    const known = error.code ? REQUEST_FAILURES[error.code] : undefined;
    // A body that is not JSON reaches here as a SyntaxError with status 400.
    const invalidJson = !known && status === 400 && error instanceof SyntaxError;
    if (status >= 400 && status < 500) {
      const reason = known?.reason ?? (invalidJson ? 'INVALID_JSON' : (error.code ?? 'BAD_REQUEST'));
      const message = known ? known.message(error, bodyLimit) : invalidJson ? 'the request body is not valid JSON' : error.message;
      const appError = new AppError('BAD_REQUEST', message, { reason });
      return reply.code(status).send({ errors: [toClientGraphQLError(appError, request.id).toJSON()] });
    }
    log.error('request failed', { err: error, requestId: request.id });
    return reply.code(500).send({ errors: [toClientGraphQLError(error, request.id).toJSON()] });
  });
}
