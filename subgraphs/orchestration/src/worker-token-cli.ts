// `npm run worker-token -w @orchestra/orchestration -- <worker id> [--out <file>]`: mints the token a
// worker with that WORKER_ID registers with (lib/src/worker-credentials.ts), under the first of
// WORKER_AUTH_SECRETS. Whoever runs it holds the orchestration service's secret: an operator for a
// worker outside the cluster, or the chart's init container, which writes the token of its own pod
// into a memory volume so the worker container never sees the secret.
import { chmodSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, WORKER_ID_PATTERN, loadConfig, mintWorkerToken } from '@orchestra/lib';
import { orchestrationConfigSchema } from './config';

const cliConfigSchema = z.object({ WORKER_AUTH_SECRETS: orchestrationConfigSchema.shape.WORKER_AUTH_SECRETS });

const USAGE = 'usage: npm run worker-token -w @orchestra/orchestration -- <worker id> [--out <file>]   (WORKER_AUTH_SECRETS in the environment)\n';

function main(args: string[]): number {
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const positional = outAt < 0 ? args : args.filter((_, i) => i !== outAt && i !== outAt + 1);
  const [workerId, ...rest] = positional;
  if (workerId === undefined || rest.length > 0 || (outAt >= 0 && out === undefined)) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!WORKER_ID_PATTERN.test(workerId)) {
    process.stderr.write(`worker-token: the worker id ${JSON.stringify(workerId)} is not 1-128 letters, digits, . _ : -\n`);
    return 2;
  }
  const config = loadConfig(cliConfigSchema);
  const token = mintWorkerToken(config.WORKER_AUTH_SECRETS[0]!, workerId);
  if (out === undefined) {
    process.stdout.write(`${token}\n`);
  } else {
    writeFileSync(out, `${token}\n`, { mode: 0o600 });
    chmodSync(out, 0o600);
    process.stdout.write(`worker-token: wrote the token of worker ${workerId} to ${out}\n`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`worker-token: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exitCode = 1;
}
