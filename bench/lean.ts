import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@orchestra/tests';
import { fmt, rssMiB } from './load';

/**
 * Lean processes (issue 11): the resident memory of every process of the platform, started as `npm
 * start` does (each main.ts under tsx) and as production does (compiled dist/main.js under plain
 * node, `npm run build:dist`), in the same run on the same machine. Read twice: idle after start, and
 * idle again after a small load (200 one-step runs) has warmed every code path of the task path.
 */

const ROOT = join(__dirname, '..');
const TARGET_MIB: Record<string, number> = { gateway: 150, identity: 150, catalog: 150, orchestration: 150, audit: 150, notifications: 150, worker: 100 };
/**
 * Idle means idle: every service runs a full GC once it serves and again 6 s later (V8 shrinks its young
 * generation only after ~5 s of quiet), so the reading is taken after 10 s with nothing to do.
 */
const SETTLE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Reading = Record<string, { idle: number; afterLoad: number }>;

const processesOf = (platform: Platform): Array<[string, number | undefined]> => [
  ['gateway', platform.gateway.process.pid],
  ...(['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const).map((s): [string, number | undefined] => [s, platform.services[s]?.process.pid]),
  ['worker', platform.workers[0]?.process.pid],
];

async function measure(compiled: boolean): Promise<Reading> {
  process.env['ORCHESTRA_COMPILED'] = compiled ? '1' : '0';
  const email = 'lean@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration', 'audit', 'notifications'],
    workers: 1,
    env: { identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password }, gateway: { RATE_LIMIT_PER_MINUTE: '100000000' } },
  });
  try {
    await sleep(SETTLE_MS);
    const idle = await Promise.all(processesOf(platform).map(async ([name, pid]) => [name, await rssMiB(pid)] as const));
    const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email, password } });
    const token = login.data!.login.accessToken;
    const workflowName = `lean-${Date.now()}`;
    const created = await platform.graphql('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', { i: { name: workflowName, steps: [{ id: 'a', capability: 'noop', input: {} }] } }, { token });
    if (!created.data) throw new Error(`createWorkflow: ${JSON.stringify(created.errors)}`);
    for (let i = 0; i < 200; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => platform.graphql('mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }', { i: { workflowName, input: { i: i + j } } }, { token })),
      );
      const refused = batch.find((r) => !r.data);
      if (refused) throw new Error(`startRun: ${JSON.stringify(refused.errors)}`);
    }
    await sleep(SETTLE_MS);
    const afterLoad = await Promise.all(processesOf(platform).map(async ([name, pid]) => [name, await rssMiB(pid)] as const));
    return Object.fromEntries(idle.map(([name, mib]) => [name, { idle: mib, afterLoad: afterLoad.find(([n]) => n === name)![1] }]));
  } finally {
    await platform.stop();
  }
}

export async function benchLean(): Promise<string> {
  const started = Date.now();
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dist.mjs')], { stdio: 'inherit' });
  const buildMs = Date.now() - started;
  const tsx = await measure(false);
  const compiled = await measure(true);
  const rows = Object.keys(TARGET_MIB).map((name) => {
    const a = tsx[name]!;
    const b = compiled[name]!;
    const target = TARGET_MIB[name]!;
    return `| ${name} | ${fmt(a.idle, 0)} / ${fmt(a.afterLoad, 0)} | ${fmt(b.idle, 0)} / ${fmt(b.afterLoad, 0)} | ${fmt(b.idle / a.idle, 2)}× / ${fmt(b.afterLoad / a.afterLoad, 2)}× | ≤ ${target} | ${b.idle <= target ? 'met' : 'not met'} |`;
  });
  return [
    '## Lean processes: resident memory per process',
    '',
    'RSS (MiB, from /proc) of each process of one platform, idle 5 s after start / idle 5 s after 200',
    'one-step runs. Baseline: the same processes as `npm start` runs them (main.ts under tsx, loaded as',
    'a loader in the one process); compared: the compiled JavaScript production runs',
    '(`npm run build:dist`, `node --conditions=orchestra-dist <workspace>/dist/main.js`, no tsx).',
    `The build of all runtime workspaces took ${fmt(buildMs / 1000, 1)} s.`,
    '',
    '| process | tsx (baseline) idle / after load | compiled idle / after load | ratio | target | idle target |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
