import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppError,
  artifactKey,
  createFsArtifactStore,
  createHttpApp,
  createMemoryLogger,
  createMetrics,
  createPrincipalSigner,
  generatePrincipalKeys,
  grpc,
  signArtifactUrl,
  toGrpcStatus,
  type Principal,
} from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { registerArtifactDownloads } from './artifact-downloads';

// The download route on a bare app, with a real filesystem store and a real gRPC server answering
// GetArtifact the way orchestration does (row-level security reduced to: the row's org must be the
// acting principal's). tests/ runs the same route end to end through the platform.

const KEY = 'g'.repeat(48);
const orgA = randomUUID();
const orgB = randomUUID();
const dir = mkdtempSync(join(tmpdir(), 'artifact-downloads-'));
const store = createFsArtifactStore(dir);
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const rows = new Map<string, orchestrationV1.StoredArtifact>();
const log = createMemoryLogger('gateway');
const keys = generatePrincipalKeys();
let server: grpc.Server;
let client: orchestrationV1.OrchestrationServiceClient;
let callerOf: (headers: Record<string, unknown>) => Principal = () => ({ kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'r' });
const app = createHttpApp({ log, metrics: createMetrics('gateway-test') });

async function addArtifact(orgId: string, name: string, body: Buffer, contentType: string): Promise<orchestrationV1.StoredArtifact> {
  const id = randomUUID();
  const storageKey = artifactKey({ orgId, runId: randomUUID(), taskId: randomUUID(), attemptId: randomUUID(), name });
  const { sizeBytes, sha256 } = await store.put(storageKey, body, contentType);
  const row = { id, orgId, name, contentType, sizeBytes, sha256, storageKey };
  rows.set(id, row);
  return row;
}

const urlOf = (id: string, orgId: string, expiresAt = Math.floor(Date.now() / 1000) + 300) => signArtifactUrl([KEY], { artifactId: id, orgId, expiresAt });

beforeAll(async () => {
  const { createPrincipalVerifier } = await import('@orchestra/lib');
  const verifier = createPrincipalVerifier(keys.publicKeyPem);
  server = new grpc.Server();
  server.addService(orchestrationV1.OrchestrationServiceService, {
    getArtifact: (call: grpc.ServerUnaryCall<orchestrationV1.GetArtifactRequest, orchestrationV1.GetArtifactResponse>, callback: grpc.sendUnaryData<orchestrationV1.GetArtifactResponse>) => {
      const header = call.metadata.get('x-orchestra-principal')[0];
      verifier.verify(typeof header === 'string' ? header : undefined).then(
        (principal) => {
          const row = rows.get(call.request.artifactId);
          if (!row || row.orgId !== principal.orgId) return callback(toGrpcStatus(new AppError('NOT_FOUND', 'artifact not found'), 'r'));
          callback(null, { artifact: row });
        },
        (error: unknown) => callback(toGrpcStatus(error, 'r')),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  client = new orchestrationV1.OrchestrationServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  registerArtifactDownloads(app, {
    keys: [KEY],
    store,
    orchestration: client,
    internalToken: 'internal',
    signer: createPrincipalSigner(keys.privateKeyPem),
    log,
    metrics: createMetrics('gateway-test-2'),
    principalOf: (request) => Promise.resolve(callerOf(request.headers)),
    allow: () => ({ allowed: true, retryAfterMs: 0 }),
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  client.close();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /artifacts/<id>', () => {
  it('streams the bytes with their type, a disposition, nosniff and a CSP that runs nothing', async () => {
    const png = await addArtifact(orgA, 'page.png', PNG, 'image/png');
    const res = await app.inject({ method: 'GET', url: urlOf(png.id, orgA) });
    expect(res.statusCode).toBe(200);
    expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(png.sha256);
    expect(res.headers).toMatchObject({
      'content-type': 'image/png',
      'content-disposition': 'inline; filename="page.png"',
      'x-content-type-options': 'nosniff',
      'content-security-policy': expect.stringContaining("default-src 'none'"),
    });
    const html = await addArtifact(orgA, 'page.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
    const asFile = await app.inject({ method: 'GET', url: urlOf(html.id, orgA) });
    expect(asFile.headers['content-disposition']).toBe('attachment; filename="page.html"');
    expect(asFile.headers['content-security-policy']).toContain('sandbox');
  });

  it('answers 404 to another org, a guessed id, an expired, tampered or unsigned URL, and a caller of another org', async () => {
    const a = await addArtifact(orgA, 'a.pdf', Buffer.from('%PDF-1.4 a'), 'application/pdf');
    const b = await addArtifact(orgB, 'b.pdf', Buffer.from('%PDF-1.4 b'), 'application/pdf');
    const good = new URL(urlOf(b.id, orgB), 'http://x');
    const cases = [
      // A URL signed for org A naming org B's artifact: looked up as org A, not found.
      urlOf(b.id, orgA),
      urlOf(randomUUID(), orgA),
      urlOf(a.id, orgA, Math.floor(Date.now() / 1000) - 1),
      `/artifacts/${a.id}${good.search}`,
      `/artifacts/${b.id}?org=${orgA}&exp=${good.searchParams.get('exp')}&sig=${good.searchParams.get('sig')}`,
      `/artifacts/${b.id}`,
      `/artifacts/..%2F..%2Fetc%2Fpasswd${good.search}`,
    ];
    for (const url of cases) {
      const res = await app.inject({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, 404]);
      expect(res.body).not.toContain('%PDF');
    }
    // B's own URL works, except for a caller signed in to org A.
    expect((await app.inject({ method: 'GET', url: good.pathname + good.search })).statusCode).toBe(200);
    callerOf = () => ({ kind: 'user', id: 'u', userId: 'u', orgId: orgA, role: 'admin', scopes: [], requestId: 'r' });
    try {
      expect((await app.inject({ method: 'GET', url: good.pathname + good.search, headers: { authorization: 'Bearer x' } })).statusCode).toBe(404);
    } finally {
      callerOf = () => ({ kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'r' });
    }
  });
});
