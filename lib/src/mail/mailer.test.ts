import { ConfigError } from '../config';
import { createMemoryLogger } from '../log';
import { createMailer } from './mailer';
import { renderMail } from './template';
import { recipientsOf, startTestSmtpServer, type TestSmtpServer } from './test-smtp';

let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
});

afterAll(async () => {
  await smtp.stop();
});

const content = () =>
  renderMail({
    subject: 'Reset your <Orchestra> password',
    heading: 'Hello Ada & co',
    paragraphs: ['Someone asked to reset the password of this account.'],
    action: { label: 'Choose a new password', url: 'https://orchestra.example/reset-password?token=abc&x=1' },
    footer: 'If it was not you, ignore this mail.',
  });

describe('mailer', () => {
  it('sends a plain-text and an HTML part over SMTP, values escaped in HTML', async () => {
    const log = createMemoryLogger('mail-test');
    const mailer = await createMailer({ SMTP_URL: smtp.url, MAIL_FROM: 'Orchestra <no-reply@orchestra.test>' }, log);
    expect(mailer.mode).toBe('smtp');
    await mailer.send({ ...content(), to: 'ada@example.com', kind: 'password_reset', link: 'https://orchestra.example/reset-password?token=abc&x=1' });
    mailer.close();
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes('ada@example.com'));
    expect(mail.subject).toBe('Reset your <Orchestra> password');
    expect(mail.from?.value[0]?.address).toBe('no-reply@orchestra.test');
    expect(mail.text).toContain('Choose a new password: https://orchestra.example/reset-password?token=abc&x=1');
    expect(mail.html).toContain('href="https://orchestra.example/reset-password?token=abc&amp;x=1"');
    expect(mail.html).toContain('Hello Ada &amp; co');
    // A sent mail's link never reaches the log.
    expect(JSON.stringify(log.lines)).not.toContain('token=abc');
  });

  it('logs the mail and its link in development without SMTP_URL', async () => {
    const log = createMemoryLogger('mail-test');
    const mailer = await createMailer({ MAIL_FROM: 'x@orchestra.test' }, log);
    expect(mailer.mode).toBe('log');
    await mailer.send({ ...content(), to: 'bob@example.com', kind: 'password_reset', link: 'https://orchestra.example/r?token=dev' });
    expect(log.lines).toContainEqual(expect.objectContaining({ kind: 'password_reset', to: 'bob@example.com', link: 'https://orchestra.example/r?token=dev' }));
  });

  it('refuses to start in production without SMTP_URL, naming it', async () => {
    const error = await createMailer({ MAIL_FROM: 'x@orchestra.test', NODE_ENV: 'production' }, createMemoryLogger('mail-test')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^config: SMTP_URL /);
  });

  it('rejects when the SMTP server is not there', async () => {
    const mailer = await createMailer({ SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'x@orchestra.test' }, createMemoryLogger('mail-test'));
    await expect(mailer.send({ ...content(), to: 'c@example.com', kind: 'test' })).rejects.toThrow();
    mailer.close();
  });
});
