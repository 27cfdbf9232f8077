import { randomBytes } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Auth, type Platform } from '../src/platform';

// Catalog and orchestration joined through the gateway: a workflow names its app (checked against
// the catalog, within the caller's organization), and the app shows its runs and their stats.
let platform: Platform;

async function signUp(organizationName: string): Promise<Auth> {
  const res = await platform.graphql<{ signUp: { accessToken: string } }>(
    'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }',
    { i: { email: `owner.${randomBytes(4).toString('hex')}@example.com`, password: `Violet-Harbor-${randomBytes(5).toString('hex')}`, name: 'Owner', organizationName } },
  );
  if (!res.data) throw new Error(`signUp failed: ${JSON.stringify(res.errors)}`);
  return { token: res.data.signUp.accessToken };
}

async function must<T = any>(query: string, variables: Record<string, unknown>, auth: Auth): Promise<T> {
  const res = await platform.graphql<T>(query, variables, auth);
  if (!res.data || res.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(res.errors)}`);
  return res.data;
}

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity', 'catalog', 'orchestration'], workers: 1 });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

it('a workflow of an app runs, and the app shows its runs and stats through the gateway', async () => {
  const owner = await signUp('Apps Inc');
  const { createApp } = await must('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { slug: 'summarizer', name: 'Summarizer' } }, owner);
  const appId: string = createApp.id;
  const { createWorkflow } = await must(
    'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id app { id name } } }',
    { i: { name: 'summarize', appId, steps: [{ id: 'a', capability: 'noop' }] } },
    owner,
  );
  // The workflow's `app` is resolved by the catalog subgraph.
  expect(createWorkflow.app).toEqual({ id: appId, name: 'Summarizer' });
  for (const key of ['r1', 'r2']) {
    await must('mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }', { i: { workflowName: 'summarize', idempotencyKey: key } }, owner);
  }
  const app = await eventually(
    async () => {
      const { app } = await must(
        'query($id: ID!) { app(id: $id) { name runs { edges { node { status workflow { name } } } } stats { runs succeeded failed successRate p50DurationMs } } }',
        { id: appId },
        owner,
      );
      // `runs` and `stats` are read in separate transactions, so a poll can land between the
      // second run's end and one of the two reads: wait until both have seen it.
      const done = app.stats.succeeded === 2 && app.runs.edges.every((e: any) => e.node.status === 'SUCCEEDED');
      return done ? app : undefined;
    },
    { timeoutMs: 30_000, what: 'both runs of the app to succeed' },
  );
  expect(app.name).toBe('Summarizer');
  expect(app.runs.edges.map((e: any) => e.node)).toEqual([
    { status: 'SUCCEEDED', workflow: { name: 'summarize' } },
    { status: 'SUCCEEDED', workflow: { name: 'summarize' } },
  ]);
  expect(app.stats).toMatchObject({ runs: 2, succeeded: 2, failed: 0, successRate: 1 });
  expect(app.stats.p50DurationMs).toBeGreaterThanOrEqual(0);
});

it('a workflow cannot name an app that does not exist, or one of another organization', async () => {
  const a = await signUp('Org A');
  const b = await signUp('Org B');
  const { createApp } = await must('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { slug: 'private-app', name: 'Private' } }, a);
  for (const appId of ['0190d3f0-0000-7000-8000-00000000abcd', createApp.id]) {
    const res = await platform.graphql('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', { i: { name: `wf-${appId.slice(-4)}`, appId, steps: [{ id: 'a', capability: 'noop' }] } }, b);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_APP', field: 'input.appId' });
  }
  // Nothing was written for the refused workflows.
  const { workflows } = await must('{ workflows { edges { node { name } } } }', {}, b);
  expect(workflows.edges).toEqual([]);
});
