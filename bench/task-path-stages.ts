// The task-path bench's dispatch scenarios (bench/task-path.ts): queue latency at an offered rate and the
// 1 → 50 → 1 fan-out, with where a task's time went (its rows, and the dispatcher's stage histograms).
import { fmt, percentile } from './load';
import { callersLoop, phase, sleep, viaGateway, viaGrpc, type Bench, type Phase } from './task-path-phases';

export interface LatencyResult {
  phase: Phase;
  offered: number;
  queuedToClaimedMs: number[];
  /** The dispatcher's stages over the phase, mean ms per attempt. */
  stages: Record<Stage, number>;
}

/** Offers `rate` one-step runs per second through the gateway for `seconds` (open loop), then reads queued → claimed per task from the run events. */
export async function queueLatency(b: Bench, rate: number, seconds: number): Promise<LatencyResult> {
  const total = rate * seconds;
  let ids: string[] = [];
  const before = await stageTotals(b);
  const p = await phase(b, `${total} one-step runs offered at ${rate}/s through the gateway`, 1, async () => {
    const pending: Array<Promise<string>> = [];
    const started = Date.now();
    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      pending.push(viaGateway(b, 'one-step', i));
    }
    ids = await Promise.all(pending);
    return ids;
  });
  const schema = b.platform.schemas.orchestration;
  const { rows } = await b.platform.pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM max(at) FILTER (WHERE event->>'taskStatus' = 'RUNNING') - min(at) FILTER (WHERE event->>'taskStatus' = 'QUEUED')) * 1000 AS ms
       FROM "${schema}".run_events WHERE run_id = ANY($1::uuid[]) AND kind = 'TASK_STATUS' GROUP BY task_id`,
    [ids],
  );
  return { phase: p, offered: rate, queuedToClaimedMs: rows.map((r) => Number(r.ms)).sort((x, y) => x - y), stages: stageMeans(before, await stageTotals(b)) };
}

/**
 * Where a fan-out task's time went, from its attempt's timestamps (ms, sorted): queued (the start of
 * the transaction that queued it) → started (the claim statement's clock) → finished (the start of
 * the result's transaction); `worker` is the attempt's duration_ms: the worker's own time, or when it
 * reports 0 ms (a noop) the Execute call as the dispatcher timed it.
 */
export interface FanOutBreakdown {
  queuedToStarted: number[];
  startedToFinished: number[];
  worker: number[];
  /** Mean ms per attempt of the dispatcher's stages over the phase (orchestration's /metrics): claim, Execute call, result. */
  stages: Record<Stage, number>;
}

export type Stage = 'queue' | 'claim' | 'execute' | 'result';
type StageTotals = Record<Stage, { sum: number; count: number }>;

/** Mean ms per attempt of each stage between two stageTotals. */
const stageMeans = (before: StageTotals, after: StageTotals): Record<Stage, number> => {
  const mean = (k: Stage) => ((after[k].sum - before[k].sum) * 1000) / Math.max(1, after[k].count - before[k].count);
  return { queue: mean('queue'), claim: mean('claim'), execute: mean('execute'), result: mean('result') };
};

/** Sum and count of the dispatcher's stage histograms (dispatch_stage_seconds by stage, task_attempt_duration_seconds) in orchestration's /metrics. */
async function stageTotals(b: Bench): Promise<StageTotals> {
  const text = await fetch(`${b.platform.services.orchestration!.httpUrl}/metrics`).then((r) => r.text());
  const totals: StageTotals = { queue: { sum: 0, count: 0 }, claim: { sum: 0, count: 0 }, execute: { sum: 0, count: 0 }, result: { sum: 0, count: 0 } };
  for (const line of text.split('\n')) {
    const m = /^orchestra_(dispatch_stage_seconds|task_attempt_duration_seconds)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const stage = m[1] === 'task_attempt_duration_seconds' ? 'execute' : /stage="(queue|claim|result)"/.exec(m[3]!)?.[1];
    if (stage === 'queue' || stage === 'claim' || stage === 'execute' || stage === 'result') totals[stage][m[2] as 'sum' | 'count'] += Number(m[4]);
  }
  return totals;
}

async function fanOutBreakdown(b: Bench, ids: readonly string[], before: StageTotals): Promise<FanOutBreakdown> {
  const stages = stageMeans(before, await stageTotals(b));
  const schema = b.platform.schemas.orchestration;
  const { rows } = await b.platform.pool.query<{ wait: number; exec: number; worker: number | null }>(
    `SELECT extract(epoch FROM started_at - queued_at) * 1000 AS wait, extract(epoch FROM finished_at - started_at) * 1000 AS exec, duration_ms AS worker
       FROM "${schema}".task_attempts WHERE run_id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`,
    [ids],
  );
  const sorted = (xs: number[]) => xs.sort((x, y) => x - y);
  return {
    queuedToStarted: sorted(rows.map((r) => Number(r.wait))),
    startedToFinished: sorted(rows.map((r) => Number(r.exec))),
    worker: sorted(rows.filter((r) => r.worker !== null).map((r) => Number(r.worker))),
    stages,
  };
}

export async function fanOut(b: Bench, runs: number): Promise<{ phase: Phase; breakdown: FanOutBreakdown }> {
  let ids: string[] = [];
  const before = await stageTotals(b);
  const p = await phase(b, `${runs} fan-out runs 1 → 50 → 1 (52 tasks each), gRPC StartRun`, 52, async () => {
    ids = await callersLoop(runs, 32, 1, async (i) => [await viaGrpc(b, 'fan-50', i)]);
    return ids;
  });
  return { phase: p, breakdown: await fanOutBreakdown(b, ids, before) };
}

/** The offered rates of the queue-latency scenario: BENCH_QUEUE_RATES (tasks/s, comma-separated, each 1–2,000), 300 by default. */
export function queueRates(): number[] {
  const rates = (process.env['BENCH_QUEUE_RATES'] ?? '300').split(',').map((r) => Number(r.trim()));
  if (rates.length === 0 || rates.length > 8 || rates.some((r) => !Number.isInteger(r) || r < 1 || r > 2_000)) throw new Error('BENCH_QUEUE_RATES: 1 to 8 whole rates of 1–2,000 tasks/s');
  return rates;
}

const SLOTS = 64;

export function fanOutLine(p: Phase, d: FanOutBreakdown): string {
  const ms = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 1)} / p95 ${fmt(percentile(xs, 95), 1)} ms`;
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const cycle = (SLOTS * p.seconds * 1000) / p.tasks;
  return (
    `- Fan-out, where a task's time went (${d.startedToFinished.length} attempts; from their rows): queued → claimed ${ms(d.queuedToStarted)} (most of it waiting for one of the ${SLOTS} slots); ` +
    `claimed → result's transaction ${ms(d.startedToFinished)}, mean ${fmt(mean(d.startedToFinished), 1)} ms (of it the Execute call by the dispatcher's clock, a noop's 0 ms on the worker being no duration: ${ms(d.worker)}); ` +
    `a slot's cycle ${fmt(cycle, 1)} ms (${SLOTS} slots × phase time / tasks), so ${fmt(cycle - mean(d.startedToFinished), 1)} ms of it between a result's transaction starting and the slot's next claim. ` +
    `The dispatcher's stages, mean per attempt (orchestration's /metrics): job added → taken ${fmt(d.stages.queue, 0)} ms (the wait for a slot), job taken → claimed ${fmt(d.stages.claim, 1)} ms, Execute call ${fmt(d.stages.execute, 1)} ms, call ended → result committed ${fmt(d.stages.result, 1)} ms; ` +
    `the rest of the cycle, ${fmt(cycle - d.stages.claim - d.stages.execute - d.stages.result, 1)} ms, is the job's hand-off (completion, the next job's fetch) and slots left idle.`
  );
}
