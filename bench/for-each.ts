import { startPlatform, type Platform } from '@orchestra/tests';
import { fmt, rssMiB } from './load';
import { orgClient, sleep, type OrgClient } from './org-client';

/**
 * forEach fan-out (issue 10): one run whose `each` step runs a transform over 10,000 items with
 * maxParallel 200, against a baseline in the same platform: the same 10,000 transforms as 10,000
 * one-step runs (startRuns of 100 at a time, as a client would queue them). One worker process with
 * 200 slots. Measured: items per second (first item started → last item finished, and the whole
 * run), the expansion (the list step finished → the first item running: the 10,000 item tasks are
 * written in the claim of the `each` step), the most items at once (from the attempts' timestamps),
 * and the orchestration process's resident memory, sampled every 250 ms during each phase.
 */
const ITEMS = 10_000;
const MAX_PARALLEL = 200;
const SLOTS = 200;

const CREATE = 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }';
const START_RUN = 'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }';
const START_RUNS = 'mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }';

async function createWorkflow(org: OrgClient, name: string, steps: unknown[]): Promise<string> {
  return (await org.graphql<{ createWorkflow: { id: string } }>(CREATE, { i: { name, steps } })).createWorkflow.id;
}

/** Samples a process's RSS until stopped; answers the highest seen (MiB). */
function sampleRss(pid: number | undefined): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssMiB(pid));
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30 * 60_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 60_000} minutes`);
    await sleep(500);
  }
}

interface Phase {
  wallMs: number;
  /** first attempt started → last finished */
  busyMs: number;
  peakRss: number;
  mostAtOnce: number;
}

/** The most attempts running at once among `rows` (their start and end timestamps). */
function mostAtOnce(rows: ReadonlyArray<{ started_at: Date; finished_at: Date }>): number {
  const points = rows.flatMap((r) => [
    { at: r.started_at.getTime(), d: 1 },
    { at: r.finished_at.getTime(), d: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const p of points) {
    now += p.d;
    most = Math.max(most, now);
  }
  return most;
}

async function attemptsOf(platform: Platform, where: string, params: unknown[]): Promise<{ rows: Array<{ started_at: Date; finished_at: Date }>; busyMs: number }> {
  const { rows } = await platform.pool.query<{ started_at: Date; finished_at: Date }>(
    `SELECT a.started_at, a.finished_at FROM "${platform.schemas.orchestration}".task_attempts a JOIN "${platform.schemas.orchestration}".tasks t ON t.id = a.task_id
      WHERE ${where} AND a.started_at IS NOT NULL AND a.finished_at IS NOT NULL`,
    params,
  );
  const first = Math.min(...rows.map((r) => r.started_at.getTime()));
  const last = Math.max(...rows.map((r) => r.finished_at.getTime()));
  return { rows, busyMs: last - first };
}

export async function benchForEach(): Promise<string> {
  const platform = await startPlatform({ services: ['identity', 'orchestration'], workers: 1, env: { worker: { WORKER_SLOTS: String(SLOTS) } } });
  const schema = platform.schemas.orchestration;
  const orchestrationPid = platform.services.orchestration?.process.pid;
  try {
    const org = orgClient(platform);
    await until('a worker online', async () => {
      const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".workers WHERE status = 'ONLINE'`);
      return (rows[0]?.n ?? 0) >= 1;
    });
    const idleRss = await rssMiB(orchestrationPid);
    const items = Array.from({ length: ITEMS }, (_, i) => i);
    const oneStep = await createWorkflow(org, 'one-transform', [{ id: 'work', capability: 'transform', input: { value: '{{ input.n }}' } }]);
    const fanOut = await createWorkflow(org, 'for-each', [
      { id: 'list', capability: 'transform', input: { value: { items: '{{ input.items }}' } } },
      { id: 'each', capability: 'transform', input: { value: '{{ item }}' }, dependsOn: ['list'], forEach: { items: '{{ steps.list.output.items }}', maxParallel: MAX_PARALLEL } },
    ]);
    // Warm-up: a small fan-out and a few one-step runs (code paths loaded, connections open).
    const warm = (await org.graphql<{ startRun: { run: { id: string } } }>(START_RUN, { i: { workflowId: fanOut, input: { items: [1, 2, 3] } } })).startRun.run.id;
    await org.graphql(START_RUNS, { i: [1, 2, 3].map((n) => ({ workflowId: oneStep, input: { n } })) });
    await until('the warm-up', async () => {
      const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".runs WHERE org_id = $1 AND finished_at IS NULL`, [org.orgId]);
      return rows[0]?.n === 0;
    });

    // Baseline: 10,000 one-step runs.
    let rss = sampleRss(orchestrationPid);
    let started = Date.now();
    for (let i = 0; i < ITEMS; i += 100) await org.graphql(START_RUNS, { i: items.slice(i, i + 100).map((n) => ({ workflowId: oneStep, input: { n } })) });
    const queuedMs = Date.now() - started;
    await until('the one-step runs', async () => {
      const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".runs WHERE org_id = $1 AND workflow_id = $2 AND status = 'SUCCEEDED'`, [org.orgId, oneStep]);
      return (rows[0]?.n ?? 0) >= ITEMS + 3;
    });
    const baselineWall = Date.now() - started;
    const baselineAttempts = await attemptsOf(platform, `t.org_id = $1 AND a.run_id IN (SELECT id FROM "${schema}".runs WHERE workflow_id = $2) AND a.queued_at >= $3`, [org.orgId, oneStep, new Date(started)]);
    const baseline: Phase = { wallMs: baselineWall, busyMs: baselineAttempts.busyMs, peakRss: await rss.stop(), mostAtOnce: mostAtOnce(baselineAttempts.rows) };

    // forEach: one run, 10,000 items.
    rss = sampleRss(orchestrationPid);
    started = Date.now();
    const runId = (await org.graphql<{ startRun: { run: { id: string } } }>(START_RUN, { i: { workflowId: fanOut, input: { items } } })).startRun.run.id;
    await until('the forEach run', async () => {
      const { rows } = await platform.pool.query<{ status: string }>(`SELECT status FROM "${schema}".runs WHERE id = $1`, [runId]);
      const status = rows[0]?.status ?? '';
      if (['FAILED', 'CANCELLED'].includes(status)) throw new Error(`the forEach run ended ${status}`);
      return status === 'SUCCEEDED';
    });
    const forEachWall = Date.now() - started;
    const itemAttempts = await attemptsOf(platform, 'a.run_id = $1 AND t.parent_task_id IS NOT NULL', [runId]);
    const forEach: Phase = { wallMs: forEachWall, busyMs: itemAttempts.busyMs, peakRss: await rss.stop(), mostAtOnce: mostAtOnce(itemAttempts.rows) };
    const { rows: expandRows } = await platform.pool.query<{ expand_ms: number; items: number }>(
      `SELECT extract(epoch FROM (SELECT min(a.started_at) FROM "${schema}".task_attempts a JOIN "${schema}".tasks t ON t.id = a.task_id WHERE a.run_id = $1 AND t.parent_task_id IS NOT NULL)
                                 - (SELECT finished_at FROM "${schema}".tasks WHERE run_id = $1 AND step_id = 'list' AND parent_task_id IS NULL)) * 1000 AS expand_ms,
              (SELECT count(*)::int FROM "${schema}".tasks WHERE run_id = $1 AND parent_task_id IS NOT NULL AND status = 'SUCCEEDED') AS items`,
      [runId],
    );
    const expandMs = Number(expandRows[0]?.expand_ms ?? NaN);
    void warm;

    const perSecond = (ms: number) => (ITEMS / ms) * 1000;
    const row = (what: string, p: Phase) => `| ${what} | ${fmt(p.wallMs / 1000, 1)} | ${fmt(perSecond(p.wallMs), 0)} | ${fmt(perSecond(p.busyMs), 0)} | ${p.mostAtOnce} | ${fmt(p.peakRss, 0)} |`;
    return [
      `### forEach: ${ITEMS.toLocaleString('en')} items, maxParallel ${MAX_PARALLEL} (1 worker × ${SLOTS} slots, transform items)`,
      '',
      '| what | wall s | items/s (wall) | items/s (first start → last end) | most at once | orchestration peak RSS MiB |',
      '|---|---|---|---|---|---|',
      row(`${ITEMS.toLocaleString('en')} one-step runs (baseline; startRuns of 100)`, baseline),
      row(`one run, forEach over ${ITEMS.toLocaleString('en')} items`, forEach),
      '',
      `- forEach against the same work as one-step runs: **${fmt(perSecond(forEach.wallMs) / perSecond(baseline.wallMs), 2)}×** the items per second over the whole run (${fmt(perSecond(forEach.busyMs) / perSecond(baseline.busyMs), 2)}× from the first item started to the last ended).`,
      `- Expansion: the list step finished → the first of the ${(expandRows[0]?.items ?? 0).toLocaleString('en')} items running in **${fmt(expandMs, 0)} ms** (the item tasks are written in one INSERT … SELECT in the claim of the \`each\` step).`,
      `- maxParallel held: at most ${forEach.mostAtOnce} items ran at once (limit ${MAX_PARALLEL}).`,
      `- Orchestration resident memory: ${fmt(idleRss, 0)} MiB idle, peak ${fmt(baseline.peakRss, 0)} MiB during the one-step runs, ${fmt(forEach.peakRss, 0)} MiB during the forEach run.`,
      `- Queuing the ${ITEMS.toLocaleString('en')} one-step runs took ${fmt(queuedMs / 1000, 1)} s of the baseline's wall time (the worker ran them meanwhile).`,
      '',
    ].join('\n');
  } finally {
    await platform.stop();
  }
}
