import { GraphQLError } from 'graphql';
import { toAppError } from './errors';

/**
 * The error a GraphQL client sees. INTERNAL errors are masked: the message names only the request id,
 * the cause stays in the log.
 */
export function toClientGraphQLError(error: unknown, requestId: string, path?: ReadonlyArray<string | number>): GraphQLError {
  const appError = toAppError(error);
  const masked = appError.code === 'INTERNAL';
  return new GraphQLError(masked ? `Internal error (request id ${requestId})` : appError.message, {
    ...(path === undefined ? {} : { path }),
    extensions: { ...(masked ? { code: 'INTERNAL' } : appError.extensions()), requestId },
  });
}
