/**
 * What a worker process loads from lib (`@orchestra/lib/worker`): the lean processes' part of lib
 * (lib/lean-runtime.ts), the gRPC server its AutomationService runs on and the browser agent's
 * contract. A worker starts lean (issue 11); eslint keeps workers/src on this entry.
 */
export * from './lean-runtime';
export * from './browser-agent';
export * from './grpc-server';
