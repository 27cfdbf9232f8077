import { orgNotificationChannel, type LiveNotification, type Logger, type Redis } from '@orchestra/lib';
import type { Notification } from '../store/notifications';

export const toLiveNotification = (n: Notification): LiveNotification => ({
  id: n.id,
  orgId: n.orgId,
  userId: n.userId,
  type: n.type,
  title: n.title,
  body: n.body,
  link: n.link,
  createdAt: n.createdAt.toISOString(),
  readAt: n.readAt?.toISOString() ?? null,
});

/** Publishes committed notifications for the gateway's `notificationAdded` subscribers. */
export interface LivePublisher {
  publish(notifications: readonly Notification[]): Promise<void>;
}

export function createLivePublisher({ redis, prefix, log }: { redis: Redis; prefix: string; log: Logger }): LivePublisher {
  return {
    async publish(notifications) {
      if (notifications.length === 0) return;
      try {
        const pipeline = redis.pipeline();
        for (const n of notifications) pipeline.publish(orgNotificationChannel(prefix, n.orgId), JSON.stringify(toLiveNotification(n)));
        await pipeline.exec();
      } catch (err) {
        // Live delivery is best effort: the notification is stored and the centre reads it on its next query.
        log.warn('live notification publish failed', { err, count: notifications.length, firstId: notifications[0]?.id });
      }
    },
  };
}
