import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { eventually, startOpenAiStandIn, type OpenAiStandIn, type RunEvent } from '@orchestra/lib';
import { startPlatform, type Platform, type PlatformOptions } from '@orchestra/tests';

/**
 * The platform set-ups several benches share: the live-subscription benches' runs that nothing
 * executes (subscriptions, subscription-memory, idle's clients), the forked subscriber processes,
 * and the LLM-streaming benches' stand-in provider, worker and workflow (llm-stream, llm-streams).
 */

/** A whole-number bench knob from the environment (`fallback` when unset or empty). */
export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

/** The data of a GraphQL answer, or an error naming what failed and the errors it got. */
export const must = <T>(res: { data: T | null | undefined; errors?: unknown }, what: string): T => {
  if (res.errors || !res.data) throw new Error(`bench: ${what} failed: ${JSON.stringify(res.errors)}`);
  return res.data;
};

/** A fresh owner of a fresh organization, signed up through the gateway. */
export async function signUpOwner(platform: Platform, name = 'Bench'): Promise<{ token: string; orgId: string }> {
  const signUp = must(
    await platform.graphql<{ signUp: { accessToken: string; organization: { id: string } } }>(`mutation($i: SignUpInput!) { signUp(input: $i) { accessToken organization { id } } }`, {
      i: { email: `bench.${randomBytes(4).toString('hex')}@example.com`, password: `Green-Teapot-${randomBytes(5).toString('hex')}`, name: `${name} Owner`, organizationName: name },
    }),
    'signUp',
  ).signUp;
  return { token: signUp.accessToken, orgId: signUp.organization.id };
}

/** The live-subscription benches' platform: identity and orchestration, tokens valid for 2 h, no rate limit in the way. */
export const SUBSCRIPTION_PLATFORM: PlatformOptions = {
  services: ['identity', 'orchestration'],
  env: { identity: { ACCESS_TOKEN_TTL_SECONDS: '7200' }, gateway: { RATE_LIMIT_PER_MINUTE: '100000000' } },
};

/**
 * startPlatform with every child's inspector open on a port of its own (idle unless asked), so a bench
 * can collect the gateway's garbage and read its heap (bench/inspector.ts).
 */
export async function startInspectablePlatform(options: PlatformOptions): Promise<Platform> {
  const previousArgs = process.env['ORCHESTRA_CHILD_NODE_ARGS'];
  process.env['ORCHESTRA_CHILD_NODE_ARGS'] = `${previousArgs ?? ''} --inspect=127.0.0.1:0`.trim();
  try {
    return await startPlatform(options);
  } finally {
    if (previousArgs === undefined) delete process.env['ORCHESTRA_CHILD_NODE_ARGS'];
    else process.env['ORCHESTRA_CHILD_NODE_ARGS'] = previousArgs;
  }
}

/** A started run that nothing executes, and the last event seq of its stream (what a bench publishes next continues it). */
export interface WatchedRun {
  id: string;
  orgId: string;
  workflowId: string;
  lastSeq: number;
}

/**
 * Signs up an owner, creates a one-step `noop` workflow and starts `runCount` runs of it. With no
 * worker nothing runs them: their streams hold what startRun published, and each run's lastSeq is
 * read back once that has settled.
 */
