import { createRedis, eventually, newId, orgNotificationChannel, TEST_REDIS_URL, createMemoryLogger, type LiveNotification } from '@orchestra/lib';
import { member, notificationEvent, startNotificationsForTest, type NotificationsUnderTest } from './test-harness';

let n: NotificationsUnderTest;
const orgA = newId();
const orgB = newId();

beforeAll(async () => {
  n = await startNotificationsForTest('notif');
});

afterAll(async () => {
  await n.stop();
});

const LIST = 'query($u: Boolean) { notifications(unreadOnly: $u) { nodes { id type title body link readAt } pageInfo { hasNextPage endCursor } } unreadNotificationCount }';

type ListResult = { notifications: { nodes: Array<{ id: string; type: string; title: string; body: string; link: string | null; readAt: string | null }> }; unreadNotificationCount: number };

const runFailed = (orgId: string, runId = newId()) => notificationEvent(orgId, 'run.failed', { runId, workflowName: 'nightly report', error: 'step fetch: HTTP 503' });

describe('in-app notifications', () => {
  it('go to the members of the event audience, once per event however often it is published', async () => {
    const owner = n.directory.add(orgA, 'owner');
    const operator = n.directory.add(orgA, 'operator');
    const viewer = n.directory.add(orgA, 'viewer');
    const event = runFailed(orgA);
    expect(await n.publish([event])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await n.publish([event])).toEqual({ accepted: 0, duplicates: 1 });

    const ownerView = await eventually(async () => {
      const r = await n.graphql<ListResult>(LIST, {}, member(orgA, 'owner', owner.userId));
      return r.data?.notifications.nodes.length === 1 ? r.data : undefined;
    }, { what: 'the owner notification' });
    expect(ownerView.notifications.nodes[0]).toMatchObject({ type: 'run.failed', title: 'Run of "nightly report" failed', body: expect.stringContaining('HTTP 503'), readAt: null });
    expect(ownerView.unreadNotificationCount).toBe(1);
    expect((await n.graphql<ListResult>(LIST, {}, member(orgA, 'operator', operator.userId))).data?.notifications.nodes).toHaveLength(1);
    // Viewers are not in run.failed's audience.
    expect((await n.graphql<ListResult>(LIST, {}, member(orgA, 'viewer', viewer.userId))).data?.unreadNotificationCount).toBe(0);
    // Processed once, even after a second fan-out pass.
    await n.handle.fanout.processOnce();
    expect((await n.pool.query('SELECT count(*)::int AS c FROM notifications WHERE event_id = $1', [event.eventId])).rows[0].c).toBe(2);
  });

  it('of a waiting approval go only to members who may decide it: its roles, an owner always, a viewer never', async () => {
    const org = newId();
    const owner = n.directory.add(org, 'owner');
    const admin = n.directory.add(org, 'admin');
    const operator = n.directory.add(org, 'operator');
    const viewer = n.directory.add(org, 'viewer');
    const approval = (roles?: string[]) => notificationEvent(org, 'approval.waiting', { runId: newId(), taskId: newId(), stepId: 'approve', message: 'Ship it?', ...(roles ? { roles } : {}) });
    const adminsOnly = approval(['admin']);
    const anyDecider = approval();
    expect(await n.publish([adminsOnly, anyDecider])).toEqual({ accepted: 2, duplicates: 0 });
    await eventually(async () => (await n.pool.query('SELECT count(*)::int AS c FROM notification_events WHERE id = ANY($1::uuid[]) AND processed_at IS NOT NULL', [[adminsOnly.eventId, anyDecider.eventId]])).rows[0].c === 2, {
      what: 'both events fanned out',
    });
    const { rows } = await n.pool.query<{ event_id: string; user_id: string }>('SELECT event_id, user_id FROM notifications WHERE event_id = ANY($1::uuid[])', [[adminsOnly.eventId, anyDecider.eventId]]);
    const to = (eventId: string | undefined) => rows.filter((r) => r.event_id === eventId).map((r) => r.user_id).sort();
    expect(to(adminsOnly.eventId)).toEqual([owner.userId, admin.userId].sort());
    expect(to(anyDecider.eventId)).toEqual([owner.userId, admin.userId, operator.userId].sort());
    expect(rows.some((r) => r.user_id === viewer.userId)).toBe(false);
  });

  it('are marked read one by one or all at once, and unread-only lists follow', async () => {
    const owner = n.directory.add(orgB, 'owner');
    await n.publish([runFailed(orgB), runFailed(orgB), runFailed(orgB)]);
    const me = member(orgB, 'owner', owner.userId);
    const all = await eventually(async () => {
      const r = await n.graphql<ListResult>(LIST, {}, me);
      return r.data?.notifications.nodes.length === 3 ? r.data.notifications.nodes : undefined;
    });
    const marked = await n.graphql<{ markNotificationsRead: Array<{ id: string; readAt: string }> }>('mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id readAt } }', { ids: [all[0]!.id] }, me);
    expect(marked.data?.markNotificationsRead).toEqual([{ id: all[0]!.id, readAt: expect.any(String) }]);
    const unread = await n.graphql<ListResult>(LIST, { u: true }, me);
    expect(unread.data?.notifications.nodes.map((x) => x.id)).toEqual([all[1]!.id, all[2]!.id]);
    expect(unread.data?.unreadNotificationCount).toBe(2);
    expect((await n.graphql<{ markAllNotificationsRead: number }>('mutation { markAllNotificationsRead }', {}, me)).data?.markAllNotificationsRead).toBe(2);
    expect((await n.graphql<ListResult>(LIST, {}, me)).data?.unreadNotificationCount).toBe(0);
  });

  it("are a user's own: other users and organizations neither see nor mark them", async () => {
    const orgC = newId();
    const owner = n.directory.add(orgC, 'owner');
    const admin = n.directory.add(orgC, 'admin');
    await n.publish([runFailed(orgC)]);
    const mine = await eventually(async () => (await n.graphql<ListResult>(LIST, {}, member(orgC, 'owner', owner.userId))).data?.notifications.nodes[0]);
    await eventually(async () => ((await n.graphql<ListResult>(LIST, {}, member(orgC, 'admin', admin.userId))).data?.unreadNotificationCount ?? 0) > 0);
    // The same user id in another organization, and another user of the same organization.
    for (const other of [member(orgA, 'owner', owner.userId), member(orgC, 'admin', admin.userId)]) {
      const listed = await n.graphql<ListResult>(LIST, {}, other);
      expect(listed.data?.notifications.nodes.map((x) => x.id)).not.toContain(mine.id);
      const marked = await n.graphql<{ markNotificationsRead: unknown[] }>('mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id } }', { ids: [mine.id] }, other);
      expect(marked.data?.markNotificationsRead).toEqual([]);
    }
    expect((await n.graphql<ListResult>(LIST, {}, member(orgC, 'owner', owner.userId))).data?.notifications.nodes[0]?.readAt).toBeNull();
  });

  it('are published live on the organization channel after commit', async () => {
    const orgD = newId();
    const owner = n.directory.add(orgD, 'owner');
    const subscriber = createRedis({ url: TEST_REDIS_URL, name: 'live-test', log: createMemoryLogger() });
    const received: LiveNotification[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(JSON.parse(message) as LiveNotification));
    await subscriber.subscribe(orgNotificationChannel(n.config.REDIS_PREFIX, orgD));
    try {
      await n.publish([notificationEvent(orgD, 'api_key.created', { apiKeyId: newId(), name: 'ci', scopes: ['runs:write'], createdBy: 'ada@example.com' })]);
      const live = await eventually(() => received[0]);
      expect(live).toMatchObject({ orgId: orgD, userId: owner.userId, type: 'api_key.created', title: 'API key "ci" was created', readAt: null });
    } finally {
      subscriber.disconnect();
    }
  });

  it('wait while identity is unreachable and are created once it answers', async () => {
    const orgE = newId();
    const owner = n.directory.add(orgE, 'owner');
    n.directory.down = true;
    const event = runFailed(orgE);
    await n.publish([event]);
    await eventually(async () => (await n.pool.query('SELECT attempts FROM notification_events WHERE id = $1', [event.eventId])).rows[0]?.attempts >= 1, { what: 'a failed attempt' });
    expect(n.log.lines.some((l) => l['msg'] === 'event fan-out failed: retried later' && l['eventId'] === event.eventId)).toBe(true);
    n.directory.down = false;
    await n.pool.query('UPDATE notification_events SET next_attempt_at = now() WHERE id = $1', [event.eventId]);
    n.handle.fanout.wake();
    await eventually(async () => ((await n.graphql<ListResult>(LIST, {}, member(orgE, 'owner', owner.userId))).data?.unreadNotificationCount ?? 0) === 1, { what: 'the notification after recovery' });
  });
});

