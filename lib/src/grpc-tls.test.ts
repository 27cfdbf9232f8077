import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { auditV1 } from '@orchestra/proto';
import { grpc, unaryCall } from './grpc';
import { grpcChannelCredentials, loadGrpcTls, type GrpcTls } from './grpc-tls';
import { TEST_INTERNAL_TOKEN } from './testing';

// TLS and mutual TLS between two processes: a gRPC server in a child process (its own main, as a
// service's would be) and clients here, with a CA, server and client certificates made by openssl
// for this test, laid out as a cert-manager Secret is mounted (tls.crt, tls.key, ca.crt).

const root = mkdtempSync(join(tmpdir(), 'orchestra-grpc-tls-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: root, stdio: 'pipe' });

/** A CA, and certificates it signs laid out as cert-manager mounts them. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}
function issue(ca: string, dir: string, commonName: string, san: string): void {
  mkdirSync(join(root, dir), { recursive: true });
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${commonName}`, '-keyout', `${dir}/tls.key`, '-out', `${dir}/tls.csr`);
  writeFileSync(join(root, dir, 'ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl('x509', '-req', '-in', `${dir}/tls.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${dir}/ext.cnf`, '-out', `${dir}/tls.crt`);
  execFileSync('cp', [join(root, `${ca}.crt`), join(root, dir, 'ca.crt')]);
}

let server: ChildProcess;
let address: string;
let mutualTls: GrpcTls;
let rogueTls: GrpcTls;

const startServer = (mutual: boolean): Promise<{ child: ChildProcess; address: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '__fixtures__', 'tls-server.ts')], {
      env: { ...process.env, NODE_OPTIONS: '', GRPC_TLS_DIR: join(root, 'server'), GRPC_TLS_MUTUAL: String(mutual), INTERNAL_TOKEN: TEST_INTERNAL_TOKEN },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.once('exit', (code) => reject(new Error(`the TLS server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, address: `localhost:${(JSON.parse(line) as { port: number }).port}` }));
  });

beforeAll(async () => {
  makeCa('release-ca');
  makeCa('rogue-ca');
  issue('release-ca', 'server', 'orch-orchestra-audit-grpc', 'DNS:localhost,DNS:orch-orchestra-audit-grpc,IP:127.0.0.1');
  issue('release-ca', 'client', 'orch-orchestra-identity', 'DNS:orch-orchestra-identity');
  issue('rogue-ca', 'rogue', 'orch-orchestra-identity', 'DNS:orch-orchestra-identity');
  mutualTls = loadGrpcTls({ GRPC_TLS_DIR: join(root, 'client'), GRPC_TLS_MUTUAL: true })!;
  rogueTls = loadGrpcTls({ GRPC_TLS_DIR: join(root, 'rogue'), GRPC_TLS_MUTUAL: true })!;
  ({ child: server, address } = await startServer(true));
}, 60_000);

afterAll(() => {
  server?.stdin?.end();
  rmSync(root, { recursive: true, force: true });
});

const record = (credentials: grpc.ChannelCredentials, target = address) => {
  const client = new auditV1.AuditServiceClient(target, credentials);
  return unaryCall(client, client.record, { events: [] }, { internalToken: TEST_INTERNAL_TOKEN }, { deadlineMs: 5_000 }).finally(() => client.close());
};

describe('gRPC over mutual TLS between two processes', () => {
  it('serves a client that trusts the release CA and presents a certificate it signed', async () => {
    await expect(record(grpcChannelCredentials(mutualTls))).resolves.toEqual({ stored: 0, duplicates: 0 });
  });

  it('refuses a plaintext client, a client without a certificate, and one whose certificate another CA signed', async () => {
    await expect(record(grpc.credentials.createInsecure())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(record(grpc.credentials.createSsl(mutualTls.ca))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(record(grpc.credentials.createSsl(mutualTls.ca, rogueTls.key, rogueTls.cert))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('is refused by a client that does not trust the server\'s CA (no talking to an impostor)', async () => {
    await expect(record(grpc.credentials.createSsl(rogueTls.ca, mutualTls.key, mutualTls.cert))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('serves TLS without client certificates when GRPC_TLS_MUTUAL=false', async () => {
    const plain = await startServer(false);
    try {
      await expect(record(grpc.credentials.createSsl(mutualTls.ca), plain.address)).resolves.toEqual({ stored: 0, duplicates: 0 });
      await expect(record(grpc.credentials.createInsecure(), plain.address)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      plain.child.stdin?.end();
    }
  });

  it('names the missing file when GRPC_TLS_DIR is incomplete', () => {
    expect(() => loadGrpcTls({ GRPC_TLS_DIR: join(root, 'nowhere'), GRPC_TLS_MUTUAL: true })).toThrow(/^config: GRPC_TLS_DIR expects a folder holding tls.crt, tls.key and ca.crt \(ENOENT: .*nowhere\/tls.crt\)$/);
  });
});
