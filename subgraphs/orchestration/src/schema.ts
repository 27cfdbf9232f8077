import { join } from 'node:path';
import { loadSubgraphTypeDefs } from '@orchestra/lib';

/** The subgraph SDL (with lib's @access/@audit declared), for the service and for gateway composition. */
export const typeDefs = loadSubgraphTypeDefs(join(__dirname, 'schema.graphql'));

/** Postgrator files of the orchestration schema. */
export const migrationsDir = join(__dirname, 'migrations');
