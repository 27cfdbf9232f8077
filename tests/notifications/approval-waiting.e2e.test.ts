import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually, recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { as, createWorkflow, signUp, startRun, waitForRun, type Session } from '../orchestration/helpers';
import { startPlatform, type Platform } from '../src/platform';

/**
 * Issue 10 across services, every part real: a run reaching an approval wait step makes orchestration
 * write approval.waiting to its outbox, the relay hands it to the notifications service, which asks
 * identity who is in the organization and sends each member allowed to decide it an in-app
 * notification (received here live through the gateway's notificationAdded subscription, one
 * WebSocket per member) and an e-mail (a real SMTP server in this process). Who may decide is the
 * step's roles (an owner always, a viewer never): with the default roles the owner, an admin and an
 * operator are asked; with roles [admin] the operator is not; a viewer never hears of either.
 */

type Role = 'ADMIN' | 'OPERATOR' | 'VIEWER';
interface Received {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
}
interface Member {
  session: Session;
  role: string;
  received: Received[];
  client?: Client;
  error?: unknown;
}

let platform: Platform;
let smtp: TestSmtpServer;
const members: Record<'owner' | 'admin' | 'operator' | 'viewer', Member> = {} as never;

const AUTH = 'accessToken user { id email } organization { id name }';

/** Invites `role` into the owner's organization and accepts it as a new account. */
async function invite(owner: Session, role: Role): Promise<Session> {
  const email = `${role.toLowerCase()}.${randomBytes(4).toString('hex')}@example.com`;
  const invited = await platform.graphql<{ inviteMember: { token: string } }>('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email, role } }, as(owner));
  expect(invited.errors).toBeUndefined();
  const accepted = await platform.graphql<{ acceptInvitation: Session }>(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH} } }`, {
    i: { token: invited.data!.inviteMember.token, name: `Max ${role.toLowerCase()}`, password: `Green-Teapot-${randomBytes(5).toString('hex')}` },
  });
  expect(accepted.errors).toBeUndefined();
  return accepted.data!.acceptInvitation;
}

/** Subscribes `member` to its notifications through the gateway; resolves once connected. */
async function listen(member: Member): Promise<void> {
  const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${member.session.accessToken}` } });
  member.client = client;
  const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  client.subscribe(
    { query: 'subscription { notificationAdded { id type title body link } }' },
    {
      next: (value) => {
        const n = (value.data as { notificationAdded?: Received } | null | undefined)?.notificationAdded;
        if (n) member.received.push(n);
      },
      error: (error) => (member.error = error),
      complete: () => undefined,
    },
  );
  await connected;
}

const liveFor = (member: Member, runId: string) => member.received.filter((n) => n.type === 'approval.waiting' && n.body.includes(runId));
const mailsFor = (runId: string) => smtp.messages.filter((m) => (m.text ?? '').includes(runId) && /^\[Orchestra\] Approval waiting: step "approve"$/.test(m.subject ?? ''));

/** Starts a run of `workflow` and waits until its approval step waits. */
async function runReachingApproval(workflow: string): Promise<string> {
  const { id } = await startRun(platform, members.owner.session, { workflowName: workflow, input: { orderId: `A-${randomBytes(3).toString('hex')}` } });
  await eventually(
    async () => {
      const res = await platform.graphql<{ run: { tasks: Array<{ stepId: string; status: string; waitReason: { kind: string } | null }> } | null }>(
        'query($id: ID!) { run(id: $id) { tasks { stepId status waitReason { kind } } } }',
        { id },
        as(members.owner.session),
      );
      const task = res.data?.run?.tasks.find((t) => t.stepId === 'approve');
      return (task?.status === 'QUEUED' && task.waitReason?.kind === 'APPROVAL') || undefined;
    },
    { timeoutMs: 60_000, what: `run ${id} waiting for approval` },
  );
  return id;
}

