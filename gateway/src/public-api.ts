import { AppError } from '@orchestra/lib/gateway';
import { execute, Kind, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

/**
 * API keys may use only the public schema. The operation is validated against it; the first field
 * outside it is named in the FORBIDDEN error.
 */
export function checkPublicOperation(publicSchema: GraphQLSchema, document: DocumentNode): AppError | undefined {
  const errors = validate(publicSchema, document);
  if (errors.length === 0) return undefined;
  return new AppError('FORBIDDEN', `API keys can use only the public schema: ${errors[0]!.message}`, { reason: 'NOT_IN_PUBLIC_SCHEMA' });
}

const operationsOf = (document: DocumentNode): OperationDefinitionNode[] =>
  document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

/** True when every root field of every operation is an introspection field (__schema, __type, __typename). */
export function isIntrospectionOnly(document: DocumentNode): boolean {
  const operations = operationsOf(document);
  return (
    operations.length > 0 &&
    operations.every((op) => op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')))
  );
}

/** Answers an introspection query from the public schema (API keys never see the rest). */
export async function introspectPublic(publicSchema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): Promise<ExecutionResult> {
  return execute({ schema: publicSchema, document, variableValues: variables ?? null, operationName: operationName ?? null });
}
