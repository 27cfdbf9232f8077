import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { UnreadNotificationCountQuery } from '../lib/api/__generated__/graphql';
import { notificationAddedSubscription } from '../lib/api/operations/notifications';
import { queryKeys } from '../lib/api/query-keys';
import { useServices } from './services';

/**
 * The signed-in user's new notifications, live (Subscription.notificationAdded), mounted once by the
 * signed-in layout per organization: the unread badge counts up at once and the centre's lists are
 * read again. Live delivery is best effort, so after a reconnect both are read again from the API.
 */
export function useNotificationFeed(organizationId: string | undefined): void {
  const { live } = useServices();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (organizationId === undefined) return;
    let wasLive = false;
    const unsubscribe = live.subscribe(notificationAddedSubscription, {}, {
      next: ({ notificationAdded }) => {
        if (notificationAdded.readAt === null || notificationAdded.readAt === undefined) {
          queryClient.setQueryData<UnreadNotificationCountQuery>(queryKeys.notifications.unreadCount, (data) => (data ? { unreadNotificationCount: data.unreadNotificationCount + 1 } : data));
        }
        void queryClient.invalidateQueries({ queryKey: queryKeys.notifications.lists });
      },
      status: (status) => {
        if (status === 'live' && wasLive) void queryClient.invalidateQueries({ queryKey: queryKeys.notifications.all });
        if (status === 'live') wasLive = true;
      },
      // The badge still loads from the API without the feed; errors stay quiet here.
      error: () => undefined,
    });
    return unsubscribe;
  }, [organizationId, live, queryClient]);
}
