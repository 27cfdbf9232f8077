import { AUTH_FIELDS, type IdentityHarness } from './harness';
import type { TestOidcProvider } from './oidc-provider';

/** GraphQL of single sign-on, for the SSO suites. */
export const CONFIGURE_SSO = 'mutation($input: ConfigureSsoInput!) { configureSso(input: $input) { id slug issuer clientId clientSecretSet domains defaultRole requireSso redirectUri } }';
export const START_SSO = 'mutation($input: StartSsoSignInInput!) { startSsoSignIn(input: $input) { authorizationUrl binding expiresAt } }';
export const COMPLETE_SSO = `mutation($input: CompleteSsoSignInInput!) { completeSsoSignIn(input: $input) { ${AUTH_FIELDS} } }`;

/** Starts SSO, lets `accountId` sign in at the provider, and answers the callback's query and the binding (the browser's part). */
export async function throughProvider(id: IdentityHarness, idp: TestOidcProvider, start: { email?: string; slug?: string }, accountId: string): Promise<{ callbackQuery: string; binding: string }> {
  const started = await id.graphql<{ startSsoSignIn: { authorizationUrl: string; binding: string } }>(START_SSO, { input: start });
  if (started.errors || !started.data) throw new Error(`startSsoSignIn failed: ${JSON.stringify(started.errors)}`);
  idp.nextLogin = accountId;
  const back = await idp.authorize(started.data.startSsoSignIn.authorizationUrl);
  return { callbackQuery: back.search, binding: started.data.startSsoSignIn.binding };
}

/** A whole SSO sign-in of the provider account `accountId`: completeSsoSignIn's result. */
export async function ssoSignIn(id: IdentityHarness, idp: TestOidcProvider, start: { email?: string; slug?: string }, accountId: string) {
  return id.graphql(COMPLETE_SSO, { input: await throughProvider(id, idp, start, accountId) });
}
