/**
 * What every lean process (a worker, the gateway) loads from lib: gRPC calls, HTTP ops endpoints,
 * config, logs, metrics, traces, the network guard, the LLM contract, secrets masking, JSON limits and
 * the artifact store — and not PostgreSQL, the GraphQL subgraph server (mercurius, @apollo/subgraph),
 * Redis, migrations or test helpers, which `@orchestra/lib` also exports for the services. The gRPC
 * server is in lib/worker-runtime.ts only: the gateway calls, it serves nothing over gRPC (issue 11).
 */
export * from './artifacts';
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
export * from './worker-stops';
