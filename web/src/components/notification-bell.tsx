import { Link } from '@tanstack/react-router';
import { useApiQuery } from '../hooks/use-api';
import { unreadNotificationCountQuery } from '../lib/api/operations/notifications';
import { queryKeys } from '../lib/api/query-keys';
import { Icon } from './icons';

/** The header's way into the notification centre, with the live unread count. */
export function NotificationBell() {
  const unread = useApiQuery(queryKeys.notifications.unreadCount, unreadNotificationCountQuery, {}, { staleTime: 60_000 });
  const count = unread.data?.unreadNotificationCount ?? 0;
  const label = count === 0 ? 'Notifications' : `Notifications: ${count} unread`;
  return (
    <Link to="/notifications" className="relative rounded-md p-1.5 text-slate-600 hover:bg-slate-100 hover:text-slate-900" aria-label={label} title={label}>
      <Icon name="bell" className="size-5" />
      {count > 0 && (
        <span data-testid="unread-badge" className="absolute -right-1 -top-1 min-w-[1.1rem] rounded-full bg-red-600 px-1 text-center text-[10px] font-semibold leading-[1.1rem] text-on-accent tabular-nums">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}
