import { z } from 'zod';
import type { Transporter } from 'nodemailer';
import { ConfigError, env } from '../config';
import type { Logger } from '../log';
import type { MailContent } from './template';

/**
 * Mail settings every process that sends mail reads (spread into its config schema). SMTP_URL is
 * `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`; unset, mail is written to the
 * log with its link instead of sent, which is refused when NODE_ENV=production.
 */
export const mailEnv = {
  SMTP_URL: env.url(['smtp', 'smtps']).optional(),
  MAIL_FROM: env.string('Orchestra <no-reply@orchestra.local>'),
  NODE_ENV: z.string().optional(),
};

export interface MailConfig {
  SMTP_URL?: string | undefined;
  MAIL_FROM: string;
  NODE_ENV?: string | undefined;
}

export interface MailMessage extends MailContent {
  to: string;
  /** Overrides MAIL_FROM (a per-organization sender). */
  from?: string | undefined;
  /** Extra headers (List-Unsubscribe, …). */
  headers?: Record<string, string> | undefined;
  /** What the mail is (for logs and metrics), e.g. `password_reset`. */
  kind: string;
  /** The link the mail carries: logged instead of sent in development, never logged when sent. */
  link?: string | undefined;
  /** Request id and the like, carried into the log line. */
  logContext?: Record<string, unknown> | undefined;
}

export interface Mailer {
  /** Sends (or in development logs) one mail; rejects when the SMTP server refuses it. */
  send(message: MailMessage): Promise<void>;
  /** `smtp` when mail leaves the process, `log` when it is only written to the log. */
  readonly mode: 'smtp' | 'log';
  close(): void;
}

/**
 * The mailer for a process's mail config. Fails at start (ConfigError naming SMTP_URL) in production
 * without an SMTP server: a reset link in a production log would be a leak, a silently dropped one an outage.
 */
export async function createMailer(config: MailConfig, log: Logger): Promise<Mailer> {
  const mailLog = log.child({ component: 'mailer' });
  if (config.SMTP_URL === undefined) {
    if (config.NODE_ENV === 'production') {
      throw new ConfigError('config: SMTP_URL expects an smtp:// or smtps:// URL when NODE_ENV=production (mail is only logged in development) (it is not set)');
    }
    return {
      mode: 'log',
      async send(m) {
        mailLog.info('mail not sent (no SMTP_URL): logged instead', { kind: m.kind, to: m.to, subject: m.subject, link: m.link, ...m.logContext });
        await Promise.resolve();
      },
      close() {},
    };
  }
  const { createTransport } = await import('nodemailer');
  const transport: Transporter = createTransport(config.SMTP_URL);
  return {
    mode: 'smtp',
    async send(m) {
      const info = (await transport.sendMail({ from: m.from ?? config.MAIL_FROM, to: m.to, subject: m.subject, text: m.text, html: m.html, headers: m.headers })) as { messageId?: string };
      mailLog.info('mail sent', { kind: m.kind, messageId: info.messageId, ...m.logContext });
    },
    close() {
      transport.close();
    },
  };
}
