import {
  createWakeableSleep,
  idleSleepMs,
  newId,
  NOTIFICATION_EVENTS,
  toAppError,
  withSystemTransaction,
  type Logger,
  type Metrics,
  type NotificationEventType,
  type NotificationSummary,
  type Pool,
  type PoolClient,
  type Role,
} from '@orchestra/lib';
import { claimPendingEvents, markEventFailed, markEventProcessed, pendingEventDueInMs, type PendingEvent } from '../store/events';
import { insertNotifications, type Notification } from '../store/notifications';
import { orgEventSettings, userEmailSettings, userEventPreferences } from '../store/preferences';
import { resolveChannels, type Channels } from '../preferences/resolve';
import type { LivePublisher } from './live';
import type { Directory, Recipient } from './recipients';

/** A registry entry, whichever event it is (its data parsed by its own schema before use). */
type EventSpecOf = {
  audience: Role;
  data: { parse(data: unknown): unknown };
  summary(data: never): NotificationSummary;
  mayReceive?(data: never, role: Role): boolean;
};

/** An event with its registry entry applied: what it says, already checked against the entry's shape. */
export interface FanoutEvent extends PendingEvent {
  type: NotificationEventType;
  summary: NotificationSummary;
}

export interface RecipientPlan extends Recipient {
  channels: Channels;
}

/** Work a channel does after the fan-out transaction committed (wake a sender...). */
export type AfterCommit = () => void | Promise<void>;

/** A channel besides in-app (e-mail, webhooks): writes its rows for an event in the fan-out transaction. */
export interface FanoutChannel {
  name: string;
  plan(tx: PoolClient, event: FanoutEvent, recipients: readonly RecipientPlan[]): Promise<AfterCommit | undefined>;
}

export interface FanoutOptions {
  pool: Pool;
  directory: Directory;
  live: LivePublisher;
  channels: readonly FanoutChannel[];
  log: Logger;
  metrics: Metrics;
  pollMs: number;
  /** The longest it sleeps with nothing due (lib's idleSleepMs). Default: pollMs (a poll every pollMs). */
  idleMaxMs?: number;
  /** Events per transaction. Default 50. */
  batchSize?: number;
}

export interface Fanout {
  start(): void;
  stop(): Promise<void>;
  /** Asks the loop to look now (Publish stored events). */
  wake(): void;
  /** Processes one batch of due events; resolves to how many were processed. */
  processOnce(): Promise<number>;
}

const retryDelayMs = (attempts: number): number => Math.min(60_000, 1_000 * 2 ** Math.min(attempts, 10));

/**
 * Turns received events into notifications. Each event is processed in the transaction that claims
 * it (FOR UPDATE SKIP LOCKED: replicas share the work, never an event): its recipients come from
 * identity (members with the event's audience role), each one's channels from the preferences, and
 * the in-app rows, e-mails and webhook deliveries are written with processed_at — all or nothing, so
 * a crash or an identity outage leaves the event to be processed again, and nothing twice. Live
 * publishing and senders' wake-ups happen after commit.
 */
