/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   test support around oidc-provider, whose types are not shipped */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenID provider (the `oidc-provider` package) in-process on 127.0.0.1 and port 0, for SSO
 * tests: authorization code with PKCE, RS256 ID tokens from its own JWKS, claims by scope (email and
 * email_verified only from userinfo, as a strictly conforming provider does). Its login page is
 * this helper: whoever the test put in `nextLogin` signs in (or the sign-in is refused with
 * access_denied when `refuseNext` is set), and consent is granted with the login.
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

export interface TestOidcProvider {
  issuer: string;
  accounts: Map<string, TestAccount>;
  /** The account id (a key of `accounts`) the next login interaction signs in. */
  nextLogin: string | undefined;
  /** The next interaction refuses with access_denied instead. */
  refuseNext: boolean;
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

  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: options.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [{ ...jwk, kid: 'test-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
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
  provider.proxy = false;
  const callback = provider.callback();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
