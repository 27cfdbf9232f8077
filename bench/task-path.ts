import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Pool as HttpPool } from 'undici';
import { INTERNAL_CHANNEL_OPTIONS, insecureCredentials } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { startPlatform } from '@orchestra/tests';
import { fmt, percentile } from './load';
import { costTable } from './probe';
import { bullmqBaseline, postgresBaseline } from './task-path-baselines';
import { callersLoop, oneStep, sleep, startRunsPhases, viaGateway, viaGrpc, type Bench, type Phase } from './task-path-phases';
import { fanOut, fanOutLine, queueLatency, queueRates, type FanOutBreakdown, type LatencyResult } from './task-path-stages';

/**
 * The task path end to end (issue 11): startRun → PostgreSQL → BullMQ → dispatcher → gRPC Execute on
 * a worker process → result → dependents, with the same run's baselines: raw BullMQ (add+process and
 * drain) and raw PostgreSQL write transactions. Scenarios, selectable by name:
 *   one-step       one-step noop runs through the gateway, 32 callers (startRun)
 *   start-runs     the same started in bulk: GraphQL startRuns, gRPC StartRun (32 callers), gRPC StartRuns
 *   queue-latency  300 one-step runs/s offered through the gateway, slots free: queued → claimed per task
 *   fan-out        1 → 50 → 1 noop DAGs, 100 runs, 64 slots
 * Each reports tasks/s, CPU ms per task per process and SQL statements per task.
 * BENCH_ONE_STEP_AGAIN=1 runs the one-step phase once more after the start-runs phases (is the first one warm?).
 */
export const TASK_PATH_SCENARIOS = ['one-step', 'start-runs', 'queue-latency', 'fan-out'] as const;
export type TaskPathScenario = (typeof TASK_PATH_SCENARIOS)[number];

