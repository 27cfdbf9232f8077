import { join } from 'node:path';
import { loadSubgraphTypeDefs } from '@orchestra/lib';

/** The notifications subgraph's SDL with the project's directives declared (for the service and for composition). */
export const typeDefs = loadSubgraphTypeDefs(join(__dirname, 'schema.graphql'));
