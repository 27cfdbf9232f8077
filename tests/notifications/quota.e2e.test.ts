import { randomBytes } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { as, createWorkflow, signUp, type Session } from '../orchestration/helpers';
import { startPlatform, type Platform } from '../src/platform';

/**
 * Issue 13, quotas: a burst of 50 startRun calls refused by the organization's runs-per-minute
 * quota (QUOTA_EXCEEDED) becomes one quota.exceeded notification per admin of that organization —
 * not one per refused call, none for its operator (the event's audience is admins), and nothing for
 * another organization's admins. Identity, orchestration and notifications run as real processes
 * behind the gateway; no worker is needed (the started runs just wait).
 */

let platform: Platform;
let ownerA: Session;
let adminA: Session;
let operatorA: Session;
let ownerB: Session;
let workflowA: string;
let workflowB: string;

const START_RUN = 'mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }';

async function member(owner: Session, role: 'ADMIN' | 'OPERATOR'): Promise<Session> {
  const invite = await platform.graphql<{ inviteMember: { token: string } }>('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', {
    i: { email: `${role.toLowerCase()}.${randomBytes(4).toString('hex')}@example.com`, role },
  }, as(owner));
  expect(invite.errors).toBeUndefined();
  const accepted = await platform.graphql<{ acceptInvitation: Session }>('mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken user { id email } organization { id name } } }', {
    i: { token: invite.data!.inviteMember.token, name: `Max ${role}`, password: `Green-Teapot-${randomBytes(5).toString('hex')}` },
  });
  expect(accepted.errors).toBeUndefined();
  return accepted.data!.acceptInvitation;
}

const quotaNotices = async (session: Session) => {
  const res = await platform.graphql<{ notifications: { nodes: Array<{ type: string; title: string; body: string; link: string | null }> } }>(
    '{ notifications(first: 100) { nodes { type title body link } } }',
    {},
    as(session),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.notifications.nodes.filter((n) => n.type === 'quota.exceeded');
};

beforeAll(async () => {
  platform = await startPlatform({
    services: ['identity', 'orchestration', 'notifications'],
    env: {
      // Every organization may start 2 runs a minute (the platform default an operator can change per org).
      orchestration: { ORG_RUNS_STARTED_PER_MINUTE: '2', EVENT_FLUSH_INTERVAL_MS: '50' },
      notifications: { NOTIFY_FANOUT_POLL_MS: '200' },
    },
  });
  ownerA = await signUp(platform, 'Quota Org A');
  adminA = await member(ownerA, 'ADMIN');
  operatorA = await member(ownerA, 'OPERATOR');
  ownerB = await signUp(platform, 'Quota Org B');
  const steps = [{ id: 'work', capability: 'noop' }];
  workflowA = await createWorkflow(platform, ownerA, 'quota-a', steps);
  workflowB = await createWorkflow(platform, ownerB, 'quota-b', steps);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

jest.setTimeout(240_000);

describe('a quota refusing a burst of starts', () => {
  it("tells each admin of the organization once, its operator not, and another organization's admins nothing", async () => {
    for (let i = 0; i < 2; i += 1) expect((await platform.graphql(START_RUN, { input: { workflowId: workflowA } }, as(ownerA))).errors).toBeUndefined();
    expect((await platform.graphql(START_RUN, { input: { workflowId: workflowB } }, as(ownerB))).errors).toBeUndefined();

    const burst = await Promise.all(Array.from({ length: 50 }, () => platform.graphql(START_RUN, { input: { workflowId: workflowA } }, as(ownerA))));
    expect(burst.map((r) => r.errors?.[0]?.extensions?.reason)).toEqual(Array(50).fill('QUOTA_EXCEEDED'));
    expect(burst[0]!.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', quota: 'runsStartedPerMinute', limit: 2 });

    await eventually(async () => ((await quotaNotices(ownerA)).length > 0 && (await quotaNotices(adminA)).length > 0 ? true : undefined), {
      what: 'the quota notifications of org A admins',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    // Anything sent more than once would have come by now (the fan-out polls every 200 ms).
    await new Promise((r) => setTimeout(r, 3_000));
    for (const admin of [ownerA, adminA]) {
      const notices = await quotaNotices(admin);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ title: 'Quota runsStartedPerMinute reached: runs are being refused', link: '/rate-limits' });
      expect(notices[0]!.body).toMatch(/quota runsStartedPerMinute exceeded: the organization started 2 runs in the last minute, its quota is 2/);
    }
    expect(await quotaNotices(operatorA)).toEqual([]);
    expect(await quotaNotices(ownerB)).toEqual([]);

    // Stored once per admin of org A, for no one else.
    const { rows } = await platform.pool.query<{ org_id: string; user_id: string }>(`SELECT org_id, user_id FROM "${platform.schemas.notifications}".notifications WHERE type = 'quota.exceeded'`);
    expect(rows.map((r) => r.user_id).sort()).toEqual([ownerA.user.id, adminA.user.id].sort());
    expect(new Set(rows.map((r) => r.org_id))).toEqual(new Set([ownerA.organization.id]));
  });
});
