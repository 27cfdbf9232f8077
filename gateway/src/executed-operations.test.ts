import * as internals from '@apollo/federation-internals';
import { parse, type DefinitionNode, type DocumentNode } from 'graphql';
import { rememberExecutedOperations } from './executed-operations';

const sdl = 'type Query { run(id: ID!): Run } type Run { id: ID! status: String! steps: [String!]! }';
const query = parse('query($id: ID!) { run(id: $id) { ...Fields status } } fragment Fields on Run { id steps }');
/** The document executeQueryPlan hands operationFromDocument: a new object per request around the same nodes. */
const executed = (definitions: readonly DefinitionNode[] = query.definitions): DocumentNode => ({ kind: query.kind, definitions: [...definitions] });
const asExecuted = { validate: false };

describe('rememberExecutedOperations (the Operation executeQueryPlan builds per request)', () => {
  it('answers the same Operation for the same schema and nodes, built as Apollo builds it', () => {
    const schema = internals.buildSchema(sdl);
    const remembered = rememberExecutedOperations(internals);
    const first = remembered.operationFromDocument(schema, executed(), asExecuted);
    expect(remembered.operationFromDocument(schema, executed(), asExecuted)).toBe(first);
    expect(first.toString()).toBe(internals.operationFromDocument(schema, executed(), asExecuted).toString());
    // The rest of the module is Apollo's own.
    expect(remembered.buildSchema).toBe(internals.buildSchema);
    expect(remembered.Operation).toBe(internals.Operation);
  });

  it('builds again for another schema, other fragment nodes, another call shape; a failure is not kept', () => {
    const schema = internals.buildSchema(sdl);
    const remembered = rememberExecutedOperations(internals);
    const first = remembered.operationFromDocument(schema, executed(), asExecuted);
    const otherSchema = internals.buildSchema(sdl);
    const forOther = remembered.operationFromDocument(otherSchema, executed(), asExecuted);
    expect(forOther).not.toBe(first);
    expect(forOther.schema()).toBe(otherSchema);
    // The same operation node with a fragment of the same name but other content (another parse).
    const otherFragment = parse('fragment Fields on Run { id }').definitions[0]!;
    const narrower = remembered.operationFromDocument(otherSchema, executed([query.definitions[0]!, otherFragment]), asExecuted);
    expect(narrower.toString()).not.toContain('steps');
    // Planning's call (validated, by operation name) is never answered from memory.
    const planned = remembered.operationFromDocument(schema, query, {});
    expect(remembered.operationFromDocument(schema, query, {})).not.toBe(planned);
    // A document whose fragment the schema cannot have fails each time.
    const bad = parse('query { run(id: "1") { ...Bad } } fragment Bad on Nope { id }');
    expect(() => remembered.operationFromDocument(schema, executed(bad.definitions), asExecuted)).toThrow(/Unknown type "Nope"/);
    expect(() => remembered.operationFromDocument(schema, executed(bad.definitions), asExecuted)).toThrow(/Unknown type "Nope"/);
  });
});
