import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Checkbox } from '../components/form';
import { PageHeader } from '../components/page-header';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { markAllNotificationsReadMutation, markNotificationsReadMutation, notificationsQuery } from '../lib/api/operations/notifications';
import { queryKeys } from '../lib/api/query-keys';
import { appLayoutRoute } from './app-layout';

/** The notification centre (issue 13): the signed-in user's notifications here, new ones arriving live. */
function NotificationsPage() {
  const [unreadOnly, setUnreadOnly] = useState(false);
  const list = useApiQuery(queryKeys.notifications.list({ unreadOnly }), notificationsQuery, { unreadOnly, first: 100 });
  const markRead = useApiMutation(markNotificationsReadMutation, { invalidates: [queryKeys.notifications.all] });
  const markAll = useApiMutation(markAllNotificationsReadMutation, { invalidates: [queryKeys.notifications.all] });
  const nodes = list.data?.notifications.nodes ?? [];
  const anyUnread = nodes.some((n) => !n.readAt);
  return (
    <>
      <PageHeader
        title="Notifications"
        description="What happened in this organization that you asked to hear about. New ones arrive here live."
        actions={
          <>
            <Link to="/notification-preferences" className="text-sm font-medium text-indigo-700 hover:underline">Settings</Link>
            <Button onClick={() => markAll.mutate({})} busy={markAll.isPending} disabled={!anyUnread}>Mark all read</Button>
          </>
        }
      />
      {(markRead.error ?? markAll.error) && <ErrorNotice error={markRead.error ?? markAll.error} className="mb-4" />}
      <Card padded={false} title="Notifications" actions={<Checkbox label="Unread only" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />}>
        {list.isPending ? (
          <LoadingBlock />
        ) : list.error ? (
          <div className="p-4"><ErrorNotice error={list.error} onRetry={() => void list.refetch()} /></div>
        ) : nodes.length === 0 ? (
          <EmptyState title={unreadOnly ? 'Nothing unread' : 'No notifications yet'} />
        ) : (
          <ul className="divide-y divide-slate-100" aria-label="Notifications">
            {nodes.map((n) => (
              <li key={n.id} data-notification={n.type} data-unread={n.readAt ? undefined : 'true'} className={`flex items-start gap-3 px-4 py-3 ${n.readAt ? '' : 'bg-indigo-50/50'}`}>
                <span className={`mt-1.5 size-2 shrink-0 rounded-full ${n.readAt ? 'bg-transparent' : 'bg-indigo-600'}`} aria-hidden="true" />
                <div className="min-w-0 flex-1">
                  <p className="text-sm font-medium text-slate-900">
                    {n.link ? <a href={n.link} className="hover:underline">{n.title}</a> : n.title}
                    {!n.readAt && <span className="sr-only"> (unread)</span>}
                  </p>
                  <p className="whitespace-pre-line break-words text-sm text-slate-600">{n.body}</p>
                  <p className="mt-0.5 text-xs text-slate-400"><code className="font-mono">{n.type}</code> · <RelativeTime value={n.createdAt} /></p>
                </div>
                {!n.readAt && <Button size="sm" variant="ghost" onClick={() => markRead.mutate({ ids: [n.id] })}>Mark read</Button>}
              </li>
            ))}
          </ul>
        )}
      </Card>
      {list.data?.notifications.pageInfo.hasNextPage && <p className="mt-2 text-xs text-slate-500">The newest 100 are shown.</p>}
    </>
  );
}

export const notificationsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/notifications', component: NotificationsPage });
