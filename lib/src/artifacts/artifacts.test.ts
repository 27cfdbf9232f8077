import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import S3rver from 's3rver';
import { ConfigError, loadConfig } from '../config';
import { NonRetryableError } from '../errors';
import {
  artifactConfigSchema,
  artifactKey,
  artifactLimits,
  checkArtifactSize,
  createArtifactStore,
  sha256Hex,
  type ArtifactStore,
} from './index';

const readAll = async (body: NodeJS.ReadableStream): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
};

const key = (name: string, attemptId = 'att-1') => artifactKey({ orgId: 'org-a', runId: 'run-1', taskId: 'task-1', attemptId, name });

/** The same behaviour, whichever store: what the gateway and the workers rely on. */
function storeContract(open: () => ArtifactStore) {
  it('stores bytes and reads back the same bytes, size, type and sha256', async () => {
    const store = open();
    const body = randomBytes(300_000);
    const stored = await store.put(key('shot.png'), body, 'image/png');
    expect(stored).toEqual({ sizeBytes: body.length, sha256: sha256Hex(body) });
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    const read = await store.get(key('shot.png'));
    expect(read).not.toBeNull();
    expect(read?.sizeBytes).toBe(body.length);
    expect(read?.contentType).toBe('image/png');
    expect((await readAll(read!.body)).equals(body)).toBe(true);
  });

  it('answers null for a key with nothing stored', async () => {
    expect(await open().get(key('never.pdf'))).toBeNull();
  });

  it('overwrites a key, and deletes keys (missing ones too) without touching others', async () => {
    const store = open();
    await store.put(key('a.txt'), Buffer.from('first'), 'text/plain');
    await store.put(key('a.txt'), Buffer.from('second'), 'text/plain');
    await store.put(key('b.txt'), Buffer.from('kept'), 'text/plain');
    expect((await readAll((await store.get(key('a.txt')))!.body)).toString()).toBe('second');
    await store.delete([key('a.txt'), key('missing.txt')]);
    expect(await store.get(key('a.txt'))).toBeNull();
    expect((await readAll((await store.get(key('b.txt')))!.body)).toString()).toBe('kept');
    await store.delete([]);
  });

  it('refuses keys that are not artifact keys (no way out of the prefix)', async () => {
    const store = open();
    await expect(store.put('org-a/../../etc/passwd/x', Buffer.from('x'), 'text/plain')).rejects.toThrow(/not an artifact key/);
    await expect(store.get('../x')).rejects.toThrow(/not an artifact key/);
    await expect(store.delete(['org-a/run/task/att/../..'])).rejects.toThrow(/not an artifact key/);
  });
}

describe('artifactKey', () => {
  it('joins the ids and the name', () => {
    expect(artifactKey({ orgId: 'o', runId: 'r', taskId: 't', attemptId: 'a', name: 'page-1.png' })).toBe('o/r/t/a/page-1.png');
  });

  it('refuses names outside ^[A-Za-z0-9._-]{1,100}$ and unsafe ids', () => {
    const parts = { orgId: 'o', runId: 'r', taskId: 't', attemptId: 'a' };
    for (const name of ['', 'a/b', '..', 'x'.repeat(101), 'sp ace', 'ü.png']) {
      expect(() => artifactKey({ ...parts, name })).toThrow(NonRetryableError);
    }
    expect(() => artifactKey({ ...parts, orgId: '../o', name: 'x' })).toThrow(/orgId/);
  });
});

describe('artifact config and limits', () => {
  it('defaults to the filesystem under .orchestra/artifacts with 25 MiB / 100 MiB limits', () => {
    const config = loadConfig(artifactConfigSchema, {});
    expect(config).toMatchObject({ ARTIFACT_STORE: 'fs', ARTIFACT_DIR: '.orchestra/artifacts' });
    expect(artifactLimits(config)).toEqual({ maxBytes: 25 * 1024 * 1024, maxAttemptBytes: 100 * 1024 * 1024 });
  });

  it('refuses s3 without a bucket, an unknown store and limits that do not fit', () => {
    expect(() => createArtifactStore(loadConfig(artifactConfigSchema, { ARTIFACT_STORE: 's3' }))).toThrow(/ARTIFACT_S3_BUCKET/);
    expect(() => loadConfig(artifactConfigSchema, { ARTIFACT_STORE: 'ftp' })).toThrow(ConfigError);
    expect(() => loadConfig(artifactConfigSchema, { ARTIFACT_MAX_BYTES: '0' })).toThrow(/ARTIFACT_MAX_BYTES/);
    expect(() => createArtifactStore(loadConfig(artifactConfigSchema, { ARTIFACT_MAX_BYTES: '200', ARTIFACT_MAX_ATTEMPT_BYTES: '100' }))).toThrow(
      /ARTIFACT_MAX_ATTEMPT_BYTES/,
    );
  });

  it('fails ARTIFACT_TOO_LARGE, not retryable, naming the size and the limit', () => {
    const limits = { maxBytes: 100, maxAttemptBytes: 250 };
    expect(() => checkArtifactSize('a.png', 100, 0, limits)).not.toThrow();
    let one: unknown;
    try {
      checkArtifactSize('big.png', 101, 0, limits);
    } catch (error) {
      one = error;
    }
    expect(one).toBeInstanceOf(NonRetryableError);
    expect((one as NonRetryableError).code).toBe('ARTIFACT_TOO_LARGE');
    expect((one as NonRetryableError).message).toMatch(/big\.png is 101 bytes.*limit of 100 bytes per artifact/);
    expect(() => checkArtifactSize('c.png', 100, 200, limits)).toThrow(/300 bytes, over the limit of 250 bytes per attempt/);
  });
});

describe('filesystem artifact store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestra-artifacts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  storeContract(() => createArtifactStore(loadConfig(artifactConfigSchema, { ARTIFACT_DIR: dir })));

  it('leaves no temporary files and prunes emptied folders', async () => {
    const store = createArtifactStore(loadConfig(artifactConfigSchema, { ARTIFACT_DIR: dir }));
    const k = key('only.bin', 'att-prune');
    await store.put(k, Buffer.from('x'), 'application/octet-stream');
    const attemptDir = join(dir, 'objects', 'org-a', 'run-1', 'task-1', 'att-prune');
    expect(await readdir(attemptDir)).toEqual(['only.bin']);
    await store.delete([k]);
    await expect(readdir(attemptDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

// s3rver stands in for S3 here (an outside service we do not run): the same contract against a
// local S3-compatible server, through the real @aws-sdk/client-s3 client.
describe('S3 artifact store (s3rver stands in for S3)', () => {
  let dir: string;
  let server: S3rver;
  let endpoint: string;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestra-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'artifacts' }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    // s3rver's fixed credentials, given the way the SDK reads them in production (its standard env).
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
    if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
  });

  const stores: (ArtifactStore & { close?: () => void })[] = [];
  afterAll(() => stores.forEach((s) => s.close?.()));
  storeContract(() => {
    const store = createArtifactStore(
      loadConfig(artifactConfigSchema, {
        ARTIFACT_STORE: 's3',
        ARTIFACT_S3_BUCKET: 'artifacts',
        ARTIFACT_S3_ENDPOINT: endpoint,
        ARTIFACT_S3_FORCE_PATH_STYLE: 'true',
      }),
    );
    stores.push(store);
    return store;
  });
});
