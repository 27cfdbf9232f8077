import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenService, runMain } from '@orchestra/lib/worker';
import { loadWorkerConfig } from './config';
import { createWorkerLogger } from './log';
import { createWorker } from './worker';

// The worker process: the only place that reads the environment and listens.
runMain('worker', async () => {
  const config = loadWorkerConfig();
  const log = createWorkerLogger(config.LOG_LEVEL);
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  const worker = createWorker({ config, log, version });
  const addresses = await listenService(worker, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
  log.info('listening', { ...addresses, workerId: worker.workerId, advertiseAddress: worker.advertiseAddress, orchestration: config.ORCHESTRATION_GRPC_ADDR });
  // Stopping waits for running attempts up to the drain grace period, then aborts the rest.
  return { log, stop: () => worker.stop(), stopTimeoutMs: config.WORKER_DRAIN_GRACE_MS + 15_000 };
});
