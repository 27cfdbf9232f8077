import { env, mailEnv, subgraphEnv } from '@orchestra/lib';
import { z } from 'zod';

/** The notifications process's environment, parsed once in main.ts. */
export const notificationsConfigSchema = z.object({
  ...subgraphEnv('notifications', 4105, 50055),
  /** IdentityService: the members (and their e-mail) an event goes to. */
  IDENTITY_GRPC_ADDR: env.string('127.0.0.1:50051'),
  /** How often the fan-out looks for received events when no wake-up arrived. */
  NOTIFY_FANOUT_POLL_MS: env.int(1_000, { min: 10, max: 60_000 }),
  /**
   * How long the fan-out and the e-mail and webhook senders sleep at most with nothing due (issue 11: an
   * idle process costs nothing). They still wake for new work at once and at every retry's time; this
   * bounds what work made elsewhere (another replica, SQL by hand) waits.
   */
  NOTIFY_IDLE_POLL_MAX_MS: env.int(30_000, { min: 10, max: 3_600_000 }),
  /** Where the admin app is served: links in e-mails (notifications, unsubscribe) start with it. */
  PUBLIC_URL: env.url(['http', 'https'], 'http://127.0.0.1:4000'),
  /** SMTP_URL (unset: mail is logged, not sent, outside production), MAIL_FROM (the sender unless an organization set its own). */
  ...mailEnv,
  /** Digests collect a user's events for this long after the first one, then go as one e-mail. */
  NOTIFY_DIGEST_WINDOW_MS: env.int(15 * 60_000, { min: 100, max: 7 * 86_400_000 }),
  /** First webhook retry delay; each next one doubles (with jitter), up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_BASE_MS: env.int(30_000, { min: 10, max: 3_600_000 }),
  WEBHOOK_RETRY_MAX_DELAY_MS: env.int(3_600_000, { min: 10, max: 86_400_000 }),
  /** A delivery still failing this long after the event gives up; its endpoint is disabled and its admins told. */
  WEBHOOK_RETRY_FOR_MS: env.int(86_400_000, { min: 100, max: 7 * 86_400_000 }),
  /** Each POST's deadline. */
  WEBHOOK_TIMEOUT_MS: env.int(10_000, { min: 100, max: 60_000 }),
  /** How long the previous secret still signs (alongside the new one) after a rotation. */
  WEBHOOK_SECRET_OVERLAP_MS: env.int(86_400_000, { min: 0, max: 30 * 86_400_000 }),
  /**
   * Private addresses webhooks may reach anyway (exact IPs, comma-separated): a receiver inside the
   * network, tests on 127.0.0.1. Every other private, loopback or link-local address is refused.
   */
  WEBHOOK_ALLOWED_PRIVATE_IPS: env.list([]),
});

export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
