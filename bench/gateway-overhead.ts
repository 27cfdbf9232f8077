import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startPlatform } from '@orchestra/tests';
import { closedLoop, cpuSeconds, envNumber, fmt, median, rssMiB, type LoadResult } from './load';

/**
 * What Orchestra's gateway costs over a bare Apollo Gateway (issue 11, "The gateway"): the same
 * supergraph, the same subgraph processes and the same subgraph fetcher, in the same run, alternating
 * rounds. Orchestra's gateway does everything it does in production (JWT authentication, revocation
 * check, rate limit, query limits, principal signing per request, metrics, tracing spans, error
 * shaping); the bare one (bench/bare-gateway.ts) sends a pre-signed principal and nothing else.
 * Two queries: `me` (one subgraph) and a runs page with each run's starter's email (orchestration,
 * then identity), at 16 and 64 concurrent callers. The identity subgraph called directly is shown
 * for reference.
 */

const QUERIES = {
  me: '{ me { role user { id email } organization { name } } }',
  'runs + startedBy (two subgraphs)': '{ runs(first: 20) { edges { node { id status startedBy { email } } } } }',
} as const;

async function startBareGateway(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  // The platform's children get ORCHESTRA_CHILD_NODE_ARGS (e.g. --cpu-prof); the baseline gets them too, so both can be profiled.
  const nodeArgs = (process.env['ORCHESTRA_CHILD_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = fork(join(__dirname, 'bare-gateway.ts'), [], { execArgv: [...nodeArgs, '--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`bare gateway exited with ${code}`)));
  });
  return { url, child };
}

/**
 * Each (query, callers) is measured in `rounds` pairs of short runs, one on each gateway, the order
 * alternating (bare first, then ours first, …: ABBA) so that a drift in the machine's load over the pair
 * falls on both sides alike. Each pair gives a ratio (ours / bare); the reported ratio is the median
 * of those, which a single round disturbed by another process's burst does not move. (Two rounds of
 * 6 s, bare always first, gave ratios from 0.72 to 1.22 within one row.)
 *   BENCH_GATEWAY_ROUNDS=8 BENCH_GATEWAY_SECONDS=3 npm run bench -- gateway
 */
