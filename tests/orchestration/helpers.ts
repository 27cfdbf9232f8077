import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Auth, type GraphQLResponse, type Platform } from '../src/platform';

/** Timings short enough for tests: heartbeats, leases, reconciler passes and dispatch retries. */
export const FAST_ORCHESTRATION_ENV: Record<string, string> = {
  WORKER_HEARTBEAT_INTERVAL_MS: '300',
  WORKER_LEASE_TTL_MS: '2000',
  RECONCILE_INTERVAL_MS: '400',
  DISPATCH_RETRY_DELAY_MS: '100',
  EVENT_FLUSH_INTERVAL_MS: '50',
  DRAIN_TIMEOUT_MS: '2000',
};

export function startOrchestraPlatform(workers = 2, env: { worker?: Record<string, string> } = {}): Promise<Platform> {
  return startPlatform({
    services: ['identity', 'orchestration'],
    workers,
    env: {
      orchestration: FAST_ORCHESTRATION_ENV,
      // The http.request steps call a local server in the test: private addresses must be allowed.
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '4', WORKER_DRAIN_GRACE_MS: '1000', ...env.worker },
    },
  });
}

export interface Session {
  accessToken: string;
  user: { id: string; email: string };
  organization: { id: string; name: string };
}

/** A new organization and its owner (who may do everything in it). */
export async function signUp(platform: Platform, organizationName: string): Promise<Session> {
  const res = await platform.graphql<{ signUp: Session }>(
    `mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id email } organization { id name } } }`,
    { i: { email: `owner.${randomBytes(4).toString('hex')}@example.com`, password: `Green-Teapot-${randomBytes(5).toString('hex')}`, name: 'Olga Owner', organizationName } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.signUp;
}

export const as = (session: Session): Auth => ({ token: session.accessToken });

export const errorOf = (res: GraphQLResponse<unknown>) => {
  const ext = res.errors?.[0]?.extensions ?? {};
  return { code: ext.code, reason: ext.reason, field: ext.field, message: res.errors?.[0]?.message };
};

export async function createWorkflow(platform: Platform, session: Session, name: string, steps: unknown[]): Promise<string> {
  const res = await platform.graphql<{ createWorkflow: { id: string } }>(
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`,
    { input: { name, steps } },
    as(session),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

export async function startRun(platform: Platform, session: Session, input: Record<string, unknown>): Promise<{ id: string; deduplicated: boolean }> {
  const res = await platform.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(
    `mutation($input: StartRunInput!) { startRun(input: $input) { deduplicated run { id } } }`,
    { input },
    as(session),
  );
  expect(res.errors).toBeUndefined();
  return { id: res.data!.startRun.run.id, deduplicated: res.data!.startRun.deduplicated };
}

export interface TaskView {
  id: string;
  stepId: string;
  status: string;
  attempts: number;
  output: unknown;
  workerId: string | null;
  error: { code: string; message: string } | null;
  attemptHistory: Array<{ id: string; number: number; status: string; workerId: string | null; error: { code: string; message: string } | null }>;
}

export interface RunView {
  id: string;
  status: string;
  output: Record<string, unknown> | null;
  error: { code: string; message: string; stepId: string | null } | null;
  lastSeq: number;
  startedBy: { id: string; email: string } | null;
  tasks: TaskView[];
  events: Array<{ seq: number; kind: string; runStatus: string | null; stepId: string | null; taskId: string | null; taskStatus: string | null; attemptId: string | null }>;
}

const RUN_QUERY = `query($id: ID!) {
  run(id: $id) {
    id status output lastSeq
    error { code message stepId }
    startedBy { id email }
    tasks { id stepId status attempts output workerId error { code message } attemptHistory { id number status workerId error { code message } } }
    events(afterSeq: 0, first: 1000) { seq kind runStatus stepId taskId taskStatus attemptId }
  }
}`;

export async function readRun(platform: Platform, session: Session, id: string): Promise<RunView> {
  const res = await platform.graphql<{ run: RunView }>(RUN_QUERY, { id }, as(session));
  expect(res.errors).toBeUndefined();
  return res.data!.run;
}

export const waitForRun = (platform: Platform, session: Session, id: string, statuses = ['SUCCEEDED', 'FAILED', 'CANCELLED'], timeoutMs = 60_000): Promise<RunView> =>
  eventually(
    async () => {
      const run = await readRun(platform, session, id);
      return statuses.includes(run.status) ? run : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `run ${id} to be ${statuses.join(' or ')}` },
  );

/** The JSON log lines a launched process wrote. */
export const logLines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    });

/**
 * A stand-in for a remote website that http.request steps call: each path answers 503 to its
 * first `failuresLeft` requests, then 200 with JSON (what the request was and a payload).
 */
export interface TestSite {
  url: string;
  failuresLeft: Map<string, number>;
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startTestSite(): Promise<TestSite> {
  const failuresLeft = new Map<string, number>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const left = failuresLeft.get(path) ?? 0;
    if (left > 0) {
      failuresLeft.set(path, left - 1);
      res.writeHead(503, { 'content-type': 'text/plain' }).end('busy, try again');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, items: [{ name: 'alpha', score: 3 }, { name: 'beta', score: 5 }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failuresLeft,
    hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
