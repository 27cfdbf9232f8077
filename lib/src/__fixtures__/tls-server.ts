// A gRPC server in a process of its own for grpc-tls.test.ts: AuditService over TLS from GRPC_TLS_DIR
// (mutual unless GRPC_TLS_MUTUAL=false). Prints {"port": n} once listening; exits when stdin closes.
import { auditV1 } from '@orchestra/proto';
import { grpcTlsEnv, loadConfig } from '../config';
import { createGrpcServer } from '../grpc-server';
import { loadGrpcTls } from '../grpc-tls';
import { createLogger } from '../log';
import { z } from 'zod';

const config = loadConfig(z.object({ ...grpcTlsEnv, INTERNAL_TOKEN: z.string() }));
const server = createGrpcServer({ service: 'tls-fixture', log: createLogger({ service: 'tls-fixture', level: 'silent' }), internalToken: config.INTERNAL_TOKEN, tls: loadGrpcTls(config) });
server.add(auditV1.AuditServiceService, { record: (request) => Promise.resolve({ stored: request.events.length, duplicates: 0 }) }, 'orchestra.audit.v1.AuditService');
void server.listen('127.0.0.1', 0).then((port) => {
  server.setServing('SERVING');
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
