/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   test support around oidc-provider, whose types are not shipped */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenID provider (the `oidc-provider` package) in-process on 127.0.0.1 and port 0, for SSO
 * tests: authorization code with PKCE, RS256 ID tokens from its own JWKS, claims by scope (email and
 * email_verified only from userinfo, as a strictly conforming provider does). Its login page is
 * this helper: whoever the test put in `nextLogin` signs in (or the sign-in is refused with
 * access_denied when `refuseNext` is set), and consent is granted with the login.
 *
 * For the relying party's checks, the helper can also misbehave the way a compromised or broken
 * provider would: forge the next ID token (`forgeNextIdToken`: other claims, a key it does not
 * publish, altered after signing), rotate its signing key (`rotateSigningKey`: a new key published
 * and used, the old one gone), and it counts the requests it serves by endpoint (`requests`).
 */
export interface TestAccount {
  email: string;
  emailVerified?: boolean;
  name?: string;
}

export interface TestOidcClient {
  clientId: string;
  clientSecret: string;
}

/** How the next ID token the token endpoint answers is forged (after the provider made and signed it). */
export interface IdTokenForgery {
  /** Claims to set on top of the provider's (e.g. another `aud` or `nonce`). */
  claims?: Record<string, unknown>;
  /**
   * Re-signed with the provider's own current key ('provider'), with a key it does not publish under the
   * published key id ('unpublished-key') or under an unknown key id ('unknown-kid'), or not re-signed at all
   * ('keep-signature': the claims were altered after signing).
   */
  signWith: 'provider' | 'unpublished-key' | 'unknown-kid' | 'keep-signature';
}

export interface TestOidcProvider {
  issuer: string;
  accounts: Map<string, TestAccount>;
  /** The account id (a key of `accounts`) the next login interaction signs in. */
  nextLogin: string | undefined;
  /** The next interaction refuses with access_denied instead. */
  refuseNext: boolean;
  /** Requests served per endpoint since the start (or the last `resetRequests`). */
  readonly requests: { discovery: number; jwks: number; token: number; userinfo: number };
  resetRequests(): void;
  /** The next ID token the token endpoint answers is forged so (once). */
  forgeNextIdToken(forgery: IdTokenForgery): void;
  /** A new signing key, published and used from now on; the old one is no longer published. Its key id. */
  rotateSigningKey(): string;
  /** Follows an authorization URL through the provider (cookies kept) to the redirect back; its URL. */
  authorize(authorizationUrl: string): Promise<URL>;
  stop(): Promise<void>;
}

export async function startTestOidcProvider(options: { clients: TestOidcClient[]; redirectUris: string[] }): Promise<TestOidcProvider> {
  const { default: Provider } = (await import('oidc-provider')) as any;
  const accounts = new Map<string, TestAccount>();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: Pick<TestOidcProvider, 'nextLogin' | 'refuseNext'> = { nextLogin: undefined, refuseNext: false };

  const newKey = (): JsonWebKey => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const cookieKeys = [randomBytes(16).toString('hex')];
  const makeProvider = (jwk: JsonWebKey, kid: string): any => {
    const created = new Provider(issuer, {
      clients: options.clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      jwks: { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] },
      cookies: { keys: cookieKeys },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: false } },
      pkce: { required: () => true },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx: unknown, sub: string) => {
        const account = accounts.get(sub);
        if (!account) return undefined;
        return {
          accountId: sub,
          claims: () => ({ sub, email: account.email, email_verified: account.emailVerified ?? true, ...(account.name === undefined ? {} : { name: account.name }) }),
        };
      },
    });
    // The provider runs over plain http on loopback here.
    created.proxy = false;
    return created;
  };
  let signing = { jwk: newKey(), kid: 'test-key' };
  let rotations = 0;
  let provider = makeProvider(signing.jwk, signing.kid);
  let callback = provider.callback();
  const requests = { discovery: 0, jwks: 0, token: 0, userinfo: 0 };
  let forgery: IdTokenForgery | undefined;

  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const forge = (idToken: string, how: IdTokenForgery): string => {
    const [header, payload, signature] = idToken.split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...how.claims };
    if (how.signWith === 'keep-signature') return `${header}.${b64(claims)}.${signature}`;
    const kid = how.signWith === 'unknown-kid' ? 'nobody-publishes-this' : signing.kid;
    const key = how.signWith === 'provider' ? signing.jwk : newKey();
    const input = `${b64({ ...JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), kid })}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey({ key, format: 'jwk' })).toString('base64url')}`;
  };
  /** Rewrites the id_token of the JSON answer the provider is about to send (Koa ends the response with the whole body). */
  const rewriteIdToken = (res: ServerResponse, how: IdTokenForgery): void => {
    const end = res.end.bind(res) as (...args: any[]) => ServerResponse;
    res.end = ((chunk?: any, ...rest: any[]) => {
      if (chunk !== undefined && typeof chunk !== 'function' && res.statusCode === 200) {
        const body = JSON.parse(Buffer.from(chunk).toString('utf8'));
        if (typeof body.id_token === 'string') {
          body.id_token = forge(body.id_token, how);
          const text = JSON.stringify(body);
          if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(text));
          return end(text, ...rest);
        }
      }
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') requests.discovery += 1;
    if (path === '/jwks') requests.jwks += 1;
    if (path === '/me') requests.userinfo += 1;
    if (path === '/token') {
      requests.token += 1;
      if (forgery !== undefined) {
        rewriteIdToken(res, forgery);
        forgery = undefined;
      }
    }
    const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? '');
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (state.refuseNext) {
        state.refuseNext = false;
        return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user said no' }, { mergeWithLastSubmission: false });
      }
      const accountId = state.nextLogin;
      if (accountId === undefined) throw new Error('the test set no nextLogin');
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      return await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  }

  const helper: TestOidcProvider = {
    issuer,
    accounts,
    get nextLogin() {
      return state.nextLogin;
    },
    set nextLogin(value) {
      state.nextLogin = value;
    },
    get refuseNext() {
      return state.refuseNext;
    },
    set refuseNext(value) {
      state.refuseNext = value;
    },
    requests,
    resetRequests() {
      Object.assign(requests, { discovery: 0, jwks: 0, token: 0, userinfo: 0 });
    },
    forgeNextIdToken(how) {
      forgery = how;
    },
    rotateSigningKey() {
      rotations += 1;
      signing = { jwk: newKey(), kid: `test-key-${rotations}` };
      // A provider restarted with its new key set (sign-ins under way are not carried across).
      provider = makeProvider(signing.jwk, signing.kid);
      callback = provider.callback();
      return signing.kid;
    },
    async authorize(authorizationUrl) {
      const cookies = new Map<string, string>();
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop += 1) {
        if (!url.href.startsWith(issuer)) return url;
        const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const eq = pair!.indexOf('=');
          cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
        }
        const location = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || location === null) throw new Error(`the provider answered ${res.status} at ${url.pathname}: ${(await res.text()).slice(0, 500)}`);
        url = new URL(location, url);
      }
      throw new Error('too many redirects at the provider');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return helper;
}
