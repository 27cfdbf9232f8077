import './apollo-lean';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, type Dispatcher } from 'undici';
import { PRINCIPAL_HEADER } from '@orchestra/lib/gateway';
import type { GatewayContext } from './context';

/**
 * The fetcher every subgraph data source shares: undici's dispatcher with pooled keep-alive connections,
 * called without `fetch`. undici's fetch builds WHATWG Request/Response/Headers objects and a web stream
 * per call, ~25% of the gateway's CPU on startRun; a subgraph's answer is always read whole, so this
 * collects the body's chunks in the dispatch handler and answers with a small buffered FetcherResponse.
 * Timeouts are the dispatcher's (headers and body, 300 s each). No accept-encoding is sent (compressing
 * on loopback costs CPU at both ends); an answer compressed anyway is decompressed as fetch would.
 */
export function createSubgraphFetcher({ connectionsPerOrigin = 64 }: { connectionsPerOrigin?: number } = {}): { fetcher: Fetcher; close(): Promise<void> } {
  const dispatcher = new Agent({ connections: connectionsPerOrigin, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string): { origin: string; path: string } => {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      // Subgraph URLs are a handful; a caller handing arbitrary URLs must not grow this without bound.
      if (targets.size < 256) targets.set(url, target);
    }
    return target;
  };
  const fetcher: Fetcher = (url, init = {}) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const signal = init.signal as AbortSignal | undefined;
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const { origin, path } = targetOf(url);
      const chunks: Buffer[] = [];
      let status = 0;
      let statusText = '';
      let headers: IncomingHttpHeaders = {};
      let controller: Dispatcher.DispatchController | undefined;
      const onAbort = (): void => controller?.abort(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          if (signal?.aborted) c.abort(signal.reason as Error);
        },
        onResponseStart: (_c, statusCode, responseHeaders, statusMessage) => {
          status = statusCode;
          headers = responseHeaders;
          statusText = statusMessage || (STATUS_CODES[statusCode] ?? '');
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          signal?.removeEventListener('abort', onAbort);
          try {
            resolve(new BufferedResponse(url, status, statusText, headers, decode(chunks, headers['content-encoding'])));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
        onResponseError: (_c, error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      dispatcher.dispatch({ origin, path, method: init.method ?? 'GET', headers: init.headers ?? null, body: init.body ?? null }, handler);
    });
  return { fetcher, close: () => dispatcher.close() };
}

/** The body's bytes, decompressed when the answer says it is compressed (fetch does the same). */
function decode(chunks: Buffer[], encoding: string | string[] | undefined): Buffer {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (encoding === undefined || body.length === 0) return body;
  let decoded = body;
  // Listed in the order applied; undone last first.
  for (const coding of String(encoding).toLowerCase().split(',').map((c) => c.trim()).reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') decoded = gunzipSync(decoded);
    else if (coding === 'deflate') decoded = inflateSync(decoded);
    else if (coding === 'br') decoded = brotliDecompressSync(decoded);
    else if (coding !== 'identity' && coding !== '') throw new Error(`unsupported content-encoding from subgraph: ${coding}`);
  }
  return decoded;
}

/** Response headers as undici parsed them (names lower-cased), behind the fetch Headers interface Apollo reads. */
class ResponseHeaders implements FetcherHeaders {
  constructor(private readonly fields: Record<string, string | string[] | undefined>) {}
  get(name: string): string | null {
    const value = this.fields[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.fields[name.toLowerCase()] !== undefined;
  }
  set(name: string, value: string): void {
    this.fields[name.toLowerCase()] = value;
  }
  append(name: string, value: string): void {
    const current = this.get(name);
    this.fields[name.toLowerCase()] = current === null ? value : `${current}, ${value}`;
  }
  delete(name: string): void {
    delete this.fields[name.toLowerCase()];
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.fields).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** A subgraph's whole answer, read before the caller sees it: text(), json() and arrayBuffer() may each be called, clone() is free. */
class BufferedResponse implements FetcherResponse {
  readonly redirected = false;
  readonly bodyUsed = false;
  readonly headers: ResponseHeaders;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    private readonly rawHeaders: IncomingHttpHeaders,
    private readonly body: Buffer,
  ) {
    this.headers = new ResponseHeaders(rawHeaders);
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  text(): Promise<string> {
    return Promise.resolve(this.body.toString('utf8'));
  }
  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.body.toString('utf8')) as unknown);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength) as ArrayBuffer);
  }
  clone(): FetcherResponse {
    return new BufferedResponse(this.url, this.status, this.statusText, { ...this.rawHeaders }, this.body);
  }
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
    // fetch wrapped the network error as its cause; the dispatcher rejects with it directly.
    const { cause, code } = error as Error & { code?: string; cause?: { code?: string; message?: string } };
    const why = status !== undefined ? `it answered ${status}` : (cause?.code ?? cause?.message ?? code ?? error.message);
    context.log?.warn('subgraph unavailable', { subgraph: this.serviceName, url: this.url, why, requestId: context.requestId });
    throw new GraphQLError(`the ${this.serviceName} service is unavailable right now; try again shortly`, {
      extensions: { code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: this.serviceName },
    });
  }
}
