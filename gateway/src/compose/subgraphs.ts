import { DEFAULT_PORTS } from '@orchestra/lib/gateway';
import { typeDefs as auditTypeDefs } from '@orchestra/audit';
import { typeDefs as catalogTypeDefs } from '@orchestra/catalog';
import { typeDefs as identityTypeDefs } from '@orchestra/identity';
import { typeDefs as notificationsTypeDefs } from '@orchestra/notifications';
import { typeDefs as orchestrationTypeDefs } from '@orchestra/orchestration';
import { composeSupergraph, type SubgraphSource } from './compose';

const localUrl = (port: number) => `http://127.0.0.1:${port}/graphql`;

/**
 * The subgraphs composed into gateway/supergraph.graphql, with the routing URLs `npm start` uses.
 * Deployments override them with SUBGRAPH_<NAME>_URL.
 */
export const SUBGRAPHS: SubgraphSource[] = [
  { name: 'identity', url: localUrl(DEFAULT_PORTS.identity.http), typeDefs: identityTypeDefs },
  { name: 'catalog', url: localUrl(DEFAULT_PORTS.catalog.http), typeDefs: catalogTypeDefs },
  { name: 'orchestration', url: localUrl(DEFAULT_PORTS.orchestration.http), typeDefs: orchestrationTypeDefs },
  { name: 'audit', url: localUrl(DEFAULT_PORTS.audit.http), typeDefs: auditTypeDefs },
  { name: 'notifications', url: localUrl(DEFAULT_PORTS.notifications.http), typeDefs: notificationsTypeDefs },
];

/** The supergraph of the subgraphs as they are in this tree (what `npm run codegen` commits). */
export const composeCurrentSupergraph = (): string => composeSupergraph(SUBGRAPHS);