export async function startWatchedRuns(platform: Platform, { runCount, workflowName }: { runCount: number; workflowName: string }): Promise<{ token: string; runs: WatchedRun[] }> {
  const { token, orgId } = await signUpOwner(platform);
  const auth = { token };
  const workflowId = must(
    await platform.graphql<{ createWorkflow: { id: string } }>(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name: workflowName, steps: [{ id: 'a', capability: 'noop' }] } }, auth),
    'createWorkflow',
  ).createWorkflow.id;
  const runs: WatchedRun[] = [];
  for (let i = 0; i < runCount; i += 1) {
    const run = must(await platform.graphql<{ startRun: { run: { id: string } } }>(`mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId } }, auth), 'startRun').startRun.run;
    runs.push({ id: run.id, orgId, workflowId, lastSeq: 0 });
  }
  await new Promise((r) => setTimeout(r, 1_000));
  for (const run of runs) {
    run.lastSeq = must(await platform.graphql<{ run: { lastSeq: number } }>(`query($id: ID!) { run(id: $id) { lastSeq } }`, { id: run.id }, auth), 'run').run.lastSeq;
  }
  return { token, runs };
}

/** The next TASK_PROGRESS event of `run` (its seq taken from and written back to `run.lastSeq`), as orchestration publishes one; `n` numbers its progress and message. */
export function progressEvent(run: WatchedRun, n: number): RunEvent {
  run.lastSeq += 1;
  return {
    runId: run.id,
    orgId: run.orgId,
    workflowId: run.workflowId,
    seq: run.lastSeq,
    kind: 'TASK_PROGRESS',
    at: new Date().toISOString(),
    runStatus: null,
    taskId: null,
    stepId: 'a',
    taskStatus: null,
    attemptId: null,
    attempt: null,
    progress: (n % 100) / 100,
    message: `bench event ${n}`,
    level: null,
    error: null,
  };
}

/** `runEvents` with scalar fields only: what the subscription benches subscribe to unless they measure a federated selection. */
export const RUN_EVENTS_SCALAR = `subscription($runId: ID!, $after: Int!) { runEvents(runId: $runId, afterSeq: $after) { seq kind at progress message } }`;

/** What the client processes report: every delivery latency since the last report, and each subscription's tally. */
export interface ClientReport {
  latencies: number[];
  subscriptions: Array<{ runId: string; afterSeq: number; lastSeq: number; received: number; outOfOrder: number; errors: string[] }>;
}

/** Subscriber processes (bench/subscription-clients.ts, forked), so the clients' own CPU is not the gateway's. */
export class Clients {
  private readonly children: ChildProcess[] = [];
  private pending = new Map<ChildProcess, (message: any) => void>();

  static async start(count: number): Promise<Clients> {
    const clients = new Clients();
    await Promise.all(
      Array.from({ length: count }, async () => {
        const child = fork(join(__dirname, 'subscription-clients.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        clients.children.push(child);
        child.on('message', (message: { type: string }) => {
          const waiter = clients.pending.get(child);
          if (waiter) {
            clients.pending.delete(child);
            waiter(message);
          }
        });
        await clients.ask(child, undefined);
      }),
    );
    return clients;
  }

  private ask(child: ChildProcess, message: unknown): Promise<any> {
    return new Promise((resolve) => {
      this.pending.set(child, resolve);
      if (message !== undefined) child.send(message as object);
    });
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.children.map((child, i) => [`client${i}`, child.pid]));
  }

  /** Splits the plan's subscriptions over the processes; resolves when all are open, with the time it took. */
  async open(plan: { url: string; token: string; query: string; field: string; compression: boolean; compressAll?: boolean; subscriptions: Array<{ runId: string; afterSeq: number }> }): Promise<{ opened: number; ms: number }> {
    const started = Date.now();
    const answers = await Promise.all(
      this.children.map((child, i) =>
        this.ask(child, { type: 'open', plan: { ...plan, parallel: 50, subscriptions: plan.subscriptions.filter((_, j) => j % this.children.length === i) } }),
      ),
    );
    return { opened: answers.reduce((sum: number, a: { count: number }) => sum + a.count, 0), ms: Date.now() - started };
  }

  async report(): Promise<ClientReport> {
    const answers = (await Promise.all(this.children.map((child) => this.ask(child, { type: 'report' })))) as ClientReport[];
    return { latencies: answers.flatMap((a) => a.latencies), subscriptions: answers.flatMap((a) => a.subscriptions) };
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => this.ask(child, { type: 'close' })));
  }

  stop(): void {
    for (const child of this.children) child.kill();
  }
}

/** The LLM-streaming benches' platform: a stand-in provider, one worker offering `llm`, and a workflow `stream` of one llm step asking it. */
export interface LlmStreamPlatform {
  platform: Platform;
  standIn: OpenAiStandIn;
  /** When the stand-in wrote each token (its text → Date.now()). */
  emitted: Map<string, number>;
  /** The owner's access token. */
  token: string;
  /** Stops the platform, then the stand-in. */
  stop(): Promise<void>;
}

/**
 * Starts the stand-in provider (an HTTP server on 127.0.0.1 speaking the OpenAI wire protocol: no
 * model runs here), then identity, orchestration and one worker, signs up an owner, registers the
 * stand-in as provider `stand-in` and creates the workflow `stream`. `workerSlots`: the worker's slots
 * (its default when not given).
 */
export async function startLlmStreamPlatform({ workerSlots }: { workerSlots?: number } = {}): Promise<LlmStreamPlatform> {
  const emitted = new Map<string, number>();
  const standIn = await startOpenAiStandIn({ onToken: (token, at) => emitted.set(token, at) });
  let platform: Platform | undefined;
  const stop = async () => {
    await platform?.stop();
    await standIn.stop();
  };
  try {
    platform = await startPlatform({
      services: ['identity', 'orchestration'],
      workers: 1,
      env: {
        orchestration: { EVENT_FLUSH_INTERVAL_MS: '50', DISPATCH_RETRY_DELAY_MS: '100' },
        // The stand-in is on 127.0.0.1: the worker may reach private addresses.
        worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', ...(workerSlots === undefined ? {} : { WORKER_SLOTS: String(workerSlots) }) },
      },
    });
    const started = platform;
    const { token } = await signUpOwner(started, 'Bench Org');
    const as = { token };
    await eventually(async () => ((await started.graphql<{ capabilities: string[] }>('{ capabilities }', {}, as)).data?.capabilities.includes('llm') ? true : undefined), { timeoutMs: 60_000, what: 'a worker offering llm' });
    must(await started.graphql(`mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, { input: { name: 'stand-in', baseUrl: standIn.baseUrl, timeoutMs: 60_000 } }, as), 'createLlmProvider');
    must(
      await started.graphql(
        `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`,
        { input: { name: 'stream', steps: [{ id: 'ask', capability: 'llm', input: { provider: 'stand-in', model: 'bench', messages: [{ role: 'user', content: 'count' }] }, timeoutMs: 600_000, retry: { maxAttempts: 1 } }] } },
        as,
      ),
      'createWorkflow',
    );
    return { platform: started, standIn, emitted, token, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
