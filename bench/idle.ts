import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform as startThisPlatform, type Platform, type PlatformOptions } from '@orchestra/tests';
import { fmt } from './load';
import { counterTotal, cpuMs, pidsNamed, postgresBackends } from './probe';
import { Clients, envInt, must, RUN_EVENTS_SCALAR } from './platform-setup';

/**
 * Issue 11, "idle processes cost nothing": the CPU each process of an idle platform uses (every
 * service, the gateway and a worker, each its own process as in production), the CPU of the
 * PostgreSQL backends serving each one and the SQL statements it sends per second, first with nothing
 * to do (a settle after start, then a sampling window), then with 1,000 idle graphql-ws subscribers
 * watching runs that wait for an approval (live, quiet runs). Targets: every idle process < 2% of a
 * core; with 1,000 idle subscribers < 5% in every process.
 *
 * The baseline is another commit measured in the same run, right before: BENCH_IDLE_BASELINE=<git ref>
 * checks it out into a temporary worktree (node_modules hard-linked from this one) and starts its
 * platform with its own code. BENCH_IDLE_REVERT=<commit>,<commit>,... reverts those commits in that
 * worktree first (uncommitted), so "main without this work" needs no branch of its own: a clean clone
 * has every commit named. The baseline in docs/benchmarks.md (e688640 there, a local branch) is
 * a9183f4 with the six idle commits reverted:
 *
 *   npm run bench -- idle
 *   BENCH_IDLE_BASELINE=main BENCH_IDLE_SECONDS=60 BENCH_IDLE_SETTLE_SECONDS=30 npm run bench -- idle
 *   BENCH_IDLE_BASELINE=a9183f4 BENCH_IDLE_REVERT=a9183f4,894cbdc,1c3a228,acf0ce5,9849931,aff5128 npm run bench -- idle
 */

