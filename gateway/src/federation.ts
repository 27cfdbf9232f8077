import './apollo-lean';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { AppError, lazyChild, newRequestId, PRINCIPAL_HEADER, servicePrincipal, type Logger, type Principal, type PrincipalSigner } from '@orchestra/lib/gateway';
import { buildPublicSchema, publicTagsOf } from './compose/public-schema';
import { SUBGRAPH_NAMES, subgraphUrlOverrides, type GatewayConfig } from './config';
import type { GatewayContext } from './context';
import { depthLimitRule } from './depth-limit';
import { errorShapingPlugin } from './error-shaping';
import { createSubgraphFetcher, SignedPrincipalDataSource } from './subgraph-datasource';

/** Runs an operation through the federated query plan as `principal` (subscriptions, the usage export). */
export type ExecuteFederated = (args: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }) => Promise<ExecutionResult>;

export interface Federation {
  /** Apollo Server over Apollo Gateway, started. */
  server: ApolloServer<GatewayContext>;
  /** The API schema (queries and mutations of the supergraph); undefined until it has loaded. */
  apiSchema(): GraphQLSchema | undefined;
  /** The public schema (what API keys may use); undefined until the supergraph has loaded. */
  publicSchema(): GraphQLSchema | undefined;
  /** Subgraph name → the URL the gateway calls it at. */
  subgraphUrls: ReadonlyMap<string, string>;
  executeFederated: ExecuteFederated;
  /** The context a request runs in: its principal, signed once for every subgraph call it makes. */
  contextFor(principal: Principal, requestId: string, log: Logger): Promise<GatewayContext>;
  stop(): Promise<void>;
}

/**
 * Apollo Gateway (supergraph from a file, or composed live from the subgraphs) under Apollo Server,
 * calling every subgraph with the request's signed principal, and the API and public schemas it serves.
 */
export async function startFederation(deps: { config: GatewayConfig; log: Logger; signer: PrincipalSigner; supergraphSdl?: string | undefined }): Promise<Federation> {
  const { config, log, signer } = deps;
  const overrides = subgraphUrlOverrides(config);
  const subgraphUrls = new Map<string, string>();
  const subgraphFetch = createSubgraphFetcher();
  const gateway = new ApolloGateway({
    ...(config.SUPERGRAPH_MODE === 'live'
      ? {
          supergraphSdl: new IntrospectAndCompose({
            subgraphs: SUBGRAPH_NAMES.filter((name) => overrides[name] !== undefined).map((name) => ({ name, url: overrides[name]! })),
            pollIntervalInMs: 5_000,
            introspectionHeaders: async () => ({ [PRINCIPAL_HEADER]: await signer.sign(servicePrincipal('gateway', newRequestId())) }),
          }),
        }
      : { supergraphSdl: deps.supergraphSdl ?? '' }),
    buildService: ({ name, url }) => {
      const resolved = overrides[name as keyof typeof overrides] ?? url ?? '';
      subgraphUrls.set(name, resolved);
      return new SignedPrincipalDataSource({ name, url: resolved, fetcher: subgraphFetch.fetcher });
    },
    logger: {
      debug: (m: unknown) => log.debug(String(m)),
      info: (m: unknown) => log.info(String(m)),
      warn: (m: unknown) => log.warn(String(m)),
      error: (m: unknown) => log.error(String(m)),
    },
  });

  let apiSchema: GraphQLSchema | undefined;
  let publicSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: next, coreSupergraphSdl }) => {
    apiSchema = next;
    publicSchema = buildPublicSchema(next, publicTagsOf(coreSupergraphSdl));
    log.info('supergraph loaded', { subgraphs: [...subgraphUrls.keys()] });
  });

  const server = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // main.ts owns signals (runMain drains everything in order); Apollo's own handler would re-raise them.
    stopOnTerminationSignals: false,
    validationRules: [depthLimitRule(config.MAX_QUERY_DEPTH)],
    parseOptions: { maxTokens: config.MAX_QUERY_TOKENS },
    // Every answer is per caller and the HTTP route marks it no-store (graphql-handler.ts); Apollo's
    // cache-control plugin would work that out again on every request (hints, header parsing).
    plugins: [errorShapingPlugin(log), ApolloServerPluginCacheControlDisabled()],
  });
  await server.start();

  const contextFor: Federation['contextFor'] = async (principal, requestId, requestLog) => ({
    principal,
    // Who the caller is, signed once per caller (every 30 s); the request id and trace travel beside it.
    principalHeader: await signer.signIdentity(principal),
    requestId,
    log: requestLog,
  });

  const executeFederated: ExecuteFederated = async ({ document, variables, principal }) => {
    const requestId = principal.requestId || newRequestId();
    const context = await contextFor(principal, requestId, lazyChild(log, () => ({ requestId, principal: principal.id, orgId: principal.orgId })));
    const result = await server.executeOperation({ query: document, ...(variables ? { variables } : {}) }, { contextValue: context });
    if (result.body.kind !== 'single') throw new AppError('INTERNAL', 'incremental delivery is not supported here');
    return result.body.singleResult as ExecutionResult;
  };

  return {
    server,
    apiSchema: () => apiSchema,
    publicSchema: () => publicSchema,
    subgraphUrls,
    executeFederated,
    contextFor,
    async stop() {
      await server.stop();
      await subgraphFetch.close();
    },
  };
}

/** Reads a supergraph file, saying which file when it cannot. */
export function readSupergraph(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the supergraph at ${path}: ${(error as Error).message}`, { cause: error });
  }
}
