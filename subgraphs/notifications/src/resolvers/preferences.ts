import {
  badInput,
  isNotificationEventType,
  NOTIFICATION_EVENT_TYPES,
  NOTIFICATION_EVENTS,
  recordAudit,
  type NotificationEventType,
  type Pool,
  type PoolClient,
  type RequestContext,
  withTenantTransaction,
} from '@orchestra/lib';
import { NOTIFICATIONS_TENANT_ROLE } from '../migrate';
import { orgDefault } from '../preferences/resolve';
import {
  orgEventSettings,
  upsertOrgEventSettings,
  upsertUserEmailMode,
  upsertUserEventPreferences,
  userEmailSettings,
  userEventPreferences,
  type EmailMode,
} from '../store/preferences';
import { orgSender, setOrgSender } from '../store/email';
import type { Unsubscriber } from '../email/unsubscribe';
import { asTenant, signedInUser } from './tenant';

type GraphQLEmailMode = 'EACH' | 'DIGEST' | 'OFF';
const EMAIL_MODE_IN: Record<GraphQLEmailMode, EmailMode> = { EACH: 'each', DIGEST: 'digest', OFF: 'off' };
const EMAIL_MODE_OUT: Record<EmailMode, GraphQLEmailMode> = { each: 'EACH', digest: 'DIGEST', off: 'OFF' };

/** Checks a list of entries naming event types: known names, each at most once. */
function eventTypesOf(field: string, entries: ReadonlyArray<{ type: string }>): NotificationEventType[] {
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    if (!isNotificationEventType(entry.type)) {
      throw badInput(`${field}[${i}].type`, `unknown event type "${entry.type.slice(0, 60)}" (one of ${NOTIFICATION_EVENT_TYPES.join(', ')})`, 'UNKNOWN_EVENT_TYPE');
    }
    if (seen.has(entry.type)) throw badInput(`${field}[${i}].type`, `event type ${entry.type} is named twice`, 'DUPLICATE_EVENT_TYPE');
    seen.add(entry.type);
    return entry.type;
  });
}

async function preferencesOf(tx: PoolClient, orgId: string, userId: string) {
  const org = new Map((await orgEventSettings(tx, orgId)).map((s) => [s.eventType, s]));
  const mine = new Map((await userEventPreferences(tx, orgId, [userId])).map((p) => [p.eventType, p]));
  const [email] = await userEmailSettings(tx, orgId, [userId]);
  return {
    emailMode: EMAIL_MODE_OUT[email?.emailMode ?? 'each'],
    events: NOTIFICATION_EVENT_TYPES.map((type) => {
      const base = orgDefault(type, org.get(type));
      const own = mine.get(type);
      return {
        type,
        label: NOTIFICATION_EVENTS[type].label,
        inApp: base.required ? base.inApp || (own?.inApp ?? false) : (own?.inApp ?? base.inApp),
        email: base.required ? base.email || (own?.email ?? false) : (own?.email ?? base.email),
        required: base.required,
        custom: own !== undefined,
      };
    }),
  };
}

async function orgSettingsOf(tx: PoolClient, orgId: string) {
  const org = new Map((await orgEventSettings(tx, orgId)).map((s) => [s.eventType, s]));
  return NOTIFICATION_EVENT_TYPES.map((type) => ({ ...orgDefault(type, org.get(type)), type, label: NOTIFICATION_EVENTS[type].label }));
}

export function preferenceResolvers(pool: Pool, service: string, unsubscriber: Unsubscriber) {
  return {
    Query: {
      notificationEventTypes: () =>
        NOTIFICATION_EVENT_TYPES.map((type) => ({ type, label: NOTIFICATION_EVENTS[type].label, optIn: NOTIFICATION_EVENTS[type].optIn, audience: NOTIFICATION_EVENTS[type].audience })),
      notificationPreferences: (_: unknown, __: unknown, ctx: RequestContext) => {
        const { orgId, userId } = signedInUser(ctx);
        return asTenant(pool, ctx, (tx) => preferencesOf(tx, orgId, userId));
      },
      organizationNotificationSettings: (_: unknown, __: unknown, ctx: RequestContext) => {
        const orgId = ctx.principal.orgId!;
        return asTenant(pool, ctx, (tx) => orgSettingsOf(tx, orgId));
      },
      organizationEmailSender: async (_: unknown, __: unknown, ctx: RequestContext) => (await asTenant(pool, ctx, (tx) => orgSender(tx, ctx.principal.orgId!))) ?? null,
    },
    Mutation: {
      updateNotificationPreferences: (
        _: unknown,
        { input }: { input: { emailMode?: GraphQLEmailMode | null; events?: Array<{ type: string; inApp: boolean; email: boolean }> | null } },
        ctx: RequestContext,
      ) => {
        const { orgId, userId } = signedInUser(ctx);
        const events = input.events ?? [];
        const types = eventTypesOf('input.events', events);
        return asTenant(pool, ctx, async (tx) => {
          await upsertUserEventPreferences(tx, orgId, userId, events.map((e, i) => ({ eventType: types[i]!, inApp: e.inApp, email: e.email })));
          if (input.emailMode != null) await upsertUserEmailMode(tx, orgId, userId, EMAIL_MODE_IN[input.emailMode]);
          return preferencesOf(tx, orgId, userId);
        });
      },
      setOrganizationEmailSender: async (_: unknown, { from }: { from?: string | null }, ctx: RequestContext) => {
        const orgId = ctx.principal.orgId!;
        const value = from == null || from.trim() === '' ? null : from.trim();
        if (value !== null && (value.length > 320 || !/^[^<>\r\n]*<?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(value))) {
          throw badInput('from', 'a sender like "Acme Ops <ops@acme.example>" or ops@acme.example', 'INVALID_SENDER');
        }
        await asTenant(pool, ctx, async (tx) => {
          await setOrgSender(tx, orgId, value);
          await recordAudit(tx, service, ctx.principal, { action: 'notification_sender.update', targetType: 'Organization', targetId: orgId, diff: { after: { from: value } } });
        });
        return value;
      },
      unsubscribeFromEmail: async (_: unknown, { token }: { token: string }) => {
        const who = unsubscriber.verify(token);
        if (!who) throw badInput('token', 'this unsubscribe link is not valid', 'INVALID_TOKEN');
        await withTenantTransaction(pool, NOTIFICATIONS_TENANT_ROLE, who, (tx) => upsertUserEmailMode(tx, who.orgId, who.userId, 'off'));
        return true;
      },
      updateOrganizationNotificationSettings: (_: unknown, { settings }: { settings: Array<{ type: string; inApp: boolean; email: boolean; required: boolean }> }, ctx: RequestContext) => {
        const types = eventTypesOf('settings', settings);
        const orgId = ctx.principal.orgId!;
        return asTenant(pool, ctx, async (tx) => {
          await upsertOrgEventSettings(tx, orgId, settings.map((s, i) => ({ eventType: types[i]!, inApp: s.inApp, email: s.email, required: s.required })));
          await recordAudit(tx, service, ctx.principal, { action: 'notification_settings.update', targetType: 'Organization', targetId: orgId, diff: { after: settings } });
          return orgSettingsOf(tx, orgId);
        });
      },
    },
  };
}
