import './apollo-lean';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
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

type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A subgraph's answer as JSON when it says it is JSON, else as text (as Apollo's data source reads it). */
function parseBody(response: FetcherResponse): Promise<unknown> {
  const contentType = response.headers.get('content-type');
  return contentType && (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json')) ? response.json() : response.text();
}

/** A non-2xx answer as the GraphQLError Apollo's data source makes of it (status, text and body in extensions). */
async function errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
  const body = await parseBody(response);
  const code = response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : undefined;
  return new GraphQLError(`${response.status}: ${response.statusText}`, {
    extensions: { response: { url: response.url, status: response.status, statusText: response.statusText, body }, ...(code ? { code } : {}) },
  });
}

/**
 * Calls one subgraph for Apollo Gateway, with the caller's gateway-signed principal, the request id
 * and the trace. A subgraph that cannot be reached (connection refused, reset, timed out) or answers
 * 502/503/504 becomes UNAVAILABLE naming the service (clients may retry), not a masked INTERNAL error.
 *
 * It does what Apollo's RemoteGraphQLDataSource does with this gateway's settings (no automatic
 * persisted queries; answers are never cached, so subgraphs' cache-control headers are not read),
 * through the same fetcher, without the node-fetch Headers and Request objects that class builds around
 * every call and does not use with a fetcher of its own (~1.3% of the gateway's busy time, and their garbage).
 */
export class SignedPrincipalDataSource implements GraphQLDataSource<GatewayContext> {
  readonly url: string;
  private readonly serviceName: string;
  private readonly fetcher: Fetcher;

  constructor({ name, url, fetcher }: { name: string; url: string; fetcher: Fetcher }) {
    this.serviceName = name;
    this.url = url;
    this.fetcher = fetcher;
  }

  async process({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    if (!request.query) throw new Error('Missing query');
    const headers: Record<string, string> = {};
    // What the gateway itself put on the call (e.g. live composition's introspection headers).
    if (request.http?.headers) {
      for (const [name, value] of request.http.headers) {
        const key = name.toLowerCase();
        headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
      }
    }
    headers['content-type'] = 'application/json';
    const ctx = context as Partial<GatewayContext>;
    if (ctx.principalHeader !== undefined && ctx.requestId !== undefined) {
      headers[PRINCIPAL_HEADER] = ctx.principalHeader;
      headers['x-request-id'] = ctx.requestId;
      if (ctx.principal?.traceparent) headers['traceparent'] = ctx.principal.traceparent;
    }
    const { http: _http, query, ...rest } = request;
    let response: FetcherResponse | undefined;
    try {
      response = await this.fetcher(this.url, { method: 'POST', headers, body: JSON.stringify({ query, ...rest }) });
      if (!response.ok) throw await errorFromResponse(response);
      const body = await parseBody(response);
      if (!isObject(body)) throw new Error(`Expected JSON response body, but received: ${String(body)}`);
      return { ...body, http: response };
    } catch (error) {
      this.didEncounterError(error as Error, response, ctx);
      throw error;
    }
  }

  private didEncounterError(error: Error, response: FetcherResponse | undefined, context: Partial<GatewayContext>): void {
    const status = response?.status;
    if (response !== undefined && (status === undefined || !UNAVAILABLE_STATUSES.has(status))) throw error;
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const why = status !== undefined ? `it answered ${status}` : (cause?.code ?? cause?.message ?? error.message);
    context.log?.warn('subgraph unavailable', { subgraph: this.serviceName, url: this.url, why, requestId: context.requestId });
    throw new GraphQLError(`the ${this.serviceName} service is unavailable right now; try again shortly`, {
      extensions: { code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: this.serviceName },
    });
  }
}
