import './apollo-lean';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { Agent, fetch as undiciFetch } from 'undici';
import { PRINCIPAL_HEADER } from '@orchestra/lib/gateway';
import type { GatewayContext } from './context';

/**
 * The fetcher every subgraph data source shares: undici with pooled keep-alive connections. (Apollo's
 * default, make-fetch-happen, costs several times more CPU per request on this path.)
 */
export function createSubgraphFetcher({ connectionsPerOrigin = 64 }: { connectionsPerOrigin?: number } = {}): { fetcher: Fetcher; close(): Promise<void> } {
  const dispatcher = new Agent({ connections: connectionsPerOrigin, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
  const fetcher: Fetcher = (url, init) => undiciFetch(url, { ...init, dispatcher });
  return { fetcher, close: () => dispatcher.close() };
}

/** Statuses with which a subgraph (or a proxy in front of it) says it cannot serve right now. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * Sends every subgraph request with the caller's gateway-signed principal and the request id. A
 * subgraph that cannot be reached (connection refused, reset, timed out) or answers 502/503/504
 * becomes UNAVAILABLE naming the service (clients may retry), not a masked INTERNAL error.
 */
export class SignedPrincipalDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly serviceName: string;

  constructor({ name, ...options }: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0] & { name: string }) {
    super(options);
    this.serviceName = name;
  }

  override didEncounterError(error: Error, _request: unknown, response?: FetcherResponse, context?: Partial<GatewayContext>): void {
    const status = response?.status;
    if (response !== undefined && (status === undefined || !UNAVAILABLE_STATUSES.has(status))) throw error;
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const why = status !== undefined ? `it answered ${status}` : (cause?.code ?? cause?.message ?? error.message);
    context?.log?.warn('subgraph unavailable', { subgraph: this.serviceName, url: this.url, why, requestId: context.requestId });
    throw new GraphQLError(`the ${this.serviceName} service is unavailable right now; try again shortly`, {
      extensions: { code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: this.serviceName },
    });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const ctx = context as Partial<GatewayContext>;
    if (ctx.principalHeader === undefined || ctx.requestId === undefined) return;
    request.http?.headers.set(PRINCIPAL_HEADER, ctx.principalHeader);
    request.http?.headers.set('x-request-id', ctx.requestId);
    if (ctx.principal?.traceparent) request.http?.headers.set('traceparent', ctx.principal.traceparent);
  }
}