/** Waits until each of `asked` has the run's notification live and by e-mail, then checks nobody else got either, and each came once. */
async function expectAsked(runId: string, asked: Member[]): Promise<void> {
  const others = Object.values(members).filter((m) => !asked.includes(m));
  const mailedTo = () => mailsFor(runId).flatMap((m) => recipientsOf(m));
  await eventually(() => asked.every((m) => liveFor(m, runId).length > 0 && mailedTo().includes(m.session.user.email.toLowerCase())) || undefined, {
    timeoutMs: 90_000,
    intervalMs: 200,
    what: `the approval of run ${runId} live and by e-mail to ${asked.map((m) => m.role).join(', ')} (live ${asked.map((m) => liveFor(m, runId).length).join('/')}, mailed to ${mailedTo().join(', ') || 'nobody'})`,
  });
  // Anything sent twice, or to someone else, would have come by now (the fan-out polls every 200 ms here).
  await new Promise((r) => setTimeout(r, 3_000));
  for (const m of Object.values(members)) expect(m.error).toBeUndefined();
  for (const m of asked) {
    expect(liveFor(m, runId)).toHaveLength(1);
    expect(liveFor(m, runId)[0]).toMatchObject({ title: 'Approval waiting: step "approve"', link: '/approvals', body: expect.stringContaining('Ship order') as unknown });
  }
  for (const m of others) expect(liveFor(m, runId)).toEqual([]);
  expect(mailedTo().sort()).toEqual(asked.map((m) => m.session.user.email.toLowerCase()).sort());
}

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  platform = await startPlatform({
    services: ['identity', 'orchestration', 'notifications'],
    // A wait step holds no worker slot: no worker is needed to reach it.
    workers: 0,
    env: {
      notifications: { SMTP_URL: smtp.url, NOTIFY_FANOUT_POLL_MS: '200' },
      orchestration: { EVENT_FLUSH_INTERVAL_MS: '50' },
    },
  });
  const owner = await signUp(platform, 'Approving Org');
  members.owner = { session: owner, role: 'owner', received: [] };
  members.admin = { session: await invite(owner, 'ADMIN'), role: 'admin', received: [] };
  members.operator = { session: await invite(owner, 'OPERATOR'), role: 'operator', received: [] };
  members.viewer = { session: await invite(owner, 'VIEWER'), role: 'viewer', received: [] };
  const step = (roles?: string[]) => ({ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'Ship order {{ input.orderId }}?', ...(roles ? { roles } : {}) } });
  await createWorkflow(platform, owner, 'ship-order', [step()]);
  await createWorkflow(platform, owner, 'ship-order-admins', [step(['admin'])]);
  for (const m of Object.values(members)) await listen(m);
  // The gateway listens on the organization's channel once the subscriptions are attached.
  await new Promise((r) => setTimeout(r, 1_000));
}, 180_000);

afterAll(async () => {
  for (const m of Object.values(members ?? {})) await m.client?.dispose();
  await platform?.stop();
  await smtp?.stop();
});

jest.setTimeout(300_000);

describe('a run waiting for approval asks the members who may decide it', () => {
  it('with the default roles: the owner, an admin and an operator, live and by e-mail; a viewer gets nothing', async () => {
    await expectAsked(await runReachingApproval('ship-order'), [members.owner, members.admin, members.operator]);
  });

  it('with roles [admin]: the owner and the admin; neither the operator nor the viewer', async () => {
    const runId = await runReachingApproval('ship-order-admins');
    await expectAsked(runId, [members.owner, members.admin]);
    // And the one asked can decide it: the run goes on.
    const task = await platform.graphql<{ run: { tasks: Array<{ id: string }> } }>('query($id: ID!) { run(id: $id) { tasks { id } } }', { id: runId }, as(members.admin.session));
    const approved = await platform.graphql('mutation($t: ID!) { approveTask(taskId: $t) { status } }', { t: task.data!.run.tasks[0]!.id }, as(members.admin.session));
    expect(approved.errors).toBeUndefined();
    expect((await waitForRun(platform, members.owner.session, runId, ['SUCCEEDED'], 60_000)).status).toBe('SUCCEEDED');
  });
});
