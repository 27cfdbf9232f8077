/**
 * What the gateway process loads from lib (`@orchestra/lib/gateway`): lib/lean-runtime.ts (no gRPC server) plus
 * authorization, access tokens and revocations, artifact URLs, Redis, rate limits, run events and
 * live notifications — and not PostgreSQL, the subgraph server (mercurius, @apollo/subgraph,
 * @graphql-tools), migrations, mail or test helpers, which `@orchestra/lib` also exports for the
 * subgraphs (issue 11, lean processes). eslint keeps gateway/src on this entry; its tests and
 * testing/ may use the whole of lib.
 */
export * from './lean-runtime';
export * from './access';
export * from './access-token';
export * from './artifact-urls';
export * from './graphql-errors';
export * from './notification-events';
export * from './rate-limit';
export * from './redis';
export * from './run-event-stream';
export * from './run-events';
