import { createWakeableSleep, idleSleepMs, newId, withSystemTransaction, type Logger, type Mailer, type Metrics, type Pool } from '@orchestra/lib';
import { claimDueEmails, dueDigests, emailDueInMs, insertEmails, markEmailFailed, markEmailSent, orgSender, takeDigestItems, type PendingEmail } from '../store/email';
import { digestMail } from './templates';
import type { Unsubscriber } from './unsubscribe';

export interface EmailSenderOptions {
  pool: Pool;
  mailer: Mailer;
  log: Logger;
  metrics: Metrics;
  publicUrl: string;
  unsubscriber: Unsubscriber;
  digestWindowMs: number;
  pollMs: number;
  /** The longest it sleeps with nothing due (lib's idleSleepMs). Default: pollMs (a poll every pollMs). */
  idleMaxMs?: number;
}

export interface EmailSender {
  start(): void;
  stop(): Promise<void>;
  wake(): void;
  /** Builds the digests that are due, then sends due mail; resolves to how many mails were attempted. */
  runOnce(): Promise<number>;
}

const MAX_ATTEMPTS = 8;
const retryInMs = (attempt: number) => Math.min(3_600_000, 5_000 * 2 ** (attempt - 1));

/**
 * Sends the e-mail rows the fan-out wrote (a lease per row: replicas never send one twice at once) with
 * the organization's sender and a List-Unsubscribe header, retrying a refused send with backoff; and
 * turns each digest user's items into one mail once the first has waited the digest window.
 */
export function createEmailSender({ pool, mailer, metrics, publicUrl, unsubscriber, digestWindowMs, pollMs, idleMaxMs = pollMs, ...options }: EmailSenderOptions): EmailSender {
  const log = options.log.child({ component: 'email' });
  const sent = metrics.counter('notification_emails_sent_total', 'E-mails sent', ['kind']);
  const failures = metrics.counter('notification_email_failures_total', 'E-mail sends that failed (retried up to a limit)');
  const digests = metrics.counter('notification_digests_total', 'Digest e-mails built');

  const buildDigests = async (): Promise<number> => {
    const due = await withSystemTransaction(pool, (tx) => dueDigests(tx, digestWindowMs, 100));
    let built = 0;
    for (const { orgId, userId } of due) {
      await withSystemTransaction(pool, async (tx) => {
        const items = await takeDigestItems(tx, orgId, userId);
        const first = items[0];
        if (!first) return;
        const unsubscribeUrl = unsubscriber.url(orgId, userId);
        const content = digestMail(items, publicUrl, unsubscribeUrl);
        await insertEmails(tx, [{ id: newId(), orgId, userId, toAddress: first.toAddress, kind: 'digest', eventId: null, subject: content.subject, text: content.text, html: content.html, unsubscribeUrl }]);
        built += 1;
        log.info('digest built', { orgId, userId, items: items.length });
      });
    }
    digests.inc(built);
    return built;
  };

  const send = async (mail: PendingEmail): Promise<void> => {
    const from = await orgSender(pool, mail.orgId);
    try {
      await mailer.send({
        to: mail.toAddress,
        from,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        kind: `notification_${mail.kind}`,
        headers: { 'List-Unsubscribe': `<${mail.unsubscribeUrl}>` },
        logContext: { emailId: mail.id, orgId: mail.orgId, userId: mail.userId, eventId: mail.eventId },
      });
      await markEmailSent(pool, mail.id);
      sent.inc({ kind: mail.kind });
    } catch (error) {
      failures.inc();
      const attempt = mail.attempts + 1;
      const message = error instanceof Error ? error.message : String(error);
      await markEmailFailed(pool, mail.id, message, attempt >= MAX_ATTEMPTS ? null : retryInMs(attempt));
      log.warn(attempt >= MAX_ATTEMPTS ? 'e-mail failed for good' : 'e-mail failed: retried later', { emailId: mail.id, orgId: mail.orgId, attempt, error: message });
    }
  };

  const runOnce = async (): Promise<number> => {
    await buildDigests();
    let total = 0;
    for (;;) {
      const due = await withSystemTransaction(pool, (tx) => claimDueEmails(tx, 20, 120_000));
      if (due.length === 0) return total;
      total += due.length;
      await Promise.all(due.map(send));
    }
  };

  let running = false;
  let loop: Promise<void> | undefined;
  const { sleep, wake } = createWakeableSleep(() => running);

  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let nextDueInMs: number | undefined = 0;
          try {
            await runOnce();
            // A retry's time or a digest window's end; new mail wakes the loop (the fan-out's commit).
            nextDueInMs = await emailDueInMs(pool, digestWindowMs);
          } catch (err) {
            log.error('e-mail cycle failed', { err });
            nextDueInMs = 0;
          }
          await sleep(idleSleepMs(nextDueInMs, Math.min(pollMs, digestWindowMs), idleMaxMs));
        }
      })();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      loop = undefined;
    },
    wake,
    runOnce,
  };
}
