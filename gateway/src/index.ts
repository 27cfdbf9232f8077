import './apollo-lean';
export { createGateway, readSupergraph, type GatewayDeps, type GatewayHandle } from './gateway';
export { gatewayConfigSchema, type GatewayConfig } from './config';
export { apiSchemaOf, buildPublicSchema, composeSupergraph, publicTagsOf } from './compose/compose';
export { composeCurrentSupergraph } from './compose/subgraphs';
export { createSubgraphFetcher } from './subgraph-datasource';