export function createFanout({ pool, directory, live, channels, log: rootLog, metrics, pollMs, idleMaxMs = pollMs, batchSize = 50 }: FanoutOptions): Fanout {
  const log = rootLog.child({ component: 'fanout' });
  const processed = metrics.counter('notification_events_processed_total', 'Events fanned out to their channels', ['type']);
  const failures = metrics.counter('notification_events_failed_total', 'Event fan-outs that failed and will be retried');
  const created = metrics.counter('notifications_created_total', 'In-app notifications created');

  const planRecipients = async (tx: PoolClient, event: FanoutEvent, members: readonly Recipient[]): Promise<RecipientPlan[]> => {
    const userIds = members.map((m) => m.userId);
    const [orgSetting] = await orgEventSettings(tx, event.orgId, event.type);
    const prefs = new Map((await userEventPreferences(tx, event.orgId, userIds, event.type)).map((p) => [p.userId, p]));
    const modes = new Map((await userEmailSettings(tx, event.orgId, userIds)).map((s) => [s.userId, s.emailMode]));
    return members.map((m) => ({ ...m, channels: resolveChannels(event.type, orgSetting, prefs.get(m.userId), modes.get(m.userId) ?? 'each') }));
  };

  const processEvent = async (tx: PoolClient, pending: PendingEvent, members: (role: Role) => Promise<Recipient[]>) => {
    const spec: EventSpecOf = NOTIFICATION_EVENTS[pending.type as NotificationEventType];
    const data = spec.data.parse(pending.data) as never;
    const event: FanoutEvent = { ...pending, type: pending.type as NotificationEventType, summary: spec.summary(data) };
    // The audience role first (identity answers it), then what the event itself allows (an approval's deciders).
    const audience = (await members(spec.audience)).filter((m) => spec.mayReceive?.(data, m.role) ?? true);
    const recipients = await planRecipients(tx, event, audience);
    const notifications = await insertNotifications(
      tx,
      recipients
        .filter((r) => r.channels.inApp)
        .map((r) => ({ id: newId(), orgId: event.orgId, userId: r.userId, eventId: event.id, type: event.type, title: event.summary.title, body: event.summary.body, link: event.summary.link ?? null })),
    );
    const after: AfterCommit[] = [];
    for (const channel of channels) {
      const step = await channel.plan(tx, event, recipients);
      if (step) after.push(step);
    }
    await markEventProcessed(tx, event.id);
    return { notifications, after };
  };

  const processOnce = async (): Promise<number> => {
    const notifications: Notification[] = [];
    const after: AfterCommit[] = [];
    let count = 0;
    await withSystemTransaction(pool, async (tx) => {
      notifications.length = 0;
      after.length = 0;
      count = 0;
      const events = await claimPendingEvents(tx, batchSize);
      // One identity look-up per organization and audience per batch (a burst of failures asks once).
      const lookups = new Map<string, Promise<Recipient[]>>();
      for (const pending of events) {
        const members = (role: Role) => {
          const key = `${pending.orgId}|${role}`;
          let found = lookups.get(key);
          if (!found) {
            found = directory.membersWithRoleAtLeast(pending.orgId, role);
            lookups.set(key, found);
          }
          return found;
        };
        await tx.query('SAVEPOINT fanout_event');
        try {
          const result = await processEvent(tx, pending, members);
          await tx.query('RELEASE SAVEPOINT fanout_event');
          notifications.push(...result.notifications);
          after.push(...result.after);
          processed.inc({ type: pending.type });
          count += 1;
        } catch (error) {
          await tx.query('ROLLBACK TO SAVEPOINT fanout_event');
          const appError = toAppError(error);
          failures.inc();
          await markEventFailed(tx, pending.id, `${appError.code}: ${appError.message}`, retryDelayMs(pending.attempts));
          log.warn('event fan-out failed: retried later', { eventId: pending.id, type: pending.type, orgId: pending.orgId, attempts: pending.attempts + 1, code: appError.code, error: appError.message });
        }
      }
    });
    created.inc(notifications.length);
    await live.publish(notifications);
    for (const step of after) {
      try {
        await step();
      } catch (err) {
        log.warn('after-commit step failed', { err });
      }
    }
    return count;
  };

  let running = false;
  let loop: Promise<void> | undefined;
  const { sleep, wake } = createWakeableSleep(() => running);

  const run = async () => {
    while (running) {
      let nextDueInMs: number | undefined = 0;
      try {
        while (running && (await processOnce()) > 0) {
          // A backlog drains batch after batch.
        }
        // A retry's time; new events wake the loop (Publish).
        nextDueInMs = await pendingEventDueInMs(pool);
      } catch (err) {
        log.error('fan-out cycle failed', { err });
        nextDueInMs = 0;
      }
      await sleep(idleSleepMs(nextDueInMs, pollMs, idleMaxMs));
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      loop = undefined;
    },
    wake,
    processOnce,
  };
}
