import { AppError, orgNotificationChannel, type LiveNotification, type Logger, type Metrics, type Redis } from '@orchestra/lib/gateway';
import type { FeedSink } from './run-feeds';
import type { SubscriptionField } from './registry';

/**
 * The gateway's readers of new in-app notifications (issue 13): ONE Redis pub/sub subscription per
 * organization in this process, however many of its users watch, fanned out in memory to the
 * subscribers whose user the notification names. The notifications service publishes each
 * notification after its row is committed (subgraphs/notifications/src/fanout/live.ts); live delivery
 * is best effort, the stored row is the truth: a client that reconnects reads the centre again
 * (Query.notifications / unreadNotificationCount), so nothing is replayed here.
 */

export interface NotificationFeeds {
  /** Delivers the organization's new notifications for `userId` to `sink`. Returns detach. */
  attachUser(orgId: string, userId: string, sink: FeedSink<LiveNotification>): () => void;
  stats(): { orgs: number; sinks: number };
  stop(): Promise<void>;
}

interface OrgChannel {
  channel: string;
  sinks: Map<FeedSink<LiveNotification>, string>;
  ready: Promise<void>;
}

const parse = (message: string): LiveNotification | undefined => {
  try {
    const value = JSON.parse(message) as Partial<LiveNotification>;
    return typeof value.id === 'string' && typeof value.orgId === 'string' && typeof value.userId === 'string' ? (value as LiveNotification) : undefined;
  } catch {
    return undefined;
  }
};

export function createNotificationFeeds({ redis, prefix, log: parentLog, metrics }: { redis: Redis; prefix: string; log: Logger; metrics?: Metrics }): NotificationFeeds {
  const log = parentLog.child({ component: 'notification-feeds' });
  const dropped = metrics?.counter('gateway_notification_messages_dropped_total', 'Live notification messages the gateway could not use, by why', ['why']);
  const orgs = new Map<string, OrgChannel>();
  const byChannel = new Map<string, OrgChannel>();
  let subscriber: Redis | undefined;
  let stopped = false;

  const connection = (): Redis => {
    if (subscriber) return subscriber;
    const created = redis.duplicate({ connectionName: `${String(redis.options.connectionName ?? 'redis')}-notifications` });
    created.on('message', (channel: string, message: string) => {
      const feed = byChannel.get(channel);
      if (!feed) return;
      const notification = parse(message);
      // The channel names the organization; a message naming another is not delivered.
      if (!notification || `${orgNotificationChannel(prefix, notification.orgId)}` !== channel) {
        dropped?.inc({ why: notification ? 'wrong-organization' : 'malformed' });
        log.warn('live notification message dropped', { channel, why: notification ? 'wrong-organization' : 'malformed' });
        return;
      }
      for (const [sink, userId] of [...feed.sinks]) if (userId === notification.userId) sink.offer(notification);
    });
    created.on('error', (err: Error) => log.warn('notification subscriber connection error', { err }));
    subscriber = created;
    return created;
  };

  return {
    attachUser(orgId, userId, sink) {
      let feed = orgs.get(orgId);
      if (!feed) {
        const channel = orgNotificationChannel(prefix, orgId);
        const created: OrgChannel = { channel, sinks: new Map(), ready: Promise.resolve() };
        created.ready = connection()
          .subscribe(channel)
          .then(() => undefined);
        orgs.set(orgId, created);
        byChannel.set(channel, created);
        feed = created;
      }
      const current = feed;
      let active = true;
      current.ready.then(
        () => {
          if (active && !stopped) current.sinks.set(sink, userId);
        },
        (error: unknown) => {
          if (active) sink.fail(error);
        },
      );
      return () => {
        active = false;
        current.sinks.delete(sink);
        // The last subscriber of the organization leaves: its channel is dropped at once (no backlog to keep).
        if (current.sinks.size === 0 && orgs.get(orgId) === current) {
          void current.ready.then(() => {
            if (current.sinks.size > 0 || orgs.get(orgId) !== current) return;
            orgs.delete(orgId);
            byChannel.delete(current.channel);
            if (subscriber?.status === 'ready') void subscriber.unsubscribe(current.channel).catch(() => undefined);
          });
        }
      };
    },
    stats() {
      let sinks = 0;
      for (const feed of orgs.values()) sinks += feed.sinks.size;
      return { orgs: orgs.size, sinks };
    },
    async stop() {
      stopped = true;
      orgs.clear();
      byChannel.clear();
      if (subscriber) {
        const closing = subscriber;
        subscriber = undefined;
        await closing.quit().catch(() => closing.disconnect());
      }
    },
  };
}

/** The subscriber the subscription was opened for (set at subscribe time, checked on every re-authentication). */
export interface NotificationArgs {
  userId: string | undefined;
}

/**
 * Subscription.notificationAdded: the signed-in user's new notifications in the current organization.
 * Users only (a notification belongs to a user; API keys have none). A connection that authenticates
 * again as another user, or in another organization, ends it with FORBIDDEN.
 */
export function notificationAddedField({ feeds }: { feeds: NotificationFeeds }): SubscriptionField<NotificationArgs, LiveNotification> {
  return {
    name: 'notificationAdded',
    access: { role: 'viewer' },
    parseArgs: () => ({ userId: undefined }),
    authorizeResource(principal, args) {
      const userId = principal.kind === 'user' ? (principal.userId ?? principal.id) : undefined;
      if (userId === undefined) throw new AppError('FORBIDDEN', 'notifications belong to users: sign in as one to subscribe', { reason: 'NOT_FOR_API_KEYS' });
      if (args.userId !== undefined && args.userId !== userId) {
        throw new AppError('FORBIDDEN', 'the connection now acts as another user: subscribe again for their notifications', { reason: 'USER_CHANGED' });
      }
      args.userId = userId;
      return Promise.resolve();
    },
    attach: (args, sink, principal) => feeds.attachUser(principal.orgId!, args.userId!, sink),
    eventKey: (notification) => notification.id,
  };
}
