// The task-path bench's phases (bench/task-path.ts): how runs are started (gateway, gRPC, in bulk), how a
// phase waits for them, and what it accounts (CPU per process and SQL statements, probe.ts snapshots).
import type { orchestrationV1 } from '@orchestra/proto';
import { unaryCall } from '@orchestra/lib';
import type { Platform } from '@orchestra/tests';
import { loadavg } from 'node:os';
import { costOf, snapshot, type Cost, type ProbeTargets } from './probe';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Phase {
  name: string;
  tasks: number;
  seconds: number;
  cost: Cost;
  /** Run latency (created → finished), sorted, ms. */
  runMs: number[];
  /** 1-minute load average when the phase started and when it ended. */
  load: [number, number];
  note?: string;
}

export interface Bench {
  platform: Platform;
  targets: ProbeTargets;
  gql: <T>(query: string, variables: Record<string, unknown>) => Promise<{ data?: T; errors?: Array<{ message: string }> }>;
  grpc: orchestrationV1.OrchestrationServiceClient;
  principalHeader: () => string;
  internalToken: string;
}

/**
 * Waits until every run succeeded; resolves to when the last one finished (ms) and the run latencies.
 * It asks only about the runs not yet seen finished (the bench's own polling competes for the same CPU;
 * the time measured is the runs' finished_at, not when the poll saw them).
 */
export async function finished(b: Bench, ids: readonly string[], since: number): Promise<{ lastFinishedAt: number; runMs: number[] }> {
  const schema = b.platform.schemas.orchestration;
  const pending = new Set(ids);
  while (pending.size > 0) {
    const { rows } = await b.platform.pool.query<{ id: string; status: string }>(
      `SELECT id, status FROM "${schema}".runs WHERE id = ANY($1::uuid[]) AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`,
      [[...pending]],
    );
    const failed = rows.filter((r) => r.status !== 'SUCCEEDED').length;
    if (failed > 0) throw new Error(`${failed} bench runs failed`);
    for (const r of rows) pending.delete(r.id);
    if (pending.size === 0) break;
    if (Date.now() - since > 10 * 60_000) throw new Error('bench runs did not finish within 10 minutes');
    await sleep(200);
  }
  const { rows } = await b.platform.pool.query<{ ms: number; finished: Date }>(
    `SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms, finished_at AS finished FROM "${schema}".runs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return { lastFinishedAt: Math.max(...rows.map((r) => r.finished.getTime())), runMs: rows.map((r) => Number(r.ms)).sort((x, y) => x - y) };
}

/** `callers` loops, each taking the next index until `count` are done; `start(i)` starts runs and returns their ids. */
export async function callersLoop(count: number, callers: number, step: number, start: (from: number, n: number) => Promise<string[]>): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const caller = async () => {
    while (next < count) {
      const from = next;
      const n = Math.min(step, count - from);
      next += n;
      ids.push(...(await start(from, n)));
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return ids;
}

/** Runs a phase: snapshots, starts the runs, waits for them to finish. */
export async function phase(b: Bench, name: string, tasksPerRun: number, startAll: () => Promise<string[]>, note?: string): Promise<Phase> {
  const loadBefore = loadavg()[0] as number;
  const before = await snapshot(b.targets);
  const started = Date.now();
  const ids = await startAll();
  const done = await finished(b, ids, started);
  const after = await snapshot(b.targets);
  const seconds = (done.lastFinishedAt - started) / 1000;
  return { name, tasks: ids.length * tasksPerRun, seconds, cost: costOf(before, after), runMs: done.runMs, load: [loadBefore, loadavg()[0] as number], ...(note ? { note } : {}) };
}

const startRunMutation = 'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }';
const startRunsMutation = 'mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }';

export async function viaGateway(b: Bench, workflowName: string, i: number): Promise<string> {
  const res = await b.gql<{ startRun: { run: { id: string } } }>(startRunMutation, { i: { workflowName, input: { i } } });
  if (!res.data) throw new Error(`startRun failed: ${JSON.stringify(res.errors)}`);
  return res.data.startRun.run.id;
}

export async function viaGrpc(b: Bench, workflow: string, i: number): Promise<string> {
  const res = await unaryCall(b.grpc, b.grpc.startRun, { workflow, version: 0, input: { i }, idempotencyKey: '' }, { internalToken: b.internalToken }, { principalHeader: b.principalHeader() });
  return res.run!.id;
}

type StartRunsMethod = (request: { items: orchestrationV1.StartRunRequest[] }, ...rest: never[]) => unknown;

export async function viaGrpcBulk(b: Bench, workflow: string, from: number, n: number): Promise<string[]> {
  const client = b.grpc as unknown as { startRuns: StartRunsMethod };
  const items = Array.from({ length: n }, (_, k) => ({ workflow, version: 0, input: { i: from + k }, idempotencyKey: '' }));
  const res = await unaryCall<{ items: orchestrationV1.StartRunRequest[] }, { results: Array<{ run?: { id: string } }> }>(b.grpc, client.startRuns as never, { items }, { internalToken: b.internalToken }, { principalHeader: b.principalHeader() });
  return res.results.map((r) => r.run!.id);
}

export async function oneStep(b: Bench, runs: number): Promise<Phase> {
  return phase(b, `${runs} one-step runs, gateway startRun, 32 callers`, 1, () => callersLoop(runs, 32, 1, async (i) => [await viaGateway(b, 'one-step', i)]));
}

export async function startRunsPhases(b: Bench, runs: number): Promise<Phase[]> {
  const phases: Phase[] = [];
  const probe = await b.gql(startRunsMutation, { i: [{ workflowName: 'one-step', input: { i: -1 } }] });
  if (probe.data) {
    phases.push(
      await phase(b, `${runs} one-step runs, gateway startRuns × 50, 8 callers`, 1, () =>
        callersLoop(runs, 8, 50, async (from, n) => {
          const res = await b.gql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(startRunsMutation, {
            i: Array.from({ length: n }, (_, k) => ({ workflowName: 'one-step', input: { i: from + k } })),
          });
          if (!res.data) throw new Error(`startRuns failed: ${JSON.stringify(res.errors)}`);
          return res.data.startRuns.runs.map((r) => r.run.id);
        }),
      ),
    );
  }
  phases.push(await phase(b, `${runs} one-step runs, gRPC StartRun, 32 callers`, 1, () => callersLoop(runs, 32, 1, async (i) => [await viaGrpc(b, 'one-step', i)])));
  if (typeof (b.grpc as unknown as { startRuns?: unknown }).startRuns === 'function') {
    phases.push(await phase(b, `${runs} one-step runs, gRPC StartRuns × 50, 8 callers`, 1, () => callersLoop(runs, 8, 50, (from, n) => viaGrpcBulk(b, 'one-step', from, n))));
  }
  return phases;
}
