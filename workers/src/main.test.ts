import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_WORKER_AUTH_SECRET, eventually, insecureCredentials, launchService, mintWorkerToken, type LaunchedService } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { execute, nextAttemptId, resultOf, startTestRegistry, type TestRegistry } from './test-support';

// The worker as a process (main.ts through the lib launcher), registered with an in-test
// WorkerRegistry (see test-support.ts): SIGTERM must drain, and bad config must stop it in one line.
const entry = join(__dirname, 'main.ts');

describe('worker process', () => {
  let registry: TestRegistry;
  let logDir: string;

  beforeAll(async () => {
    registry = await startTestRegistry();
    logDir = mkdtempSync(join(tmpdir(), 'orchestra-worker-main-'));
  });

  afterAll(async () => {
    await registry.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('logs listening, registers, and on SIGTERM finishes the running attempt before it deregisters and exits', async () => {
    const lines: Array<Record<string, unknown>> = [];
    let worker: LaunchedService | undefined;
    try {
      // The token from a file, as the chart's init container leaves it; the worker id comes from the token.
      const tokenFile = join(logDir, 'worker-token');
      writeFileSync(tokenFile, `${mintWorkerToken(TEST_WORKER_AUTH_SECRET, 'main-test-worker')}\n`, { mode: 0o600 });
      worker = await launchService({
        name: 'worker-main-test',
        entry,
        logDir,
        env: { WORKER_TOKEN_FILE: tokenFile, ORCHESTRATION_GRPC_ADDR: registry.address, HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', WORKER_DRAIN_GRACE_MS: '60000', NVIDIA_SMI_PATH: '/nonexistent/nvidia-smi' },
        onLine: (_line, parsed) => parsed && lines.push(parsed),
      });
      expect(worker.grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      await eventually(() => registry.registers.some((r) => r.worker?.workerId === 'main-test-worker'), { what: 'the worker to register' });
      expect(registry.registers.find((r) => r.worker?.workerId === 'main-test-worker')?.worker?.endpoint).toBe(worker.grpcAddress);

      const client = new automationV1.AutomationServiceClient(worker.grpcAddress!, insecureCredentials());
      const run = execute(client, { attemptId: nextAttemptId('main'), capability: 'sleep', input: { ms: 1_000, progressEveryMs: 100 } }, { deadlineMs: 60_000 }, 'main-test-worker');
      await run.firstEvent;
      const stopped = worker.stop(60_000);
      expect(await run.ended).toBeUndefined();
      expect(resultOf(run.events)?.outcome?.$case).toBe('success');
      await stopped;
      client.close();

      expect(worker.process.exitCode).toBe(0);
      expect(registry.deregisters).toContainEqual({ workerId: 'main-test-worker' });
      const order = lines.map((l) => l['msg']);
      expect(order.indexOf('draining')).toBeGreaterThan(order.indexOf('stopping'));
      expect(order.indexOf('attempt finished')).toBeLessThan(order.indexOf('deregistered'));
      expect(order.at(-1)).toMatch(/^(stopped|worker stopped)$/);
    } finally {
      await worker?.kill();
    }
  });

  it('refuses a bad configuration with one line naming the variable', async () => {
    await expect(
      launchService({ name: 'worker-bad-config', entry, logDir, env: { WORKER_TOKEN: mintWorkerToken(TEST_WORKER_AUTH_SECRET, 'w1'), ORCHESTRATION_GRPC_ADDR: registry.address, WORKER_SLOTS: 'many' } }),
    ).rejects.toThrow(/worker: config: WORKER_SLOTS expects an integer between 1 and 1024 \(got "many"\)/);
  });

  it('refuses to start without its own token, or with a token minted for another worker id', async () => {
    const base = { ORCHESTRATION_GRPC_ADDR: registry.address, WORKER_ID: 'w-1' };
    await expect(launchService({ name: 'worker-no-token', entry, logDir, env: base })).rejects.toThrow(/worker: config: WORKER_TOKEN expects this worker's token, minted for its WORKER_ID .*\(it is not set\)/);
    await expect(launchService({ name: 'worker-other-token', entry, logDir, env: { ...base, WORKER_TOKEN: mintWorkerToken(TEST_WORKER_AUTH_SECRET, 'w-2') } })).rejects.toThrow(
      /worker: config: WORKER_TOKEN was minted for worker "w-2", but WORKER_ID is "w-1"/,
    );
  });
});
