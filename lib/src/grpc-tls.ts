import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from './config';

/**
 * TLS between the processes (issue 9, item 14): a process given GRPC_TLS_DIR serves gRPC over TLS
 * and dials over TLS, with the certificate, key and CA of a cert-manager Secret mounted there
 * (`tls.crt`, `tls.key`, `ca.crt`; config.ts grpcTlsEnv). With GRPC_TLS_MUTUAL (the default) servers
 * also require a client certificate signed by that CA, so only the release's own pods can open a
 * connection at all (the tokens then say what each may call). Unset: plaintext, for one machine and the tests.
 */

export interface GrpcTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** Servers require a client certificate signed by `ca`. */
  mutual: boolean;
}

const FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

/** Reads the TLS material GRPC_TLS_DIR names (undefined when unset); a missing file stops the process naming it. */
export function loadGrpcTls(config: { GRPC_TLS_DIR?: string | undefined; GRPC_TLS_MUTUAL: boolean }): GrpcTls | undefined {
  const dir = config.GRPC_TLS_DIR;
  if (dir === undefined) return undefined;
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (error) {
      throw new ConfigError(`config: GRPC_TLS_DIR expects a folder holding tls.crt, tls.key and ca.crt (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${join(dir, name)})`);
    }
  };
  return { cert: read(FILES.cert), key: read(FILES.key), ca: read(FILES.ca), mutual: config.GRPC_TLS_MUTUAL };
}

/** What a gRPC server binds with: TLS (requiring client certificates when mutual), or plaintext. */
export const grpcServerCredentials = (tls: GrpcTls | undefined): grpc.ServerCredentials =>
  tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], tls.mutual);

/** What a client dials with: TLS trusting only the release's CA and presenting this process's certificate, or plaintext. */
export const grpcChannelCredentials = (tls: GrpcTls | undefined): grpc.ChannelCredentials =>
  tls === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);

/**
 * Channel options for a target whose certificate carries a name other than the address dialled: a
 * worker is dialled by its pod address, and its certificate names the worker group's Service.
 */
export const tlsServerNameOptions = (tls: GrpcTls | undefined, serverName: string | undefined): grpc.ChannelOptions =>
  tls === undefined || serverName === undefined ? {} : { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName };
