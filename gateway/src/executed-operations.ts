import { Kind, type DefinitionNode, type DocumentNode } from 'graphql';

type OperationFromDocument = (schema: object, document: DocumentNode, options?: { operationName?: string; validate?: boolean }) => unknown;

/**
 * Apollo Gateway's executeQueryPlan builds federation-internals' Operation for every request it
 * executes (`operationFromDocument(apiSchema, { definitions: [operation, ...fragments] }, { validate:
 * false })`, to shape the answer), even when its query plan came from the plan cache: 5.3% of the
 * gateway's busy time under the one-step bench. The Operation depends only on the schema and those AST
 * nodes, which Apollo Server keeps per query text (its document store), and nothing writes to it while
 * shaping. This keeps the last Operation per operation node (weakly: it goes when Apollo drops the
 * parsed document) and answers again while the schema and the fragment nodes are the same ones; any
 * other call, or a failed one, goes to Apollo's function as it is.
 *
 * `internals` is @apollo/federation-internals as executeQueryPlan requires it (apollo-lean.ts hands it
 * this view): everything else is the module's own.
 */
export function rememberExecutedOperations<T extends object>(internals: T): T {
  const build = (internals as unknown as { operationFromDocument: OperationFromDocument }).operationFromDocument;
  const known = new WeakMap<DefinitionNode, { schema: object; fragments: readonly DefinitionNode[]; operation: unknown }>();
  const operationFromDocument: OperationFromDocument = (schema, document, options) => {
    const [first, ...fragments] = document.definitions;
    if (options?.validate !== false || options.operationName !== undefined || first?.kind !== Kind.OPERATION_DEFINITION) return build(schema, document, options);
    const seen = known.get(first);
    if (seen && seen.schema === schema && seen.fragments.length === fragments.length && seen.fragments.every((f, i) => f === fragments[i])) return seen.operation;
    const operation = build(schema, document, options);
    known.set(first, { schema, fragments, operation });
    return operation;
  };
  return Object.create(internals, { operationFromDocument: { value: operationFromDocument, enumerable: true } }) as T;
}
