import { join } from 'node:path';
import { loadSubgraphTypeDefs } from '@orchestra/lib';

/** identity's subgraph SDL with the project's directives declared (for the service and gateway composition). */
export const typeDefs = loadSubgraphTypeDefs(join(__dirname, 'schema.graphql'));

/** identity's postgrator migrations. */
export const migrationsDir = join(__dirname, 'migrations');
