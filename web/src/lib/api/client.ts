import type { TypedDocumentString } from './__generated__/graphql';
import { apiErrorFromGraphQL, isRefreshable, networkError, type GraphQLErrorJson } from './errors';
import type { Session } from './session';

export interface ApiClientDeps {
  /** The gateway's GraphQL endpoint; the app is served from the gateway, so '/graphql'. */
  url: string;
  session: Pick<Session, 'getAccessToken' | 'refresh'>;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Sign-in, sign-up, token refresh and invitations are made without a token. Default true. */
  authenticated?: boolean;
  signal?: AbortSignal | undefined;
  /**
   * Send this access token as it is, without refreshing: for calls made while the session's rotation
   * lock is held (switchOrganization), where a refresh would wait for that same lock.
   */
  token?: string | undefined;
}

export interface ApiClient {
  request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables, options?: RequestOptions): Promise<TResult>;
}

const operationNameOf = (document: string): string | undefined => /\b(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(document)?.[1];

/**
 * Sends GraphQL over HTTP with the session's access token. A token the gateway refuses as expired or
 * revoked is refreshed (once, shared with every other request that hit the same refusal) and the
 * request is sent again; every other error is thrown as an ApiError.
 */
export function createApiClient(deps: ApiClientDeps): ApiClient {
  const doFetch = deps.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send(query: string, variables: unknown, token: string | undefined, signal: AbortSignal | undefined): Promise<{ data: unknown; errors?: GraphQLErrorJson[]; status: number; requestId: string | null }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await doFetch(deps.url, { method: 'POST', headers, body: JSON.stringify({ query, variables: variables ?? {}, operationName: operationNameOf(query) }), signal: signal ?? null });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw networkError(error);
    }
    const requestId = response.headers.get('x-request-id');
    let body: { data?: unknown; errors?: GraphQLErrorJson[] };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw networkError(error, response.status, requestId);
    }
    if (typeof body !== 'object' || body === null || (!('data' in body) && !('errors' in body))) throw networkError(new Error('not a GraphQL response'), response.status, requestId);
    return { data: body.data, ...(body.errors ? { errors: body.errors } : {}), status: response.status, requestId };
  }

  return {
    async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables, options: RequestOptions = {}): Promise<TResult> {
      const query = document.toString();
      const authenticated = options.authenticated ?? true;
      const fixedToken = options.token !== undefined;
      let token = fixedToken ? options.token : authenticated ? await deps.session.getAccessToken() : undefined;
      for (let attempt = 0; ; attempt += 1) {
        const result = await send(query, variables, token, options.signal);
        if (result.errors && result.errors.length > 0) {
          const error = apiErrorFromGraphQL(result.errors, result.status, result.requestId);
          if (token !== undefined && !fixedToken && attempt === 0 && isRefreshable(error)) {
            token = await deps.session.refresh(token);
            continue;
          }
          throw error;
        }
        if (result.data === null || result.data === undefined) throw networkError(new Error('no data'), result.status, result.requestId);
        return result.data as TResult;
      }
    },
  };
}