const ROOT = join(__dirname, '..');
const SERVICES = ['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const;
const TARGET_IDLE = 2;
const TARGET_SUBSCRIBED = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

type StartPlatform = (options: PlatformOptions) => Promise<Platform>;

/** What one process (or group) cost over a window: % of a core, its PostgreSQL backends' %, statements/s. */
interface Usage {
  cpu: number;
  backends: number;
  statementsPerSecond: number;
}

interface Window {
  seconds: number;
  usage: Map<string, Usage>;
  redis: number;
  clients: number | undefined;
  load: { before: string; after: string };
}

interface Measured {
  label: string;
  idle: Window;
  subscribed: Window;
  subscribers: number;
  opened: number;
}

interface Target {
  label: string;
  pid: number;
  metricsUrl: string | undefined;
}

const targetsOf = (platform: Platform): Target[] => [
  { label: 'gateway', pid: platform.gateway.process.pid!, metricsUrl: platform.gateway.opsUrl ? `${platform.gateway.opsUrl}/metrics` : undefined },
  ...SERVICES.map((s) => ({ label: s, pid: platform.services[s]!.process.pid!, metricsUrl: `${platform.services[s]!.httpUrl}/metrics` })),
  ...platform.workers.map((w, i) => ({ label: `worker${platform.workers.length > 1 ? ` ${i + 1}` : ''}`, pid: w.process.pid!, metricsUrl: undefined })),
];

async function cpuOf(pids: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = await cpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

/** CPU used between two readings; a pid only in `after` (a new backend) counts from zero. */
const delta = (before: Map<number, number>, after: Map<number, number>): number => [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

/** The PostgreSQL backends of `pid`; a machine out of connections (other suites running) is asked again, then counted as none. */
async function backendsOf(platform: Platform, pid: number): Promise<number[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await postgresBackends(platform.pool, [pid]);
    } catch (error) {
      if (attempt >= 5) {
        process.stderr.write(`bench idle: cannot list the PostgreSQL backends of ${pid}: ${(error as Error).message}\n`);
        return [];
      }
      await sleep(1_000);
    }
  }
}

/** Samples every target's CPU, its backends' CPU and its statements over `seconds`. */
async function sample(platform: Platform, seconds: number, clientPids: readonly number[]): Promise<Window> {
  const targets = targetsOf(platform);
  const redisPids = await pidsNamed('redis-server');
  const read = async () => {
    const at = Date.now();
    const processes = await cpuOf(targets.map((t) => t.pid));
    const backends = new Map<string, Map<number, number>>();
    for (const t of targets) backends.set(t.label, await cpuOf(await backendsOf(platform, t.pid)));
    const statements = new Map<string, number>();
    for (const t of targets) if (t.metricsUrl) statements.set(t.label, await counterTotal([t.metricsUrl], 'orchestra_db_statements_total'));
    return { at, processes, backends, statements, redis: await cpuOf(redisPids), clients: await cpuOf(clientPids) };
  };
  const loadBefore = loadAverage();
  const before = await read();
  await sleep(seconds * 1000);
  const after = await read();
  const elapsed = (after.at - before.at) / 1000;
  const percent = (ms: number) => ms / 10 / elapsed;
  const usage = new Map<string, Usage>();
  for (const t of targets) {
    usage.set(t.label, {
      cpu: percent((after.processes.get(t.pid) ?? 0) - (before.processes.get(t.pid) ?? 0)),
      backends: percent(delta(before.backends.get(t.label) ?? new Map(), after.backends.get(t.label) ?? new Map())),
      statementsPerSecond: t.metricsUrl ? ((after.statements.get(t.label) ?? 0) - (before.statements.get(t.label) ?? 0)) / elapsed : NaN,
    });
  }
  return {
    seconds: elapsed,
    usage,
    redis: percent(delta(before.redis, after.redis)),
    clients: clientPids.length > 0 ? percent(delta(before.clients, after.clients)) : undefined,
    load: { before: loadBefore, after: loadAverage() },
  };
}

/** One platform (this tree's, or a baseline's `startPlatform`): idle, then with `subscribers` idle subscribers. */
async function measure(label: string, startPlatform: StartPlatform, o: { settleSeconds: number; seconds: number; subscribers: number; runs: number }): Promise<Measured> {
  process.stdout.write(`${new Date().toISOString()} bench idle: ${label}: starting the platform\n`);
  const platform = await startPlatform({
    services: [...SERVICES],
    workers: 1,
    env: { identity: { ACCESS_TOKEN_TTL_SECONDS: '7200' }, gateway: { RATE_LIMIT_PER_MINUTE: '100000000' } },
  });
  try {
    // Which process is which (e.g. to read the profiles ORCHESTRA_CHILD_NODE_ARGS="--cpu-prof" writes, named by pid).
    process.stdout.write(`${new Date().toISOString()} bench idle: ${label}: pids ${targetsOf(platform).map((t) => `${t.label} ${t.pid}`).join(', ')}\n`);
    const signUp = must(
      await platform.graphql<{ signUp: { accessToken: string } }>(`mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }`, {
        i: { email: `idle.${Date.now()}@example.com`, password: 'Quiet-Lantern-Harbor-71!', name: 'Idle Owner', organizationName: 'Idle' },
      }),
      'signUp',
    ).signUp;
    const auth = { token: signUp.accessToken };
    // Runs that stay live and quiet: each waits for an approval (default timeout 7 days), holding no worker slot.
    const workflowId = must(
      await platform.graphql<{ createWorkflow: { id: string } }>(
        `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`,
        { i: { name: 'idle-watched', steps: [{ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'Go on?' } }] } },
        auth,
      ),
      'createWorkflow',
    ).createWorkflow.id;
    const runs: Array<{ id: string; lastSeq: number }> = [];
    for (let i = 0; i < o.runs; i += 1) {
      runs.push({ id: must(await platform.graphql<{ startRun: { run: { id: string } } }>(`mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId } }, auth), 'startRun').startRun.run.id, lastSeq: 0 });
    }
    await sleep(2_000);
    for (const run of runs) run.lastSeq = must(await platform.graphql<{ run: { lastSeq: number } }>(`query($id: ID!) { run(id: $id) { lastSeq } }`, { id: run.id }, auth), 'run').run.lastSeq;

    process.stdout.write(`${new Date().toISOString()} bench idle: ${label}: settling ${o.settleSeconds} s, then sampling ${o.seconds} s with no subscriber\n`);
    await sleep(o.settleSeconds * 1000);
    const idle = await sample(platform, o.seconds, []);

    const clients = await Clients.start(2);
    try {
      const plan = Array.from({ length: o.subscribers }, (_, i) => ({ runId: runs[i % runs.length]!.id, afterSeq: runs[i % runs.length]!.lastSeq }));
      const { opened } = await clients.open({
        url: platform.wsUrl,
        token: signUp.accessToken,
        query: RUN_EVENTS_SCALAR,
        field: 'runEvents',
        compression: true,
        subscriptions: plan,
      });
      process.stdout.write(`${new Date().toISOString()} bench idle: ${label}: ${opened} subscribers open; settling 10 s, then sampling ${o.seconds} s\n`);
      await sleep(10_000);
      const pids = Object.values(clients.pids()).filter((p): p is number => p !== undefined);
      const subscribed = await sample(platform, o.seconds, pids);
      await clients.close();
      return { label, idle, subscribed, subscribers: o.subscribers, opened };
    } finally {
      clients.stop();
    }
  } finally {
    await platform.stop();
  }
}

/**
 * A temporary worktree of `ref` with `reverts` reverted in it (newest first, uncommitted) and this tree's
 * node_modules hard-linked in (no install); removed by the returned function.
 */
function baselineTree(ref: string, reverts: readonly string[]): { dir: string; sha: string; remove: () => void } {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(mkdtempSync(join(tmpdir(), 'orchestra-idle-')), sha);
  execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: ROOT, stdio: 'ignore' });
  const remove = () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
  try {
    if (reverts.length > 0) {
      // Newest first, as the history orders them (commits of one landing share a timestamp), whatever order they were named in.
      const wanted = new Map(reverts.map((r) => [execFileSync('git', ['rev-parse', '--verify', `${r}^{commit}`], { cwd: dir, encoding: 'utf8' }).trim(), r]));
      const ordered = execFileSync('git', ['rev-list', '--topo-order', 'HEAD'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
        .split('\n')
        .filter((c) => wanted.has(c));
      const missing = [...wanted].filter(([c]) => !ordered.includes(c)).map(([, r]) => r);
      if (missing.length > 0) throw new Error(`${missing.join(', ')} not in the history of ${ref}`);
      execFileSync('git', ['revert', '--no-commit', ...ordered], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    const modules = execFileSync('find', ['.', '-maxdepth', '3', '-name', 'node_modules', '-type', 'd', '-not', '-path', './node_modules/*'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const m of modules) if (!existsSync(join(dir, m))) execFileSync('cp', ['-al', join(ROOT, m), join(dir, m)]);
  } catch (error) {
    remove();
    throw new Error(`bench idle: cannot prepare the baseline ${ref}${reverts.length > 0 ? ` with ${reverts.join(', ')} reverted` : ''}: ${(error as Error).message}`);
  }
  return { dir, sha, remove };
}

const cell = (u: Usage | undefined) => (u ? `${fmt(u.cpu, 1)}% (PG ${fmt(u.backends, 1)}%, ${Number.isNaN(u.statementsPerSecond) ? '–' : fmt(u.statementsPerSecond, 1)} st/s)` : 'n/a');
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? `${fmt(a / b, 2)}×` : 'n/a');
const met = (m: Measured, key: 'idle' | 'subscribed', limit: number) =>
  [...m[key].usage].filter(([, u]) => u.cpu >= limit).map(([name, u]) => `${name} ${fmt(u.cpu, 1)}%`);

export async function benchIdle(): Promise<string> {
  const o = { settleSeconds: envInt('BENCH_IDLE_SETTLE_SECONDS', 30), seconds: envInt('BENCH_IDLE_SECONDS', 60), subscribers: envInt('BENCH_IDLE_SUBSCRIBERS', 1_000), runs: envInt('BENCH_IDLE_RUNS', 100) };
  const baselineRef = process.env['BENCH_IDLE_BASELINE'];
  const reverts = (process.env['BENCH_IDLE_REVERT'] ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  if (reverts.length > 0 && !baselineRef) throw new Error('bench idle: BENCH_IDLE_REVERT needs BENCH_IDLE_BASELINE (the commit to revert them in)');
  const results: Measured[] = [];
  let baselineSha: string | undefined;
  if (baselineRef) {
    const tree = baselineTree(baselineRef, reverts);
    baselineSha = tree.sha;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the baseline's own harness, loaded from its checkout (tsx compiles it)
      const baseline = require(join(tree.dir, 'tests', 'src', 'platform.ts')) as { startPlatform: StartPlatform };
      results.push(await measure(`baseline ${tree.sha}${reverts.length > 0 ? ` − ${reverts.length} reverted` : ''}`, baseline.startPlatform, o));
    } finally {
      tree.remove();
    }
  }
  const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  results.push(await measure(`this tree ${sha}${dirty ? ' (+ uncommitted changes)' : ''}`, startThisPlatform, o));

  const labels = [...results.at(-1)!.idle.usage.keys()];
  const base = results.length > 1 ? results[0] : undefined;
  const mine = results.at(-1)!;
  const header = results.flatMap((r) => [`${r.label}: no subscriber`, `${r.label}: ${r.opened} idle subscribers`]);
  const lines = [
    `### Idle platform: CPU per process (${SERVICES.length} services, gateway, 1 worker; ${o.runs} runs waiting for an approval; ${o.settleSeconds} s settle, ${o.seconds} s windows)`,
    '',
    'Each cell: % of one core the process used over the window (user + system, from /proc), the PostgreSQL backends serving its connections (PG), and the SQL statements it sent per second (orchestra_db_statements_total; – where the process has none). ' +
      `Subscribers: graphql-ws \`runEvents\` over the ${o.runs} runs from 2 client processes, open for 10 s before the window. Targets: every idle process < ${TARGET_IDLE}% of a core; with 1,000 idle subscribers < ${TARGET_SUBSCRIBED}% in every process.`,
    '',
    `| process | ${header.join(' | ')} |${base ? ' this / baseline (no subscriber, subscribers) |' : ''}`,
    `|---|${header.map(() => '---').join('|')}|${base ? '---|' : ''}`,
    ...labels.map((name) => {
      const cells = results.flatMap((r) => [cell(r.idle.usage.get(name)), cell(r.subscribed.usage.get(name))]);
      const ratios = base ? ` ${ratio(mine.idle.usage.get(name)?.cpu, base.idle.usage.get(name)?.cpu)}, ${ratio(mine.subscribed.usage.get(name)?.cpu, base.subscribed.usage.get(name)?.cpu)} |` : '';
      return `| ${name} | ${cells.join(' | ')} |${ratios}`;
    }),
    `| Redis (shared machine) | ${results.flatMap((r) => [`${fmt(r.idle.redis, 1)}%`, `${fmt(r.subscribed.redis, 1)}%`]).join(' | ')} |${base ? ' |' : ''}`,
    `| subscription clients (2 processes) | ${results.flatMap((r) => ['–', `${fmt(r.subscribed.clients ?? NaN, 1)}%`]).join(' | ')} |${base ? ' |' : ''}`,
    '',
    ...results.map((r) => `- ${r.label}: load average (1, 5, 15 min) ${r.idle.load.before} → ${r.idle.load.after} over the idle window, ${r.subscribed.load.before} → ${r.subscribed.load.after} with subscribers.`),
    ...results.map((r) => {
      const over = met(r, 'idle', TARGET_IDLE);
      const overSubscribed = met(r, 'subscribed', TARGET_SUBSCRIBED);
      return `- ${r.label}: idle < ${TARGET_IDLE}% ${over.length === 0 ? '**met** by every process' : `**not met**: ${over.join(', ')}`}; with subscribers < ${TARGET_SUBSCRIBED}% ${overSubscribed.length === 0 ? '**met** by every process' : `**not met**: ${overSubscribed.join(', ')}`}.`;
    }),
    ...(baselineSha
      ? [
          `- Baseline: commit ${baselineSha}${reverts.length > 0 ? ` with ${reverts.join(', ')} reverted` : ''} (BENCH_IDLE_BASELINE=${baselineRef}${reverts.length > 0 ? ` BENCH_IDLE_REVERT=${reverts.join(',')}` : ''}), measured first in the same run with its own code.`,
        ]
      : []),
    '',
  ];
  return lines.join('\n');
}
