import { randomUUID } from 'node:crypto';
import { eventually, type Principal, type Role } from '@orchestra/lib';
import { apiKeyPrincipal, startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from '../testing/harness';

/**
 * Deciding approvals with an API key (issue 10): a key needs the scope approvals:write (runs:write is
 * not enough) and acts with its creator's role (identity puts it in the key's principal; the gateway
 * signs it), which the step's roles must allow like a member's. Each refusal is FORBIDDEN naming what
 * is missing; nothing is decided by a refused call.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const APPROVE = `mutation($t: ID!, $c: String) { approveTask(taskId: $t, comment: $c) { id status output } }`;
const REJECT = `mutation($t: ID!) { rejectTask(taskId: $t) { id status } }`;
const APPROVAL = `query($id: ID!) { run(id: $id) { tasks { id status approval { status canDecide } } } }`;

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });
const keyOf = (scopes: string[], role?: Role): Principal => ({ ...apiKeyPrincipal(orgId, scopes), ...(role === undefined ? {} : { role }) });

beforeAll(async () => {
  t = await startTestOrchestration();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** A run of a workflow with one approval step that `roles` may decide, once its task waits. */
async function waitingApproval(roles: string[]): Promise<{ runId: string; taskId: string }> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name: `approve-${randomUUID().slice(0, 8)}`, steps: [{ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'Ship it?', roles } }] },
  });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, START_RUN, { i: { workflowId: created.data!.createWorkflow.id } });
  expect(started.errors).toBeUndefined();
  const runId = started.data!.startRun.run.id;
  const taskId = await eventually(
    async () => {
      const { rows } = await t.pool.query<{ id: string }>(`SELECT id FROM tasks WHERE run_id = $1 AND status = 'QUEUED' AND wait_reason ->> 'kind' = 'APPROVAL'`, [runId]);
      return rows[0]?.id;
    },
    { timeoutMs: 20_000, what: 'the approval to wait' },
  );
  return { runId, taskId };
}

const waitStatus = async (taskId: string): Promise<string> => (await t.pool.query<{ status: string }>('SELECT status FROM task_waits WHERE task_id = $1', [taskId])).rows[0]!.status;

describe('deciding an approval with an API key', () => {
  it('is refused without the scope approvals:write, naming it (runs:write is not enough)', async () => {
    const { taskId } = await waitingApproval(['operator']);
    const key = keyOf(['runs:read', 'runs:write'], 'owner');
    const refused = await t.graphql(key, APPROVE, { t: taskId });
    expect(errorOf(refused)).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE', requiredScopes: ['approvals:write'] });
    expect(errorOf(refused).message).toContain('approvals:write');
    expect(errorOf(await t.graphql(key, REJECT, { t: taskId }))).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
    expect(await waitStatus(taskId)).toBe('WAITING');
  });

  it("is refused when the key's role (its creator's) is not one the step names, or it has none", async () => {
    const { runId, taskId } = await waitingApproval(['admin']);
    const operatorKey = keyOf(['approvals:write', 'runs:read'], 'operator');
    const refused = await t.graphql(operatorKey, APPROVE, { t: taskId });
    expect(errorOf(refused)).toMatchObject({ code: 'FORBIDDEN', reason: 'APPROVAL_ROLE_REQUIRED' });
    expect(errorOf(refused).message).toBe(`step "approve" may be decided by admin; this API key acts with its creator's role (operator)`);
    // A viewer's key, and a key whose creator left (no role), neither.
    expect(errorOf(await t.graphql(keyOf(['approvals:write'], 'viewer'), REJECT, { t: taskId }))).toMatchObject({ code: 'FORBIDDEN', reason: 'APPROVAL_ROLE_REQUIRED' });
    const orphan = await t.graphql(keyOf(['approvals:write']), APPROVE, { t: taskId });
    expect(errorOf(orphan)).toMatchObject({ code: 'FORBIDDEN', reason: 'APPROVAL_ROLE_REQUIRED' });
    expect(errorOf(orphan).message).toContain('none: its creator is no longer a member');
    // What the run page shows the key: it cannot decide.
    const view = await t.graphql<{ run: { tasks: Array<{ approval: { canDecide: boolean } }> } }>(operatorKey, APPROVAL, { id: runId });
    expect(view.errors).toBeUndefined();
    expect(view.data!.run.tasks[0]!.approval.canDecide).toBe(false);
    expect(await waitStatus(taskId)).toBe('WAITING');
  });

  it('is allowed with the scope and a role the step names: the key decides, and is recorded as the decider', async () => {
    const { runId, taskId } = await waitingApproval(['admin']);
    const key = keyOf(['approvals:write', 'runs:read'], 'admin');
    const view = await t.graphql<{ run: { tasks: Array<{ approval: { canDecide: boolean } }> } }>(key, APPROVAL, { id: runId });
    expect(view.data!.run.tasks[0]!.approval.canDecide).toBe(true);
    const approved = await t.graphql<{ approveTask: { status: string; output: Record<string, unknown> } }>(key, APPROVE, { t: taskId, c: 'by the pipeline' });
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveTask).toMatchObject({ status: 'SUCCEEDED', output: { decision: 'APPROVED', comment: 'by the pipeline', decidedBy: key.display } });
    expect(await waitStatus(taskId)).toBe('APPROVED');
    const audit = await t.pool.query(`SELECT 1 FROM audit_outbox WHERE event ->> 'action' = 'task.approve' AND event ->> 'targetId' = $1 AND coalesce(event ->> 'outcome', 'success') = 'success'`, [taskId]);
    expect(audit.rowCount).toBe(1);
  });

  it("cannot decide another organization's approval (NOT_FOUND), whatever its scope and role", async () => {
    const { taskId } = await waitingApproval(['admin']);
    const stranger: Principal = { ...apiKeyPrincipal(randomUUID(), ['approvals:write']), role: 'owner' };
    expect(errorOf(await t.graphql(stranger, APPROVE, { t: taskId }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await waitStatus(taskId)).toBe('WAITING');
  });
});
