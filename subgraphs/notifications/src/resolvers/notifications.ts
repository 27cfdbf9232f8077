import { badInput, isUuid, type Pool, type RequestContext } from '@orchestra/lib';
import { countUnread, listNotifications, markAllRead, markRead, type Notification } from '../store/notifications';
import { asTenant, signedInUser } from './tenant';

const MAX_PAGE = 200;
const MAX_MARK = 500;

const toGraphQL = (n: Notification) => ({ id: n.id, type: n.type, title: n.title, body: n.body, link: n.link, createdAt: n.createdAt, readAt: n.readAt });

export function notificationResolvers(pool: Pool) {
  return {
    Query: {
      notifications: async (_: unknown, args: { unreadOnly?: boolean | null; first?: number | null; after?: string | null }, ctx: RequestContext) => {
        signedInUser(ctx);
        const first = args.first ?? 50;
        if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `first must be between 1 and ${MAX_PAGE}`, 'OUT_OF_RANGE');
        if (args.after != null && !isUuid(args.after)) throw badInput('after', 'after must be an endCursor of a previous page', 'INVALID_CURSOR');
        const rows = await asTenant(pool, ctx, (tx) => listNotifications(tx, { unreadOnly: args.unreadOnly === true, beforeId: args.after ?? undefined, limit: first + 1 }));
        const nodes = rows.slice(0, first);
        return { nodes: nodes.map(toGraphQL), pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.at(-1)?.id ?? null } };
      },
      unreadNotificationCount: (_: unknown, __: unknown, ctx: RequestContext) => {
        signedInUser(ctx);
        return asTenant(pool, ctx, countUnread);
      },
    },
    Mutation: {
      markNotificationsRead: async (_: unknown, args: { ids: string[] }, ctx: RequestContext) => {
        signedInUser(ctx);
        if (args.ids.length > MAX_MARK) throw badInput('ids', `at most ${MAX_MARK} ids at a time`, 'TOO_MANY_IDS');
        const bad = args.ids.findIndex((id) => !isUuid(id));
        if (bad >= 0) throw badInput(`ids[${bad}]`, `ids[${bad}] is not a notification id`, 'INVALID_ID');
        const rows = await asTenant(pool, ctx, (tx) => markRead(tx, args.ids));
        return rows.map(toGraphQL);
      },
      markAllNotificationsRead: (_: unknown, __: unknown, ctx: RequestContext) => {
        signedInUser(ctx);
        return asTenant(pool, ctx, markAllRead);
      },
    },
  };
}
