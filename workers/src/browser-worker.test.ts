// A worker process's browser capability end to end over gRPC: it advertises `browser` when Chromium is
// there, streams the artifact it stored (before the result), with the storage key, into the store its
// ARTIFACT_* config names. The page is served by this test on 127.0.0.1 (the worker allows private
// networks here: WORKER_ALLOW_PRIVATE_NETWORK=true).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unaryCall } from '@orchestra/lib';
import { browserUnusable } from './executors/browser/browser-host';
import { asOrchestrator, execute, nextAttemptId, resultOf, startTestRegistry, startWorker, type Started, type TestRegistry } from './test-support';

jest.setTimeout(180_000);

const EXECUTABLE = process.env['BROWSER_EXECUTABLE_PATH'] ?? '/usr/bin/chromium';
const describeWithBrowser = browserUnusable(EXECUTABLE) === undefined ? describe : describe.skip;

describeWithBrowser('a worker with Chromium', () => {
  let registry: TestRegistry;
  let started: Started;
  let site: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestra-worker-artifacts-'));
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Hello</title><h1>Hello</h1>'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    registry = await startTestRegistry();
    started = await startWorker(registry, {
      WORKER_ALLOW_PRIVATE_NETWORK: 'true',
      BROWSER_EXECUTABLE_PATH: EXECUTABLE,
      ARTIFACT_DIR: dir,
    });
  });

  afterAll(async () => {
    started.client.close();
    await started.worker.stop();
    await registry.stop();
    await new Promise<void>((resolve) => site.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('advertises browser and streams each stored artifact before the result', async () => {
    const described = await unaryCall(started.client, started.client.describe, {}, asOrchestrator());
    expect(described.capabilities).toContain('browser');

    const attemptId = nextAttemptId('browser');
    const run = execute(started.client, {
      attemptId,
      orgId: 'org-1',
      capability: 'browser',
      input: { actions: [{ action: 'goto', url }, { action: 'screenshot', name: 'hello' }] },
    }, { deadlineMs: 150_000 });
    expect(await run.ended).toBeUndefined();
    const kinds = run.events.map((e) => e.event?.$case);
    expect(kinds.indexOf('artifact')).toBeGreaterThan(-1);
    expect(kinds.indexOf('artifact')).toBeLessThan(kinds.indexOf('result'));
    const artifact = run.events.flatMap((e) => (e.event?.$case === 'artifact' ? [e.event.value] : []))[0]!;
    expect(artifact).toMatchObject({ name: 'hello.png', contentType: 'image/png', storageKey: `org-1/run-1/task-1/${attemptId}/hello.png` });
    // The fs store the config names holds exactly those bytes.
    const body = await readFile(join(dir, 'objects', artifact.storageKey));
    expect(body.length).toBe(artifact.sizeBytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(artifact.sha256);
    const result = resultOf(run.events);
    expect(result?.outcome?.$case).toBe('success');
    expect(result?.outcome?.$case === 'success' ? result.outcome.value.output : undefined).toMatchObject({ title: 'Hello', url, artifacts: [{ name: 'hello.png', sha256: artifact.sha256 }] });
  });
});
