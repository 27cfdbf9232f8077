import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { eventually, withSystemTransaction } from '@orchestra/lib';
import { apiKeyPrincipal, startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { generateSecretsKeys, secretKeyringEnv, type SecretKeyring } from './keyring';
import { rewrapSecrets } from './secret-commands';
import { resolveDispatchInput, secretReader, SecretUnavailableError } from './dispatch-secrets';

const K1 = generateSecretsKeys('k1');
const keyringOf = (raw: string): SecretKeyring => z.object({ K: secretKeyringEnv }).parse({ K: raw }).K as SecretKeyring;

let t: TestOrchestration;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const operatorA = userPrincipal(orgA, 'operator');
const adminB = userPrincipal(orgB, 'admin');

const VALUE = 'pa55-w0rd-VALUE-never-shown';
const ROTATED = 'rotated-VALUE-9f2c';
const SECRET_FIELDS = 'id name version createdAt updatedAt lastUsedAt createdBy updatedBy';
const CREATE = `mutation($name: String!, $value: String!) { createSecret(name: $name, value: $value) { ${SECRET_FIELDS} } }`;
const ROTATE = `mutation($name: String!, $value: String!) { rotateSecret(name: $name, value: $value) { ${SECRET_FIELDS} } }`;
const DELETE = `mutation($name: String!) { deleteSecret(name: $name) { id name } }`;
const LIST = `{ secrets { ${SECRET_FIELDS} } }`;
const CREATE_WORKFLOW = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`;

beforeAll(async () => {
  t = await startTestOrchestration({ SECRETS_KEYS: K1 });
});
afterAll(async () => {
  await t.stop();
});

/** Every text column of every orchestration table, and the audit outbox: where a value must never be. */
async function everythingStored(): Promise<string> {
  const { rows } = await t.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [t.schema]);
  const dumps: string[] = [];
  for (const { table_name } of rows) {
    const { rows: content } = await t.pool.query(`SELECT to_jsonb(x)::text AS row FROM "${t.schema}"."${table_name}" x`);
    dumps.push(...content.map((r: { row: string }) => r.row));
  }
  return dumps.join('\n');
}

describe('organization secrets', () => {
  it('creates a secret whose value is encrypted at rest, never returned, logged or audited', async () => {
    const created = await t.graphql<{ createSecret: { name: string; version: number; createdBy: string; lastUsedAt: string | null } }>(adminA, CREATE, { name: 'SITE_PASSWORD', value: VALUE });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createSecret).toMatchObject({ name: 'SITE_PASSWORD', version: 1, createdBy: adminA.display, lastUsedAt: null });
    expect(JSON.stringify(created)).not.toContain(VALUE);

    const listed = await t.graphql<{ secrets: Array<{ name: string }> }>(adminA, LIST);
    expect(listed.data?.secrets.map((s) => s.name)).toEqual(['SITE_PASSWORD']);
    // The schema has no field that could carry a value.
    const valueField = await t.graphql(adminA, '{ secrets { value } }');
    expect(valueField.errors?.[0]?.message).toMatch(/Cannot query field "value"/);

    const stored = await everythingStored();
    expect(stored).toContain('SITE_PASSWORD');
    expect(stored).toContain('secret.create');
    expect(stored).not.toContain(VALUE);
    expect(stored).not.toContain(Buffer.from(VALUE).toString('base64'));
    expect(JSON.stringify(t.log.lines)).not.toContain(VALUE);
  });

  it('refuses bad names and values with BAD_USER_INPUT naming the field, and duplicates with CONFLICT, storing nothing', async () => {
    const badName = await t.graphql(adminA, CREATE, { name: 'has space', value: VALUE });
    expect(badName.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name', reason: 'INVALID_SECRET_NAME' });
    const short = await t.graphql(adminA, CREATE, { name: 'SHORT', value: 'abc' });
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value', reason: 'SECRET_VALUE_TOO_SHORT' });
    const huge = await t.graphql(adminA, CREATE, { name: 'HUGE', value: 'x'.repeat(64 * 1024 + 1) });
    expect(huge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value', reason: 'SECRET_VALUE_TOO_LARGE' });
    const again = await t.graphql(adminA, CREATE, { name: 'SITE_PASSWORD', value: 'another value' });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name', reason: 'SECRET_EXISTS' });
    const listed = await t.graphql<{ secrets: Array<{ name: string; version: number }> }>(adminA, LIST);
    expect(listed.data?.secrets).toEqual([expect.objectContaining({ name: 'SITE_PASSWORD', version: 1 })]);
    // A failed mutation is audited too, without the value it was given.
    expect(await everythingStored()).not.toContain('another value');
  });

  it('is for admins only: operators and API keys are refused', async () => {
    for (const principal of [operatorA, apiKeyPrincipal(orgA, ['runs:read', 'runs:write', 'workflows:read'])]) {
      const list = await t.graphql(principal, LIST);
      expect(list.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const create = await t.graphql(principal, CREATE, { name: 'NOPE', value: VALUE });
      expect(create.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
  });

  it('keeps organizations apart: org B neither sees, rotates, deletes nor reads org A secrets', async () => {
    const listB = await t.graphql<{ secrets: unknown[] }>(adminB, LIST);
    expect(listB.data?.secrets).toEqual([]);
    const rotate = await t.graphql(adminB, ROTATE, { name: 'SITE_PASSWORD', value: 'taken over' });
    expect(rotate.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'SECRET_NOT_FOUND', field: 'name' });
    const del = await t.graphql(adminB, DELETE, { name: 'SITE_PASSWORD' });
    expect(del.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    // A workflow of org B cannot name org A's secret...
    const workflow = await t.graphql(adminB, CREATE_WORKFLOW, {
      input: { name: 'steal', steps: [{ id: 'use', capability: 'noop', input: { p: '{{ secrets.SITE_PASSWORD }}' } }] },
    });
    expect(workflow.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SECRET', field: 'input.steps[0].input' });
    // ...and dispatch for org B cannot read it either (the org is part of the query).
    const read = await withSystemTransaction(t.pool, (tx) => secretReader(tx, keyringOf(K1))(orgB, ['SITE_PASSWORD']).catch((e: unknown) => e));
    expect(read).toBeInstanceOf(SecretUnavailableError);
    expect((read as SecretUnavailableError).code).toBe('SECRET_NOT_FOUND');
    // The same name in org B is its own secret.
    const own = await t.graphql(adminB, CREATE, { name: 'SITE_PASSWORD', value: 'org-b-value' });
    expect(own.errors).toBeUndefined();
    const values = await withSystemTransaction(t.pool, (tx) => secretReader(tx, keyringOf(K1))(orgB, ['SITE_PASSWORD']));
    expect(values.get('SITE_PASSWORD')).toBe('org-b-value');
  });

  it('refuses a workflow that reads a secret the org does not have (UNKNOWN_SECRET naming the step), storing nothing', async () => {
    const steps = [
      { id: 'first', capability: 'noop', input: { ok: '{{ secrets.SITE_PASSWORD }}' } },
      { id: 'login', capability: 'noop', dependsOn: ['first'], input: { user: 'u', password: 'x {{ secrets.MISSING_ONE }}' } },
    ];
    const refused = await t.graphql(adminA, CREATE_WORKFLOW, { input: { name: 'needs-secrets', steps } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SECRET', field: 'input.steps[1].input' });
    expect(refused.errors?.[0]?.message).toMatch(/step "login".*"MISSING_ONE"/);
    const { rows } = await t.pool.query(`SELECT 1 FROM "${t.schema}".workflows WHERE name = 'needs-secrets'`);
    expect(rows).toHaveLength(0);
    const accepted = await t.graphql<{ createWorkflow: { id: string } }>(adminA, CREATE_WORKFLOW, { input: { name: 'needs-secrets', steps: [steps[0]] } });
    expect(accepted.errors).toBeUndefined();
    // Publishing a version is checked the same way.
    const publish = await t.graphql(adminA, 'mutation($id: ID!, $steps: [StepInput!]!) { publishWorkflowVersion(workflowId: $id, steps: $steps) { number } }', {
      id: accepted.data?.createWorkflow.id,
      steps,
    });
    expect(publish.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SECRET' });
  });

  it('resolves a dispatch input with the value for the worker and **** for what is stored; rotation gives the new value', async () => {
    const template = { url: 'https://site.test/login', form: { password: '{{ secrets.SITE_PASSWORD }}', note: 'pw={{ secrets.SITE_PASSWORD }}' } };
    const resolved = await withSystemTransaction(t.pool, (tx) => resolveDispatchInput(template, { input: {}, steps: {}, run: { id: 'r' } }, orgA, secretReader(tx, keyringOf(K1))));
    expect(resolved.input).toEqual({ url: 'https://site.test/login', form: { password: VALUE, note: `pw=${VALUE}` } });
    expect(resolved.shown).toEqual({ url: 'https://site.test/login', form: { password: '****', note: 'pw=****' } });
    expect(resolved.masker.text(`worker said ${VALUE}`)).toBe('worker said ****');
    const used = await t.graphql<{ secrets: Array<{ name: string; lastUsedAt: string | null }> }>(adminA, LIST);
    expect(used.data?.secrets[0]?.lastUsedAt).not.toBeNull();

    const rotated = await t.graphql<{ rotateSecret: { version: number; updatedBy: string } }>(adminA, ROTATE, { name: 'SITE_PASSWORD', value: ROTATED });
    expect(rotated.data?.rotateSecret).toMatchObject({ version: 2, updatedBy: adminA.display });
    const after = await withSystemTransaction(t.pool, (tx) => secretReader(tx, keyringOf(K1))(orgA, ['SITE_PASSWORD']));
    expect(after.get('SITE_PASSWORD')).toBe(ROTATED);
    const stored = await everythingStored();
    expect(stored).toContain('secret.rotate');
    expect(stored).not.toContain(ROTATED);
  });

  it('re-wraps every data key after a key rotation, so the old key can be dropped without losing a value', async () => {
    const K2 = generateSecretsKeys('k2');
    const both = keyringOf(`${K2},${K1}`);
    const rewrapped = await rewrapSecrets({ ...t.service.engine, config: { ...t.service.engine.config, SECRETS_KEYS: both } });
    expect(rewrapped).toBe(2);
    const { rows } = await t.pool.query<{ key_id: string }>(`SELECT DISTINCT key_id FROM "${t.schema}".secrets`);
    expect(rows).toEqual([{ key_id: 'k2' }]);
    const onlyNew = keyringOf(K2);
    const a = await withSystemTransaction(t.pool, (tx) => secretReader(tx, onlyNew)(orgA, ['SITE_PASSWORD']));
    const b = await withSystemTransaction(t.pool, (tx) => secretReader(tx, onlyNew)(orgB, ['SITE_PASSWORD']));
    expect(a.get('SITE_PASSWORD')).toBe(ROTATED);
    expect(b.get('SITE_PASSWORD')).toBe('org-b-value');
    // The old key alone cannot read them any more, and says which key is missing.
    const stale = await withSystemTransaction(t.pool, (tx) => secretReader(tx, keyringOf(K1))(orgA, ['SITE_PASSWORD']).catch((e: unknown) => e));
    expect((stale as SecretUnavailableError).code).toBe('SECRET_UNREADABLE');
    expect((stale as Error).message).toMatch(/no key "k2"/);
  });

  it('deletes a secret (audited); a dispatch that reads it then fails with SECRET_NOT_FOUND', async () => {
    const deleted = await t.graphql<{ deleteSecret: { name: string } }>(adminA, DELETE, { name: 'SITE_PASSWORD' });
    expect(deleted.data?.deleteSecret.name).toBe('SITE_PASSWORD');
    const listed = await t.graphql<{ secrets: unknown[] }>(adminA, LIST);
    expect(listed.data?.secrets).toEqual([]);
    const read = await withSystemTransaction(t.pool, (tx) =>
      resolveDispatchInput('{{ secrets.SITE_PASSWORD }}', { input: {}, steps: {}, run: { id: 'r' } }, orgA, secretReader(tx, keyringOf(K1))).catch((e: unknown) => e),
    );
    expect((read as SecretUnavailableError).code).toBe('SECRET_NOT_FOUND');
    const { rows } = await t.pool.query(`SELECT event->>'action' AS action FROM "${t.schema}".audit_outbox WHERE event->>'targetType' = 'Secret' AND org_id = $1 ORDER BY id`, [orgA]);
    expect(rows.map((r: { action: string }) => r.action)).toEqual(expect.arrayContaining(['secret.create', 'secret.rotate', 'secret.delete']));
    expect(JSON.stringify(t.log.lines)).not.toContain(VALUE);
    expect(JSON.stringify(t.log.lines)).not.toContain(ROTATED);
  });
});

describe('a secret in a running workflow', () => {
  const TOKEN = 'tok-7e1f-SECRET-b0a2';
  let site: Server;
  let siteUrl: string;
  const seen: string[] = [];

  beforeAll(async () => {
    // Stands in for a remote API the step calls: it echoes what it got (as a careless API would).
    site = createServer((req, res) => {
      seen.push(`${req.url ?? ''} ${req.headers['authorization'] ?? ''}`);
      const status = req.url?.startsWith('/fail') ? 400 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ youSent: req.headers['authorization'], url: req.url }));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true' });
    const created = await t.graphql(adminA, CREATE, { name: 'API_TOKEN', value: TOKEN });
    expect(created.errors).toBeUndefined();
  });
  afterAll(async () => {
    await new Promise((resolve) => site.close(resolve));
  });

  it('reaches the worker only in the Execute request, and is masked in the input, output, error, logs and events stored', async () => {
    const steps = [
      {
        id: 'call',
        capability: 'http.request',
        input: { url: `${siteUrl}/echo?key={{ secrets.API_TOKEN }}`, headers: { authorization: 'Bearer {{ secrets.API_TOKEN }}' } },
        retry: { maxAttempts: 1 },
      },
      // After `call`, so the run's failure cannot cancel `call` while it runs.
      { id: 'fail', capability: 'http.request', dependsOn: ['call'], input: { url: `${siteUrl}/fail?key={{ secrets.API_TOKEN }}` }, retry: { maxAttempts: 1 } },
    ];
    const workflow = await t.graphql(adminA, CREATE_WORKFLOW, { input: { name: 'uses-token', steps } });
    expect(workflow.errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, 'mutation { startRun(input: { workflowName: "uses-token" }) { run { id } } }');
    const runId = started.data!.startRun.run.id;
    const RUN = `query($id: ID!) { run(id: $id) { status tasks { stepId status input output error { code message } logs { message } } events(first: 1000) { kind message error { message } } } }`;
    type RunView = { status: string; tasks: Array<{ stepId: string; status: string; input: any; output: any; error: { code: string; message: string } | null; logs: Array<{ message: string }> }> };
    const run = await eventually(
      async () => {
        const res = await t.graphql<{ run: RunView }>(adminA, RUN, { id: runId });
        return res.data?.run.status === 'FAILED' ? res : undefined;
      },
      { timeoutMs: 30_000, what: 'the run to fail on its second step' },
    );
    // The remote side got the real value, in the header and in the URL.
    expect(seen).toEqual(expect.arrayContaining([`/echo?key=${TOKEN} Bearer ${TOKEN}`]));
    const [call, fail] = run.data!.run.tasks;
    expect(call?.status).toBe('SUCCEEDED');
    expect(call?.input).toEqual({ url: `${siteUrl}/echo?key=****`, headers: { authorization: 'Bearer ****' } });
    expect(call?.output.body).toEqual({ youSent: 'Bearer ****', url: '/echo?key=****' });
    expect(fail?.status).toBe('FAILED');
    expect(fail?.error?.code).toBe('HTTP_STATUS');
    expect(fail?.error?.message).toContain('****');
    expect(call?.logs.length).toBeGreaterThan(0);
    // Nowhere in what the API shows, the database holds, or any process logged.
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    expect(await everythingStored()).not.toContain(TOKEN);
    expect(JSON.stringify(t.log.lines)).not.toContain(TOKEN);
    expect(JSON.stringify(t.log.lines)).toContain('****');
  });

  it('fails a step whose secret was deleted after the workflow was saved with SECRET_NOT_FOUND, not retried', async () => {
    const deleted = await t.graphql(adminA, DELETE, { name: 'API_TOKEN' });
    expect(deleted.errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, 'mutation { startRun(input: { workflowName: "uses-token" }) { run { id } } }');
    const runId = started.data!.startRun.run.id;
    const task = await eventually(
      async () => {
        const res = await t.graphql<{ run: { status: string; tasks: Array<{ stepId: string; attempts: number; error: { code: string; message: string; retryable: boolean } | null }> } }>(
          adminA,
          `query($id: ID!) { run(id: $id) { status tasks { stepId attempts error { code message retryable } } } }`,
          { id: runId },
        );
        return res.data?.run.status === 'FAILED' ? res.data.run.tasks.find((x) => x.stepId === 'call') : undefined;
      },
      { timeoutMs: 20_000, what: 'the run to fail' },
    );
    expect(task?.error).toMatchObject({ code: 'SECRET_NOT_FOUND', retryable: false });
    expect(task?.error?.message).toMatch(/step "call".*"API_TOKEN"/);
  });
});
