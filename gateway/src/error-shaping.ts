import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { isErrorCode, type Logger } from '@orchestra/lib/gateway';
import type { GatewayContext } from './context';

const CLIENT_INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_SUPPORTED']);

/**
 * Puts every error a client sees into the registry's shape: a registry code, a clear message and the
 * request id. Anything unexpected becomes INTERNAL with only the request id (the cause is logged).
 */
export function shapeError(error: GraphQLFormattedError, requestId: string): GraphQLFormattedError {
  const { stacktrace: _stack, serviceName: _service, exception: _exception, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
  const code = extensions['code'];
  const base = { ...(error.locations ? { locations: error.locations } : {}), ...(error.path ? { path: error.path } : {}) };
  if (isErrorCode(code) && code !== 'INTERNAL') return { ...base, message: error.message, extensions: { ...extensions, requestId } };
  if (code === 'INTERNAL' && typeof error.message === 'string' && error.message.startsWith('Internal error (request id')) {
    return { ...base, message: error.message, extensions: { ...extensions, requestId } };
  }
  if (typeof code === 'string' && CLIENT_INPUT_CODES.has(code)) {
    // Our own validation rules set a finer reason (e.g. QUERY_TOO_DEEP); Apollo overwrites only the code.
    const reason = typeof extensions['reason'] === 'string' ? extensions['reason'] : code;
    return { ...base, message: error.message, extensions: { code: 'BAD_USER_INPUT', reason, requestId } };
  }
  return { ...base, message: `Internal error (request id ${requestId})`, extensions: { code: 'INTERNAL', requestId } };
}

export function errorShapingPlugin(log: Logger): ApolloServerPlugin<GatewayContext> {
  // One listener for every request (it keeps nothing per request): no objects made per request.
  const listener: GraphQLRequestListener<GatewayContext> = {
    async didEncounterErrors({ errors, contextValue }) {
      for (const error of errors) {
        const code = error.extensions?.['code'];
        const clientInput = typeof code === 'string' && CLIENT_INPUT_CODES.has(code);
        if ((!isErrorCode(code) || code === 'INTERNAL') && !clientInput) {
          contextValue.log.error('graphql request failed', { err: error.originalError ?? error, path: error.path, code });
        } else {
          // What the client did wrong, one line each, so the request id a client reports finds it.
          const { reason, field } = error.extensions ?? {};
          contextValue.log.info('graphql error returned', { code, reason, field, path: error.path, message: error.message });
        }
      }
      await Promise.resolve();
    },
    async willSendResponse({ response, contextValue }) {
      if (response.body.kind === 'single' && response.body.singleResult.errors) {
        response.body.singleResult.errors = response.body.singleResult.errors.map((e) => shapeError(e, contextValue.requestId));
      }
      await Promise.resolve();
    },
  };
  const started = Promise.resolve(listener);
  return {
    requestDidStart: () => started,
    async unexpectedErrorProcessingRequest({ error }) {
      log.error('unexpected error processing a request', { err: error });
      await Promise.resolve();
    },
  };
}
