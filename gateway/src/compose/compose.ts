import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import type { DocumentNode, GraphQLSchema } from 'graphql';

// The public schema's rules live apart (public-schema.ts): the gateway builds it at every supergraph
// load, and must not load composition for that (apollo-lean.ts).
export { buildPublicSchema, PUBLIC_TAG, publicTagsOf } from './public-schema';

export interface SubgraphSource {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

/** Composes the subgraphs into a supergraph SDL, or throws listing every composition error. */
export function composeSupergraph(subgraphs: SubgraphSource[]): string {
  const result = composeServices(subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs })));
  if (result.errors) {
    throw new Error(`supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

/** The schema clients see (join/link machinery removed), from a supergraph SDL. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

