import { createApiClient } from './client';
import { ApiError } from './errors';
import { TypedDocumentString } from './__generated__/graphql';

const ME = new TypedDocumentString<{ me: { id: string } }, Record<string, never>>('query Me { me { id } }');

type Answer = { status?: number; body: unknown; headers?: Record<string, string> } | Error;

/** fetch that answers from a script and records what was sent (the gateway is not what is under test here). */
function scriptedFetch(answers: Array<Answer | ((auth: string | undefined) => Answer)>) {
  const calls: Array<{ authorization: string | undefined; body: { query: string; operationName?: string } }> = [];
  const fetchImpl = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    const headers = init?.headers as Record<string, string>;
    calls.push({ authorization: headers['authorization'], body: JSON.parse(init?.body as string) as { query: string } });
    const next = answers.shift();
    if (!next) throw new Error('no more answers scripted');
    const answer = typeof next === 'function' ? next(headers['authorization']) : next;
    if (answer instanceof Error) throw answer;
    return new Response(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { 'content-type': 'application/json', ...answer.headers } });
  }) as typeof fetch;
  return { fetchImpl, calls };
}

const expired = { status: 401, body: { errors: [{ message: 'access token has expired: refresh it', extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED', requestId: 'r-1' } }] } };

function fakeSession(initial = 'at-1') {
  let token = initial;
  let refreshes = 0;
  return {
    get refreshes() {
      return refreshes;
    },
    session: {
      getAccessToken: async () => token,
      refresh: async (stale?: string) => {
        if (stale === token) {
          refreshes += 1;
          token = `at-${refreshes + 1}`;
        }
        return token;
      },
    },
  };
}

describe('api client', () => {
  it('sends the access token and the operation name, and returns data', async () => {
    const { fetchImpl, calls } = scriptedFetch([{ body: { data: { me: { id: 'u1' } } } }]);
    const api = createApiClient({ url: '/graphql', session: fakeSession().session, fetch: fetchImpl });
    await expect(api.request(ME, {})).resolves.toEqual({ me: { id: 'u1' } });
    expect(calls[0]!.authorization).toBe('Bearer at-1');
    expect(calls[0]!.body.operationName).toBe('Me');
  });

  it('refreshes once on TOKEN_EXPIRED and sends the request again with the new token', async () => {
    const { fetchImpl, calls } = scriptedFetch([expired, { body: { data: { me: { id: 'u1' } } } }]);
    const fake = fakeSession();
    const api = createApiClient({ url: '/graphql', session: fake.session, fetch: fetchImpl });
    await expect(api.request(ME, {})).resolves.toEqual({ me: { id: 'u1' } });
    expect(calls.map((c) => c.authorization)).toEqual(['Bearer at-1', 'Bearer at-2']);
    expect(fake.refreshes).toBe(1);
  });

  it('two requests refused with the same token cause one refresh', async () => {
    const ok = { body: { data: { me: { id: 'u1' } } } };
    const { fetchImpl } = scriptedFetch([expired, expired, ok, ok]);
    const fake = fakeSession();
    const api = createApiClient({ url: '/graphql', session: fake.session, fetch: fetchImpl });
    await Promise.all([api.request(ME, {}), api.request(ME, {})]);
    expect(fake.refreshes).toBe(1);
  });

  it('gives up after one refresh when the new token is refused too', async () => {
    const { fetchImpl, calls } = scriptedFetch([expired, expired]);
    const api = createApiClient({ url: '/graphql', session: fakeSession().session, fetch: fetchImpl });
    await expect(api.request(ME, {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(calls).toHaveLength(2);
  });

  it('does not refresh for other errors, and keeps code, field and request id', async () => {
    const { fetchImpl, calls } = scriptedFetch([
      { body: { data: null, errors: [{ message: 'step "b" depends on unknown step "x"', extensions: { code: 'BAD_USER_INPUT', reason: 'UNKNOWN_DEPENDENCY', field: 'input.steps[1].dependsOn', requestId: 'req-9' } }] } },
    ]);
    const fake = fakeSession();
    const api = createApiClient({ url: '/graphql', session: fake.session, fetch: fetchImpl });
    const error = (await api.request(ME, {}).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_DEPENDENCY', field: 'input.steps[1].dependsOn', requestId: 'req-9', message: 'step "b" depends on unknown step "x"' });
    expect(fake.refreshes).toBe(0);
    expect(calls).toHaveLength(1);
  });

  it('a token given explicitly is sent as is and never refreshed (calls made under the rotation lock)', async () => {
    const { fetchImpl, calls } = scriptedFetch([expired]);
    const fake = fakeSession();
    const api = createApiClient({ url: '/graphql', session: fake.session, fetch: fetchImpl });
    await expect(api.request(ME, {}, { token: 'fixed' })).rejects.toMatchObject({ reason: 'TOKEN_EXPIRED' });
    expect(calls[0]!.authorization).toBe('Bearer fixed');
    expect(fake.refreshes).toBe(0);
  });

  it('anonymous requests carry no token', async () => {
    const { fetchImpl, calls } = scriptedFetch([{ body: { data: { me: { id: 'u1' } } } }]);
    const api = createApiClient({ url: '/graphql', session: fakeSession().session, fetch: fetchImpl });
    await api.request(ME, {}, { authenticated: false });
    expect(calls[0]!.authorization).toBeUndefined();
  });

  it('reports an unreachable gateway and a non-GraphQL answer as NETWORK', async () => {
    const { fetchImpl } = scriptedFetch([new TypeError('fetch failed'), { status: 502, body: '<html>Bad gateway</html>', headers: { 'x-request-id': 'edge-1' } }]);
    const api = createApiClient({ url: '/graphql', session: fakeSession().session, fetch: fetchImpl });
    await expect(api.request(ME, {})).rejects.toMatchObject({ code: 'NETWORK', status: 0 });
    await expect(api.request(ME, {})).rejects.toMatchObject({ code: 'NETWORK', status: 502, requestId: 'edge-1' });
  });
});
