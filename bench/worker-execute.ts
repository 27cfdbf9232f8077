// The worker's CPU per noop Execute call, two worker trees A/B interleaved in one process (issue 11).
//   npx tsx bench/worker-execute.ts <A: workers/src dir> <B: workers/src dir> [rounds] [calls per round]
// This process hosts both workers (their gRPC servers, attempt tables and loggers, stdout to wherever
// it points); a child process is the dispatcher, calling Execute 16 at a time with a dispatch token,
// a traceparent and a step timeout as the orchestration service does. Only this process's CPU is
// counted (process.cpuUsage around each batch), so the number is the worker's own, not the client's.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { Logger } from '@orchestra/lib';

const CONCURRENCY = 16;

interface WorkerTree {
  // What this uses of workers/src/worker.ts and test-support.ts (a tree given by path, not a package).
  createWorker(deps: { config: unknown; log: Logger }): {
    grpc: { listen(host: string, port: number): Promise<number> };
    dispatchTokens: { accept(tokens: readonly string[]): void };
    stop(): Promise<void>;
  };
  testWorkerConfig(env: Record<string, string>): unknown;
  asOrchestrator(workerId: string): { internalToken: string };
  /** The logger its main.ts makes, when the tree says how (else lib's createLogger). */
  createWorkerLogger?: (level: 'info') => Logger;
}

async function serve(dir: string, label: string) {
  const tree = { ...(await import(resolve(dir, 'worker.ts'))), ...(await import(resolve(dir, 'test-support.ts'))) } as WorkerTree;
  const main = (await import(resolve(dir, 'log.ts')).catch(() => ({}))) as Partial<WorkerTree>;
  const { createLogger } = await import('@orchestra/lib');
  const log = main.createWorkerLogger?.('info') ?? createLogger({ service: 'worker', level: 'info' });
  const workerId = `ab-${label}`;
  const worker = tree.createWorker({ config: tree.testWorkerConfig({ WORKER_ID: workerId, WORKER_SLOTS: '64', WORKER_CAPABILITIES: 'noop' }), log });
  const token = tree.asOrchestrator(workerId).internalToken;
  worker.dispatchTokens.accept([token]);
  const port = await worker.grpc.listen('127.0.0.1', 0);
  return { label, port, token, worker };
}

async function client() {
  const { serverStreamCall, insecureCredentials, INTERNAL_CHANNEL_OPTIONS } = await import('@orchestra/lib');
  const { automationV1 } = await import('@orchestra/proto');
  const clients = new Map<number, InstanceType<typeof automationV1.AutomationServiceClient>>();
  let seq = 0;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const one = (port: number, token: string) =>
    new Promise<void>((done, fail) => {
      let c = clients.get(port);
      if (!c) clients.set(port, (c = new automationV1.AutomationServiceClient(`127.0.0.1:${port}`, insecureCredentials(), INTERNAL_CHANNEL_OPTIONS)));
      seq += 1;
      const id = `${Date.now().toString(36)}${seq.toString(36).padStart(8, '0')}${hex(8)}`;
      const request = automationV1.ExecuteRequest.fromPartial({
        taskId: `task_${id}`, attemptId: `att_${id}`, runId: `run_${id}`, orgId: 'org_01JBENCHORGANIZATION00000', stepId: 'a', capability: 'noop',
        input: { n: seq }, attempt: 1, timeoutMs: 300_000, traceparent: `00-${hex(32)}-${hex(16)}-01`,
      });
      let result = false;
      const stream = serverStreamCall(c, c.execute, request, { internalToken: token }, { deadlineMs: request.timeoutMs, requestId: `att_${request.attemptId}` });
      stream.on('data', (m: { event?: { $case: string } }) => (result ||= m.event?.$case === 'result'));
      stream.on('error', fail);
      stream.on('end', () => (result ? done() : fail(new Error('no result'))));
    });
  process.on('message', async ({ port, token, calls }: { port: number; token: string; calls: number }) => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < calls) {
        next += 1;
        await one(port, token);
      }
    }));
    process.send!('done');
  });
  process.send!('ready');
}

async function main() {
  const [a, b, roundsArg = '10', callsArg = '2000'] = process.argv.slice(2);
  if (!a || !b) throw new Error('usage: worker-execute.ts <A workers/src> <B workers/src> [rounds] [calls]');
  const servers = [await serve(a, 'A'), await serve(b, 'B')];
  const child = fork(__filename, ['--client'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = () => new Promise<void>((ok) => child.once('message', () => ok()));
  await next();
  const batch = async (s: (typeof servers)[number], calls: number) => {
    const before = process.cpuUsage();
    const ended = next();
    child.send({ port: s.port, token: s.token, calls });
    await ended;
    const used = process.cpuUsage(before);
    return (used.user + used.system) / calls;
  };
  for (const s of servers) await batch(s, 1000); // warm-up: JIT, channels, pools
  const per: Record<string, number[]> = { A: [], B: [] };
  const rounds = Number(roundsArg);
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? servers : [...servers].reverse()) per[s.label]!.push(await batch(s, Number(callsArg)));
    process.stderr.write(`round ${r + 1}: A ${per['A']!.at(-1)!.toFixed(1)} µs, B ${per['B']!.at(-1)!.toFixed(1)} µs\n`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const [ma, mb] = [median(per['A']!), median(per['B']!)];
  // The machine's load moves both of a round's batches alike: the ratio within a round is the measure.
  const ratio = median(per['A']!.map((x, i) => per['B']![i]! / x));
  process.stderr.write(
    `worker CPU per noop Execute (${rounds} rounds × ${callsArg} calls, ${CONCURRENCY} at a time): median A ${ma.toFixed(1)} µs, B ${mb.toFixed(1)} µs; median of the rounds' B/A ${ratio.toFixed(2)}×\n`,
  );
  child.kill();
  for (const s of servers) await s.worker.stop();
  process.exit(0);
}

if (process.argv.includes('--client')) void client();
else main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
