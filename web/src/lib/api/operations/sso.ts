import { graphql } from '../__generated__';

// Single sign-on (OpenID Connect): the admins' connection settings and the sign-in through the provider.

graphql(`
  fragment SsoConnectionFields on SsoConnection {
    id
    slug
    issuer
    clientId
    clientSecretSet
    domains
    defaultRole
    requireSso
    redirectUri
    updatedAt
  }
`);

export const ssoConnectionQuery = graphql(`
  query SsoConnection {
    ssoConnection { ...SsoConnectionFields }
  }
`);

export const testSsoConnectionQuery = graphql(`
  query TestSsoConnection($issuer: String!) {
    testSsoConnection(issuer: $issuer) { issuer authorizationEndpoint tokenEndpoint jwksUri userinfoEndpoint supportsPkce }
  }
`);

export const configureSsoMutation = graphql(`
  mutation ConfigureSso($input: ConfigureSsoInput!) {
    configureSso(input: $input) { ...SsoConnectionFields }
  }
`);

export const deleteSsoConnectionMutation = graphql(`
  mutation DeleteSsoConnection {
    deleteSsoConnection
  }
`);

export const startSsoSignInMutation = graphql(`
  mutation StartSsoSignIn($input: StartSsoSignInInput!) {
    startSsoSignIn(input: $input) { authorizationUrl binding expiresAt }
  }
`);

export const completeSsoSignInMutation = graphql(`
  mutation CompleteSsoSignIn($input: CompleteSsoSignInInput!) {
    completeSsoSignIn(input: $input) { ...AuthPayloadFields }
  }
`);