export async function benchGatewayOverhead({ durationMs = envNumber('BENCH_GATEWAY_SECONDS', 3) * 1000, rounds = envNumber('BENCH_GATEWAY_ROUNDS', 8), warmupMs = 500 } = {}): Promise<string> {
  const email = 'bench@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const platform = await startPlatform({
    services: ['identity', 'orchestration'],
    env: {
      identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password, ACCESS_TOKEN_TTL_SECONDS: '7200' },
      gateway: { RATE_LIMIT_PER_MINUTE: '100000000' },
    },
  });
  let bare: ChildProcess | undefined;
  try {
    const login = await platform.graphql<{ login: { accessToken: string; user: { id: string }; organization: { id: string }; role: string } }>(
      'mutation($i: LoginInput!) { login(input: $i) { accessToken role user { id } organization { id } } }',
      { i: { email, password } },
    );
    const session = login.data!.login;
    const auth = { token: session.accessToken };
    const workflow = await platform.graphql<{ createWorkflow: { id: string } }>(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name: 'bench-gateway', steps: [{ id: 'a', capability: 'noop' }] } }, auth);
    for (let i = 0; i < 20; i += 1) await platform.graphql(`mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId: workflow.data!.createWorkflow.id } }, auth);

    const sign = () =>
      platform.signPrincipal({ kind: 'user', id: session.user.id, userId: session.user.id, orgId: session.organization.id, role: 'owner', scopes: [], display: email, requestId: 'bench' });
    const started = await startBareGateway({
      SUPERGRAPH_PATH: join(platform.logDir, 'supergraph.graphql'),
      BENCH_PRINCIPAL_HEADER: await sign(),
      SUBGRAPH_URLS: JSON.stringify({ identity: `${platform.services.identity!.httpUrl}/graphql`, orchestration: `${platform.services.orchestration!.httpUrl}/graphql` }),
    });
    bare = started.child;
    const resign = setInterval(() => void sign().then((header) => bare?.send({ header })), 20_000);
    const gatewayUrl = new URL(platform.gatewayUrl);
    const bareUrl = new URL(started.url);
    const pools = new Map<string, Pool>();
    const poolFor = (origin: string) => {
      let pool = pools.get(origin);
      if (!pool) pools.set(origin, (pool = new Pool(origin, { connections: 64 })));
      return pool;
    };
    const caller = (url: URL, body: string, headers: Record<string, string>) => async () => {
      const res = await poolFor(url.origin).request({ path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.body.text();
      return res.statusCode === 200 && !text.includes('"errors"');
    };

    const rows: string[] = [];
    const ratios: string[] = [];
    for (const [name, query] of Object.entries(QUERIES)) {
      const body = JSON.stringify({ query });
      const ours = caller(gatewayUrl, body, { authorization: `Bearer ${session.accessToken}` });
      const baseline = caller(bareUrl, body, {});
      if (!(await ours()) || !(await baseline())) throw new Error(`bench: ${name} fails before load; is the platform healthy?`);
      for (const concurrency of [16, 64]) {
        const results: { bare: LoadResult[]; ours: LoadResult[] } = { bare: [], ours: [] };
        // CPU time of each gateway process per request: steadier than throughput on a shared machine.
        const cpu = { bare: 0, ours: 0 };
        const measured = async (pid: number | undefined, run: () => Promise<LoadResult>) => {
          const before = await cpuSeconds(pid);
          const result = await run();
          return { result, cpu: (await cpuSeconds(pid)) - before };
        };
        const pairRatios: number[] = [];
        const cpuPairRatios: number[] = [];
        for (let round = 0; round < rounds; round += 1) {
          const runBare = () => measured(bare!.pid, () => closedLoop(baseline, { concurrency, durationMs, warmupMs }));
          const runOurs = () => measured(platform.gateway.process.pid, () => closedLoop(ours, { concurrency, durationMs, warmupMs }));
          let b: Awaited<ReturnType<typeof runBare>>;
          let o: Awaited<ReturnType<typeof runOurs>>;
          if (round % 2 === 0) {
            b = await runBare();
            o = await runOurs();
          } else {
            o = await runOurs();
            b = await runBare();
          }
          results.bare.push(b.result);
          results.ours.push(o.result);
          pairRatios.push(o.result.rps / b.result.rps);
          cpuPairRatios.push(o.cpu / Math.max(1, o.result.requests) / (b.cpu / Math.max(1, b.result.requests)));
          cpu.bare += b.cpu / Math.max(1, b.result.requests);
          cpu.ours += o.cpu / Math.max(1, o.result.requests);
        }
        const mean = (xs: LoadResult[], key: keyof LoadResult) => xs.reduce((sum, x) => sum + x[key], 0) / xs.length;
        const row = (path: string, xs: LoadResult[], cpuPerRequest: number) =>
          `| ${name} | ${concurrency} | ${path} | ${fmt(mean(xs, 'rps'), 0)} | ${fmt(mean(xs, 'p50Ms'), 2)} | ${fmt(mean(xs, 'p99Ms'), 2)} | ${fmt((cpuPerRequest / rounds) * 1000, 2)} | ${xs.reduce((s, x) => s + x.errors, 0)} |`;
        rows.push(row('bare Apollo Gateway (baseline)', results.bare, cpu.bare), row('Orchestra gateway', results.ours, cpu.ours));
        ratios.push(
          `${name} at ${concurrency} callers: **${fmt(median(pairRatios), 2)}×** (median of ${rounds} pairs: ${pairRatios.map((r) => fmt(r, 2)).join(', ')}; ratio of the means ${fmt(mean(results.ours, 'rps') / mean(results.bare, 'rps'), 2)}×; gateway CPU per request ${fmt(median(cpuPairRatios), 2)}× the bare one's, median of the pairs)`,
        );
      }
    }
    clearInterval(resign);
    const gatewayRss = await rssMiB(platform.gateway.process.pid);
    const bareRss = await rssMiB(bare.pid);
    await Promise.all([...pools.values()].map((p) => p.close()));

    return [
      `### Gateway overhead against a bare Apollo Gateway (same supergraph, subgraphs and fetcher; ${rounds} pairs of ${durationMs / 1000} s runs, order alternating, median ratio)`,
      '',
      '| query | callers | path | requests/s | p50 ms | p99 ms | gateway CPU ms / request | errors |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `- Orchestra's throughput as a ratio of the bare gateway's (the median of the pairs' ratios): ${ratios.join('; ')}.`,
      `- Resident memory after the load: Orchestra gateway ${fmt(gatewayRss, 0)} MiB, bare gateway ${fmt(bareRss, 0)} MiB.`,
      '',
    ].join('\n');
  } finally {
    bare?.kill();
    await platform.stop();
  }
}
