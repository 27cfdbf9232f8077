/**
 * What a worker process loads from lib (`@orchestra/lib/worker`): gRPC, HTTP ops endpoints, config,
 * logs, metrics, traces, the network guard, the LLM contract, secrets masking, JSON limits and the
 * artifact store — and not PostgreSQL, the GraphQL subgraph server (mercurius, @apollo/subgraph),
 * Redis, migrations or test helpers, which `@orchestra/lib` also exports for the services. A worker
 * starts lean (issue 11); eslint keeps workers/src on this entry.
 */
export * from './artifacts';
export * from './browser-agent';
export * from './config';
export * from './errors';
export * from './grpc';
export * from './grpc-tls';
export * from './http';
export * from './ids';
export * from './json-limits';
export * from './llm';
export * from './log';
export * from './metrics';
export * from './net-guard';
export * from './principal';
export * from './secret-mask';
export * from './service';
export * from './telemetry';
export * from './trace';
export * from './worker-credentials';