/** BENCH_TASK_PATH_SCENARIOS (comma-separated names of TASK_PATH_SCENARIOS), or every scenario when unset. */
export function taskPathScenariosFromEnv(): TaskPathScenario[] {
  const raw = process.env['BENCH_TASK_PATH_SCENARIOS'];
  if (raw === undefined || raw.trim() === '') return [...TASK_PATH_SCENARIOS];
  const names = raw.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(TASK_PATH_SCENARIOS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_TASK_PATH_SCENARIOS: unknown ${unknown.join(', ')} (have: ${TASK_PATH_SCENARIOS.join(', ')})`);
  return names as TaskPathScenario[];
}

export async function benchTaskPath(
  scenarios: readonly TaskPathScenario[] = TASK_PATH_SCENARIOS,
  { runs = Number(process.env['BENCH_TASK_RUNS'] ?? 2_000), command = scenarios.join(' ') }: { runs?: number; command?: string } = {},
): Promise<string> {
  const email = 'bench@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const startLoad = loadavg()[0] as number;
  const platform = await startPlatform({
    services: ['identity', 'orchestration', 'audit'],
    workers: 2,
    env: {
      identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password },
      orchestration: { LOG_LEVEL: 'info' },
      worker: { WORKER_SLOTS: '32' },
      gateway: { RATE_LIMIT_PER_MINUTE: '100000000' },
    },
  });
  const http = new HttpPool(new URL(platform.gatewayUrl).origin, { connections: 40 });
  const grpc = new orchestrationV1.OrchestrationServiceClient(platform.services.orchestration!.grpcAddress!, insecureCredentials(), INTERNAL_CHANNEL_OPTIONS);
  let refresher: NodeJS.Timeout | undefined;
  try {
    const login = await platform.graphql<{ login: { accessToken: string; user: { id: string }; organization: { id: string } } }>(
      'mutation($i: LoginInput!) { login(input: $i) { accessToken user { id } organization { id } } }',
      { i: { email, password } },
    );
    const session = login.data!.login;
    const sign = () =>
      platform.signPrincipal({ kind: 'user', id: session.user.id, userId: session.user.id, orgId: session.organization.id, role: 'owner', scopes: [], display: email, requestId: `bench-${randomBytes(4).toString('hex')}` });
    let header = await sign();
    refresher = setInterval(() => void sign().then((h) => (header = h)), 20_000);
    const path = new URL(platform.gatewayUrl).pathname;
    const b: Bench = {
      platform,
      grpc,
      internalToken: platform.internalToken,
      principalHeader: () => header,
      gql: async (query, variables) => {
        const res = await http.request({ path, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` }, body: JSON.stringify({ query, variables }) });
        return (await res.body.json()) as never;
      },
      targets: {
        processes: [
          { label: 'gateway', pids: [platform.gateway.process.pid!] },
          { label: 'orchestration', pids: [platform.services.orchestration!.process.pid!] },
          { label: 'identity', pids: [platform.services.identity!.process.pid!] },
          { label: 'audit', pids: [platform.services.audit!.process.pid!] },
          { label: 'workers', pids: platform.workers.map((w) => w.process.pid!) },
        ],
        pool: platform.pool,
        metricsUrls: (['orchestration', 'identity', 'audit'] as const).map((s) => `${platform.services[s]!.httpUrl}/metrics`),
      },
    };
    for (;;) {
      const res = await b.gql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {});
      if ((res.data?.workers ?? []).length >= 2) break;
      await sleep(200);
    }
    const create = async (name: string, steps: unknown[]) => {
      const res = await b.gql('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', { i: { name, steps } });
      if (!res.data) throw new Error(`createWorkflow failed: ${JSON.stringify(res.errors)}`);
    };
    await create('one-step', [{ id: 'a', capability: 'noop' }]);
    const branches = Array.from({ length: 50 }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['a'] }));
    await create('fan-50', [{ id: 'a', capability: 'noop' }, ...branches, { id: 'c', capability: 'noop', dependsOn: branches.map((x) => x.id) }]);
    // Warm-up: every path once, prepared statements planned, connections open, and long enough that
    // every process's hot code is optimised and its heap grown: after 200 runs the first phase still
    // cost 1.6x the platform CPU per task of the same phase run again after the others (session 22:
    // orchestration 3.92 vs 2.36 ms, workers 1.65 vs 0.56), so the first phase measured the warm-up.
    await callersLoop(2_000, 32, 1, async (i) => [await viaGateway(b, 'one-step', i)]);
    await callersLoop(500, 32, 1, async (i) => [await viaGrpc(b, 'one-step', i)]);
    await sleep(1_000);

    const baselineQueue = await bullmqBaseline(10_000);
    const baselinePg = await postgresBaseline(4_000);
    const phases: Phase[] = [];
    const latencies: LatencyResult[] = [];
    let fan: { phase: Phase; breakdown: FanOutBreakdown } | undefined;
    if (scenarios.includes('one-step')) phases.push(await oneStep(b, runs));
    if (scenarios.includes('start-runs')) phases.push(...(await startRunsPhases(b, runs)));
    // The one-step phase again after the others (BENCH_ONE_STEP_AGAIN=1): the same work on a warmed-up platform.
    if (scenarios.includes('one-step') && process.env['BENCH_ONE_STEP_AGAIN'] === '1') {
      const again = await oneStep(b, runs);
      phases.push({ ...again, name: `${again.name}, again after the other phases` });
    }
    if (scenarios.includes('fan-out')) {
      fan = await fanOut(b, 100);
      phases.push(fan.phase);
    }
    if (scenarios.includes('queue-latency')) {
      for (const rate of queueRates()) {
        const latency = await queueLatency(b, rate, 10);
        latencies.push(latency);
        phases.push(latency.phase);
      }
    }

    const tps = (p: Phase) => p.tasks / p.seconds;
    const lines = [
      `### Task path (${scenarios.join(', ')}; 2 worker processes × 32 slots; identity, orchestration, audit, gateway, each its own process)`,
      '',
      `- Command: \`npm run bench -- ${command}\` (BENCH_TASK_RUNS=${runs})`,
      `- Baselines in the same run: raw BullMQ no-op jobs at concurrency 64 on the same Redis: **${fmt(baselineQueue.addAndProcess, 0)}/s** added while processing, **${fmt(baselineQueue.drain, 0)}/s** draining; raw PostgreSQL write transactions (BEGIN; INSERT; COMMIT, 32 connections): **${fmt(baselinePg, 0)}/s**.`,
      '',
      '| phase | tasks | seconds | tasks/s | × raw BullMQ (add+process) | × raw PostgreSQL tx/s | run p50 ms | run p95 ms |',
      '|---|---|---|---|---|---|---|---|',
      ...phases.map(
        (p) =>
          `| ${p.name} | ${p.tasks} | ${fmt(p.seconds, 2)} | **${fmt(tps(p), 0)}** | ${fmt(tps(p) / baselineQueue.addAndProcess, 3)} | ${fmt(tps(p) / baselinePg, 3)} | ${fmt(percentile(p.runMs, 50), 0)} | ${fmt(percentile(p.runMs, 95), 0)} |`,
      ),
      '',
      ...latencies.flatMap((latency) => [
        `- Queue latency at ${latency.offered} tasks/s offered (queued — the QUEUED event, in the startRun transaction — to claimed — the RUNNING event, in the claim transaction, just before the Execute call): p50 **${fmt(percentile(latency.queuedToClaimedMs, 50), 1)} ms**, p95 **${fmt(percentile(latency.queuedToClaimedMs, 95), 1)} ms**, p99 ${fmt(percentile(latency.queuedToClaimedMs, 99), 1)} ms over ${latency.queuedToClaimedMs.length} tasks. Of it, mean per attempt (orchestration's /metrics): job added to Redis → taken by the dispatcher ${fmt(latency.stages.queue, 1)} ms, job taken → claimed ${fmt(latency.stages.claim, 1)} ms (the batch's wait and the claim transaction, whose start is the RUNNING event's time); the rest is the startRun transaction and its commit's publish and enqueue.`,
        '',
      ]),
      ...(fan ? [fanOutLine(fan.phase, fan.breakdown), ''] : []),
      'CPU time per task, by process (from /proc; PostgreSQL backends are those serving the platform\'s connections; Redis is the machine\'s, shared with whatever else runs), and SQL statements per task (orchestra_db_statements_total of every service, BEGIN/COMMIT included):',
      '',
      ...costTable(phases),
      '',
      `- Load average (1 min) of this 2-core machine at the start of the bench: ${fmt(startLoad, 1)}; per phase, at its start → its end: ${phases.map((p) => `${p.name.split(',')[0]}: ${fmt(p.load[0], 1)} → ${fmt(p.load[1], 1)}`).join('; ')}.`,
      '',
    ];
    return lines.join('\n');
  } finally {
    if (refresher) clearInterval(refresher);
    grpc.close();
    await http.close();
    await platform.stop();
  }
}
