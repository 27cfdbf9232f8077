import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually } from '@orchestra/lib';
import type { Platform } from '../src/platform';
import { as, createWorkflow, signUp, startOrchestraPlatform, startRun, waitForRun, type Session } from './helpers';

/**
 * Issue 3's live status, end to end: a graphql-ws client on a real WebSocket to the gateway, run
 * events written by the orchestration process and read back through Redis (and PostgreSQL via the
 * federated graph), `startedBy { email }` resolved from the identity subgraph.
 */

let platform: Platform;
let alpha: Session;
let beta: Session;
const clients: Client[] = [];

interface EventView {
  seq: number;
  kind: string;
  runStatus: string | null;
  stepId: string | null;
  taskStatus: string | null;
  progress: number | null;
  who?: { by: { email: string } | null; status: string };
}

interface Subscription {
  events: EventView[];
  errors: unknown[];
  error: unknown;
  completed: Promise<void>;
  stop(): void;
}

function connect(session: Session | undefined): Client {
  const client = createClient({
    url: platform.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: session ? { authorization: `Bearer ${session.accessToken}` } : {},
  });
  clients.push(client);
  return client;
}

function subscribe(client: Client, query: string, variables: Record<string, unknown>, field = 'runEvents'): Subscription {
  const sub: Partial<Subscription> & { events: EventView[]; errors: unknown[] } = { events: [], errors: [] };
  sub.completed = new Promise<void>((resolve) => {
    sub.stop = client.subscribe(
      { query, variables },
      {
        next: (result: ExecutionResult<Record<string, unknown>>) => {
          if (result.errors) sub.errors.push(...result.errors);
          const event = result.data?.[field] as EventView | undefined;
          if (event) sub.events.push(event);
        },
        error: (error) => {
          sub.error = error;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return sub as Subscription;
}

const RUN_EVENTS = `
  subscription Watch($runId: ID!, $after: Int!) {
    runEvents(runId: $runId, afterSeq: $after) {
      seq kind runStatus stepId taskStatus progress
      who: run { ...Starter status }
    }
  }
  fragment Starter on Run { by: startedBy { email } }
`;

beforeAll(async () => {
  platform = await startOrchestraPlatform(1);
  alpha = await signUp(platform, 'Alpha Org');
  beta = await signUp(platform, 'Beta Org');
  await eventually(
    async () => {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, as(alpha));
      return res.data?.workers.some((w) => w.status === 'ONLINE');
    },
    { timeoutMs: 30_000, what: 'the worker to register' },
  );
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(clients.map(async (c) => c.dispose()));
  await platform?.stop();
});

describe('run event subscriptions through the gateway', () => {
  it('receives a run’s events in order, resolves startedBy from identity, resumes from a seq without gaps, and refuses another org', async () => {
    const workflowId = await createWorkflow(platform, alpha, 'watched', [
      { id: 'prepare', capability: 'noop' },
      { id: 'work', capability: 'sleep', dependsOn: ['prepare'], input: { ms: 1_200, progressEveryMs: 200 } },
      { id: 'wrap', capability: 'transform', dependsOn: ['work'], input: { value: { ok: true } } },
    ]);
    const { id: runId } = await startRun(platform, alpha, { workflowId });

    const live = subscribe(connect(alpha), RUN_EVENTS, { runId, after: 0 });
    await live.completed;
    expect(live.error).toBeUndefined();
    expect(live.errors).toEqual([]);
    const seqs = live.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(live.events[0]).toMatchObject({ kind: 'RUN_STATUS', runStatus: 'QUEUED' });
    expect(live.events.at(-1)).toMatchObject({ kind: 'RUN_STATUS', runStatus: 'SUCCEEDED', who: { status: 'SUCCEEDED' } });
    expect(live.events.some((e) => e.kind === 'TASK_PROGRESS' && e.stepId === 'work')).toBe(true);
    for (const step of ['prepare', 'work', 'wrap']) {
      expect(live.events.filter((e) => e.stepId === step && e.kind === 'TASK_STATUS').map((e) => e.taskStatus)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    }
    // A field of the identity subgraph, resolved for every event as the subscriber.
    expect(new Set(live.events.map((e) => e.who?.by?.email))).toEqual(new Set([alpha.user.email]));

    // The same history as PostgreSQL holds it.
    const run = await waitForRun(platform, alpha, runId);
    expect(run.lastSeq).toBe(seqs.length);

    // A client that saw up to seq 3 reconnects: it gets 4.. exactly, then completion.
    const resumed = subscribe(connect(alpha), RUN_EVENTS, { runId, after: 3 });
    await resumed.completed;
    expect(resumed.events.map((e) => e.seq)).toEqual(seqs.slice(3));
    expect(resumed.events.map((e) => [e.kind, e.runStatus, e.taskStatus, e.stepId])).toEqual(live.events.slice(3).map((e) => [e.kind, e.runStatus, e.taskStatus, e.stepId]));

    // Another organization's subscriber gets an error and nothing else.
    const intruder = subscribe(connect(beta), RUN_EVENTS, { runId, after: 0 });
    await intruder.completed;
    expect(intruder.events).toEqual([]);
    expect(intruder.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) as unknown })]);
  });

  it('feeds an organization the status changes of its own runs', async () => {
    const workflowId = await createWorkflow(platform, alpha, 'dashboard', [{ id: 'tick', capability: 'noop' }]);
    const otherWorkflow = await createWorkflow(platform, beta, 'elsewhere', [{ id: 'tick', capability: 'noop' }]);
    const feed = subscribe(connect(alpha), `subscription { runStatusChanged { runId runStatus } }`, {}, 'runStatusChanged');
    // graphql-ws subscribes asynchronously: wait until the server has the subscription before starting runs.
    await new Promise((r) => setTimeout(r, 500));
    const theirs = await startRun(platform, beta, { workflowId: otherWorkflow });
    const mine = await startRun(platform, alpha, { workflowId });
    await waitForRun(platform, alpha, mine.id);
    await waitForRun(platform, beta, theirs.id);
    await eventually(() => feed.events.some((e) => e.runStatus === 'SUCCEEDED'), { what: 'the feed to report the run finished' });
    feed.stop();
    const statuses = (feed.events as unknown as Array<{ runId: string; runStatus: string }>).filter((e) => e.runId === mine.id).map((e) => e.runStatus);
    expect(statuses).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect((feed.events as unknown as Array<{ runId: string }>).some((e) => e.runId === theirs.id)).toBe(false);
  });
});
