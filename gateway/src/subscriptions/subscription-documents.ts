import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { Principal } from '@orchestra/lib/gateway';

/** A subscribe message's document, valid for its caller, and the operation it names. */
export interface CheckedDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

export const inputError = (message: string, reason: string, requestId: string): GraphQLError[] => [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason, requestId } })];

/** A bounded map, oldest first out. */
function boundedMap<V>(max: number) {
  const map = new Map<string, V>();
  return {
    get: (key: string) => map.get(key),
    set(key: string, value: V) {
      if (map.size >= max) map.delete(map.keys().next().value as string);
      map.set(key, value);
    },
  };
}

/**
 * Subscription documents, parsed and validated once per query text: subscribers of the same query
 * share the document (and what it was validated to). API keys are held to the public API's schema.
 */
export function createSubscriptionDocuments(schema: GraphQLSchema, publicSchema: GraphQLSchema | undefined) {
  const documents = boundedMap<DocumentNode>(2_000);
  const validations = new WeakMap<DocumentNode, { api: readonly GraphQLError[]; public?: readonly GraphQLError[] }>();
  const validated = (document: DocumentNode, publicOnly: boolean): readonly GraphQLError[] => {
    let known = validations.get(document);
    if (!known) validations.set(document, (known = { api: validate(schema, document) }));
    if (!publicOnly || !publicSchema || known.api.length > 0) return known.api;
    known.public ??= validate(publicSchema, document);
    return known.public;
  };

  return {
    /** The document and operation of `payload` for `caller`, or the errors to answer with (BAD_USER_INPUT, FORBIDDEN for the public API). */
    check(payload: SubscribePayload, caller: Principal | undefined, requestId: string): readonly GraphQLError[] | CheckedDocument {
      let document = documents.get(payload.query);
      if (!document) {
        try {
          document = parse(payload.query, { maxTokens: 20_000 });
        } catch (error) {
          return inputError((error as Error).message, 'GRAPHQL_PARSE_FAILED', requestId);
        }
        documents.set(payload.query, document);
      }
      const invalid = validated(document, false);
      if (invalid.length > 0) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED', requestId } }));
      if (caller?.kind === 'apiKey' && publicSchema) {
        const notPublic = validated(document, true);
        if (notPublic.length > 0) {
          return notPublic.map((e) => new GraphQLError(`API keys may use the public API only: ${e.message}`, { nodes: e.nodes ?? null, extensions: { code: 'FORBIDDEN', reason: 'NOT_IN_PUBLIC_API', requestId } }));
        }
      }
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) return inputError('name the operation to run', 'OPERATION_NAME_REQUIRED', requestId);
      return { document, operation };
    },
  };
}