describe('Publish refuses bad events by field, and none of the batch is stored', () => {
  it.each([
    ['an unknown event type', { type: 'run.exploded', data: {} }, 'events.type'],
    ['data that does not fit the type', { type: 'run.failed', data: { workflowName: 'x' } }, 'events.data'],
    ['an org id that is no UUID', { type: 'run.failed', orgId: 'acme', data: { runId: 'r' } }, 'events.org_id'],
  ])('%s', async (_what, bad, field) => {
    const good = runFailed(orgA);
    const error = await n.publish([good, { ...notificationEvent(orgA, 'run.failed', {}), ...bad }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await n.pool.query('SELECT 1 FROM notification_events WHERE id = $1', [good.eventId])).rowCount).toBe(0);
  });
});

describe('preferences', () => {
  const PREFS = 'query { notificationPreferences { emailMode events { type inApp email required custom } } }';
  const UPDATE = 'mutation($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) { emailMode events { type inApp email required custom } } }';
  const ORG = 'mutation($s: [OrganizationNotificationSettingInput!]!) { updateOrganizationNotificationSettings(settings: $s) { type inApp email required } }';

  it('opt-in events reach only those who turn them on', async () => {
    const orgF = newId();
    const keen = n.directory.add(orgF, 'operator');
    const quiet = n.directory.add(orgF, 'operator');
    const prefs = await n.graphql<{ notificationPreferences: { events: Array<{ type: string; inApp: boolean }> } }>(PREFS, {}, member(orgF, 'operator', keen.userId));
    expect(prefs.data?.notificationPreferences.events.find((e) => e.type === 'run.succeeded')).toMatchObject({ inApp: false });
    const updated = await n.graphql<{ updateNotificationPreferences: { emailMode: string; events: Array<{ type: string; inApp: boolean; custom: boolean }> } }>(
      UPDATE,
      { input: { emailMode: 'DIGEST', events: [{ type: 'run.succeeded', inApp: true, email: false }] } },
      member(orgF, 'operator', keen.userId),
    );
    expect(updated.data?.updateNotificationPreferences.emailMode).toBe('DIGEST');
    expect(updated.data?.updateNotificationPreferences.events.find((e) => e.type === 'run.succeeded')).toMatchObject({ inApp: true, custom: true });
    const event = notificationEvent(orgF, 'run.succeeded', { runId: newId(), workflowName: 'w' });
    await n.publish([event]);
    await eventually(async () => (await n.pool.query('SELECT processed_at FROM notification_events WHERE id = $1', [event.eventId])).rows[0]?.processed_at ?? undefined, { what: 'processing' });
    const users = (await n.pool.query<{ user_id: string }>('SELECT user_id FROM notifications WHERE event_id = $1', [event.eventId])).rows.map((r) => r.user_id);
    expect(users).toEqual([keen.userId]);
    expect(users).not.toContain(quiet.userId);
  });

  it('required events reach members who turned them off', async () => {
    const orgG = newId();
    const admin = n.directory.add(orgG, 'admin');
    await n.graphql(UPDATE, { input: { events: [{ type: 'api_key.created', inApp: false, email: false }] } }, member(orgG, 'admin', admin.userId));
    const set = await n.graphql<{ updateOrganizationNotificationSettings: Array<{ type: string; required: boolean }> }>(ORG, { s: [{ type: 'api_key.created', inApp: true, email: false, required: true }] }, member(orgG, 'admin', admin.userId));
    expect(set.data?.updateOrganizationNotificationSettings.find((s) => s.type === 'api_key.created')).toMatchObject({ required: true });
    const event = notificationEvent(orgG, 'api_key.created', { apiKeyId: newId(), name: 'k', scopes: [] });
    await n.publish([event]);
    await eventually(async () => (await n.pool.query('SELECT 1 FROM notifications WHERE event_id = $1 AND user_id = $2', [event.eventId, admin.userId])).rowCount === 1, { what: 'the required notification' });
    // The organization's settings are admins' business, and its own only.
    const denied = await n.graphql(ORG, { s: [] }, member(orgG, 'operator'));
    expect(denied.errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    expect((await n.pool.query('SELECT org_id FROM org_event_settings WHERE org_id <> $1 AND event_type = $2 AND required', [orgG, 'api_key.created'])).rowCount).toBe(0);
  });

  it.each([
    ['an unknown event', { events: [{ type: 'run.exploded', inApp: true, email: true }] }, 'input.events[0].type'],
    ['an event named twice', { events: [{ type: 'run.failed', inApp: true, email: true }, { type: 'run.failed', inApp: false, email: true }] }, 'input.events[1].type'],
  ])('refuses %s, naming the field', async (_what, input, field) => {
    const r = await n.graphql(UPDATE, { input }, member(orgA, 'viewer'));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
