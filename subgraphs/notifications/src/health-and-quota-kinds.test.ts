import { eventually, newId, recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { member, notificationEvent, startNotificationsForTest, type NotificationsUnderTest } from './test-harness';

/**
 * The app-health and quota event kinds (issue 13) as the notifications service handles them:
 * listed for preferences and webhooks (the admin app's pages render these lists), delivered to their
 * audience in the app and by e-mail (plain text and HTML, a real SMTP server in this process), and
 * refused with the field named when their data is malformed.
 */

let smtp: TestSmtpServer;
let n: NotificationsUnderTest;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  n = await startNotificationsForTest('kinds', { SMTP_URL: smtp.url, PUBLIC_URL: 'https://orchestra.example' });
});

afterAll(async () => {
  await n.stop();
  await smtp.stop();
});

const LIST = '{ notifications { nodes { type title body link } } }';
type Listed = { notifications: { nodes: Array<{ type: string; title: string; body: string; link: string | null }> } };

describe('app.health_changed and quota.exceeded', () => {
  it('are listed for preferences and webhooks with their audience', async () => {
    const org = newId();
    const owner = n.directory.add(org, 'owner');
    const res = await n.graphql<{ notificationEventTypes: Array<{ type: string; audience: string; optIn: boolean }>; notificationPreferences: { events: Array<{ type: string; inApp: boolean; email: boolean }> } }>(
      '{ notificationEventTypes { type audience optIn } notificationPreferences { events { type inApp email } } }',
      {},
      member(org, 'owner', owner.userId),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.notificationEventTypes).toEqual(
      expect.arrayContaining([
        { type: 'app.health_changed', audience: 'operator', optIn: false },
        { type: 'quota.exceeded', audience: 'admin', optIn: false },
      ]),
    );
    expect(res.data!.notificationPreferences.events).toEqual(
      expect.arrayContaining([
        { type: 'app.health_changed', inApp: true, email: true },
        { type: 'quota.exceeded', inApp: true, email: true },
      ]),
    );
    const endpoint = await n.graphql<{ createWebhookEndpoint: { endpoint: { events: string[] } } }>(
      'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { events } } }',
      { i: { url: 'https://hooks.example.com/orchestra', events: ['app.health_changed', 'quota.exceeded'] } },
      member(org, 'owner', owner.userId),
    );
    expect(endpoint.errors).toBeUndefined();
    expect(endpoint.data!.createWebhookEndpoint.endpoint.events).toEqual(['app.health_changed', 'quota.exceeded']);
  });

  it('an app going down reaches operators (not viewers) in the app and by e-mail with text and HTML', async () => {
    const org = newId();
    const operator = n.directory.add(org, 'operator');
    const viewer = n.directory.add(org, 'viewer');
    const appId = newId();
    await n.publish([notificationEvent(org, 'app.health_changed', { appId, appName: 'Support bot', status: 'down', previousStatus: 'up', httpStatus: 503, error: 'HTTP 503', changes: 1 })]);
    const listed = await eventually(async () => (await n.graphql<Listed>(LIST, {}, member(org, 'operator', operator.userId))).data?.notifications.nodes[0]);
    expect(listed).toEqual({ type: 'app.health_changed', title: 'App "Support bot" is down', body: 'App "Support bot" stopped passing its health check (HTTP 503).', link: `/apps/${appId}` });
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes(operator.email), 15_000);
    expect(mail.subject).toBe('[Orchestra] App "Support bot" is down');
    expect(mail.text).toContain(`https://orchestra.example/apps/${appId}`);
    expect(mail.html).toContain('stopped passing its health check');
    expect((await n.graphql<Listed>(LIST, {}, member(org, 'viewer', viewer.userId))).data?.notifications.nodes).toEqual([]);

    // Coming back after flapping says so.
    await n.publish([notificationEvent(org, 'app.health_changed', { appId, appName: 'Support bot', status: 'up', previousStatus: 'down', httpStatus: 200, changes: 5 })]);
    const back = await eventually(async () => (await n.graphql<Listed>(LIST, {}, member(org, 'operator', operator.userId))).data?.notifications.nodes.find((x) => x.title.endsWith('is up again')));
    expect(back.body).toBe('App "Support bot" passes its health check again (HTTP 200). Its status changed 5 times since the last notice.');
  });

  it('a quota refusing starts reaches admins only', async () => {
    const org = newId();
    const admin = n.directory.add(org, 'admin');
    const operator = n.directory.add(org, 'operator');
    await n.publish([
      notificationEvent(org, 'quota.exceeded', {
        quota: 'runsStartedPerMinute',
        limit: 2,
        used: 2,
        message: 'quota runsStartedPerMinute exceeded: the organization started 2 runs in the last minute, its quota is 2 (platform operators set quotas)',
        quietMinutes: 60,
      }),
    ]);
    const listed = await eventually(async () => (await n.graphql<Listed>(LIST, {}, member(org, 'admin', admin.userId))).data?.notifications.nodes[0]);
    expect(listed).toMatchObject({ type: 'quota.exceeded', title: 'Quota runsStartedPerMinute reached: runs are being refused', link: '/rate-limits' });
    expect(listed.body).toContain('further refusals in the next 60 minutes are not announced again');
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes(admin.email), 15_000);
    expect(mail.html).toContain('runsStartedPerMinute');
    expect((await n.graphql<Listed>(LIST, {}, member(org, 'operator', operator.userId))).data?.notifications.nodes).toEqual([]);
  });

  it('refuses malformed data naming the field', async () => {
    const org = newId();
    await expect(n.publish([notificationEvent(org, 'app.health_changed', { appId: newId(), status: 'sideways', previousStatus: 'up' })])).rejects.toMatchObject({
      message: expect.stringContaining('data.status') as unknown,
    });
    await expect(n.publish([notificationEvent(org, 'quota.exceeded', { quota: 'queuedTasks', limit: -1, used: 0 })])).rejects.toMatchObject({
      message: expect.stringContaining('data.limit') as unknown,
    });
  });
});
