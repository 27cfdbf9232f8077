import { eventually, newId, recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { member, notificationEvent, startNotificationsForTest, type NotificationsUnderTest } from '../test-harness';

// A real SMTP server in the test process (smtp-server), every message parsed with mailparser.

let smtp: TestSmtpServer;
let n: NotificationsUnderTest;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  n = await startNotificationsForTest('mail', { SMTP_URL: smtp.url, NOTIFY_DIGEST_WINDOW_MS: '20000', PUBLIC_URL: 'https://orchestra.example' });
});

afterAll(async () => {
  await n.stop();
  await smtp.stop();
});

const runFailed = (orgId: string) => notificationEvent(orgId, 'run.failed', { runId: newId(), workflowName: 'nightly', error: 'HTTP 503' });
const setMode = (orgId: string, userId: string, emailMode: string) =>
  n.graphql('mutation($m: EmailMode) { updateNotificationPreferences(input: { emailMode: $m }) { emailMode } }', { m: emailMode }, member(orgId, 'operator', userId));

describe('e-mail', () => {
  it('sends each event with a plain-text and an HTML part, the organization sender and an unsubscribe link that works', async () => {
    const org = newId();
    const owner = n.directory.add(org, 'owner');
    const set = await n.graphql<{ setOrganizationEmailSender: string }>('mutation { setOrganizationEmailSender(from: "Acme Ops <ops@acme.example>") }', {}, member(org, 'owner', owner.userId));
    expect(set.data?.setOrganizationEmailSender).toBe('Acme Ops <ops@acme.example>');
    await n.publish([runFailed(org)]);
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes(owner.email), 15_000);
    expect(mail.subject).toBe('[Orchestra] Run of "nightly" failed');
    expect(mail.from?.text).toBe('"Acme Ops" <ops@acme.example>');
    expect(mail.text).toContain('HTTP 503');
    expect(mail.html).toContain('HTTP 503');
    expect(mail.text).toContain('https://orchestra.example/runs/');
    const unsubscribe = /https:\/\/orchestra\.example\/unsubscribe\?token=([\w.-]+)/.exec(mail.text ?? '')?.[1];
    expect(unsubscribe).toBeDefined();
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toContain(unsubscribe);
    // The link turns optional e-mail off, with no sign-in; a forged one is refused by field.
    expect((await n.graphql('mutation($t: String!) { unsubscribeFromEmail(token: $t) }', { t: unsubscribe }, { kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'r' } as never)).data).toEqual({ unsubscribeFromEmail: true });
    const forged = await n.graphql('mutation($t: String!) { unsubscribeFromEmail(token: $t) }', { t: `${unsubscribe!.split('.')[0]}.AAAA` }, { kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'r' } as never);
    expect(forged.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    const before = smtp.messages.length;
    const second = runFailed(org);
    await n.publish([second]);
    await eventually(async () => (await n.pool.query('SELECT processed_at FROM notification_events WHERE id = $1', [second.eventId])).rows[0]?.processed_at ?? undefined);
    await n.handle.email.runOnce();
    expect(smtp.messages.slice(before).filter((m) => recipientsOf(m).includes(owner.email))).toEqual([]);
  });

  it('turns a burst of 200 failures within the window into one digest per user who chose digests', async () => {
    const org = newId();
    const digestA = n.directory.add(org, 'operator');
    const digestB = n.directory.add(org, 'admin');
    const silent = n.directory.add(org, 'operator');
    await setMode(org, digestA.userId, 'DIGEST');
    await setMode(org, digestB.userId, 'DIGEST');
    await setMode(org, silent.userId, 'OFF');
    const burst = Array.from({ length: 200 }, () => runFailed(org));
    for (let i = 0; i < burst.length; i += 50) await n.publish(burst.slice(i, i + 50));
    const digestOf = (email: string) => smtp.waitFor((m) => recipientsOf(m).includes(email) && /Digest/.test(m.subject ?? ''), 60_000);
    const [a, b] = await Promise.all([digestOf(digestA.email), digestOf(digestB.email)]);
    expect(a.subject).toBe('[Orchestra] Digest: 200 notifications');
    expect(b.subject).toBe('[Orchestra] Digest: 200 notifications');
    expect(a.text).toContain('run.failed: 200');
    expect(a.text).toContain('… and 150 more.');
    expect(a.html).toContain('Run of &quot;nightly&quot; failed');
    // Once each, and nothing else for them or for the user who turned e-mail off.
    await n.handle.email.runOnce();
    for (const who of [digestA, digestB]) expect(smtp.messages.filter((m) => recipientsOf(m).includes(who.email))).toHaveLength(1);
    expect(smtp.messages.filter((m) => recipientsOf(m).includes(silent.email))).toHaveLength(0);
    // In-app, everyone in the audience still has all 200.
    expect((await n.pool.query('SELECT count(*)::int AS c FROM notifications WHERE org_id = $1 AND user_id = $2', [org, silent.userId])).rows[0].c).toBe(200);
  });

  it('refuses a sender that is not an address, naming the field', async () => {
    const r = await n.graphql('mutation { setOrganizationEmailSender(from: "not an address") }', {}, member(newId(), 'admin'));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
  });
});
