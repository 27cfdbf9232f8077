import { z } from 'zod';
import type { Queryable } from './db';
import { newId } from './ids';
import type { Role } from './principal';

const id = z.string().min(1).max(100);
const text = (max: number) => z.string().max(max);

/** What a notification about an event says: a title, one paragraph, and where in the app to look. */
export interface NotificationSummary {
  title: string;
  body: string;
  /** A path in the admin app, e.g. `/runs/<id>`. */
  link?: string;
}

interface EventSpec<S extends z.ZodObject> {
  /** For people choosing preferences. */
  label: string;
  /** Who hears about it: members with at least this role. */
  audience: Role;
  /** Off unless a user or the organization turns it on (a run succeeding is rarely news). */
  optIn: boolean;
  data: S;
  summary(data: z.infer<S>): NotificationSummary;
  /** Narrows the audience by what the event says (default: every member of the audience hears about it). */
  mayReceive?(data: z.infer<S>, role: Role): boolean;
}

const spec = <S extends z.ZodObject>(s: EventSpec<S>): EventSpec<S> => s;

/** Who may decide an approval that names no roles. A viewer never may. */
export const APPROVAL_DECIDER_ROLES = ['operator', 'admin', 'owner'] as const;

/** Whether a member with `role` may decide an approval that names `roles` (an owner always may, a viewer never). */
export const mayDecideApproval = (roles: readonly string[], role: string | undefined): boolean => role === 'owner' || (role !== undefined && role !== 'viewer' && roles.includes(role));

const quote = (s: string | undefined, fallback: string): string => (s === undefined || s === '' ? fallback : `"${s}"`);

/**
 * Every event the notifications service reacts to, and what it says. Adding an event is one entry
 * here plus one `recordNotification` call where it happens (in the transaction that makes it true).
 */
export const NOTIFICATION_EVENTS = {
  'run.failed': spec({
    label: 'A run failed',
    audience: 'operator',
    optIn: false,
    data: z.object({ runId: id, workflowId: id.optional(), workflowName: text(200).optional(), error: text(2000).optional(), startedBy: id.optional() }),
    summary: (d) => ({
      title: `Run of ${quote(d.workflowName, 'a workflow')} failed`,
      body: `Run ${d.runId} failed${d.error ? `: ${d.error}` : '.'}`,
      link: `/runs/${d.runId}`,
    }),
  }),
  'run.succeeded': spec({
    label: 'A run succeeded',
    audience: 'operator',
    optIn: true,
    data: z.object({ runId: id, workflowId: id.optional(), workflowName: text(200).optional(), startedBy: id.optional() }),
    summary: (d) => ({ title: `Run of ${quote(d.workflowName, 'a workflow')} succeeded`, body: `Run ${d.runId} succeeded.`, link: `/runs/${d.runId}` }),
  }),
  'task.dead_lettered': spec({
    label: 'A task was dead-lettered',
    audience: 'operator',
    optIn: false,
    data: z.object({ runId: id, taskId: id, stepId: text(200).optional(), error: text(2000).optional() }),
    summary: (d) => ({
      title: `Task ${quote(d.stepId, d.taskId)} was dead-lettered`,
      body: `Task ${d.taskId} of run ${d.runId} exhausted its retries${d.error ? `: ${d.error}` : '.'}`,
      link: `/runs/${d.runId}`,
    }),
  }),
  'approval.waiting': spec({
    label: 'An approval is waiting',
    audience: 'operator',
    optIn: false,
    data: z.object({
      runId: id,
      taskId: id,
      stepId: text(200).optional(),
      workflowId: id.optional(),
      workflowName: text(200).optional(),
      message: text(2000).optional(),
      roles: z.array(text(20)).max(5).optional(),
    }),
    summary: (d) => ({
      title: `Approval waiting: step ${quote(d.stepId, d.taskId)}`,
      body: `${d.message ? `${d.message} — ` : ''}step ${quote(d.stepId, d.taskId)} of run ${d.runId} waits for approval${d.roles?.length ? ` by ${d.roles.join(', ')}` : ''}.`,
      link: '/approvals',
    }),
    // Only members who may decide it (its roles; an owner always) are asked.
    mayReceive: (d, role) => mayDecideApproval(d.roles ?? APPROVAL_DECIDER_ROLES, role),
  }),
  'member.invited': spec({
    label: 'A member was invited',
    audience: 'admin',
    optIn: false,
    data: z.object({ invitationId: id, email: text(320), role: text(20), invitedBy: text(320).optional() }),
    summary: (d) => ({ title: `${d.email} was invited`, body: `${d.email} was invited as ${d.role}${d.invitedBy ? ` by ${d.invitedBy}` : ''}.`, link: '/members' }),
  }),
  'member.joined': spec({
    label: 'A member joined',
    audience: 'admin',
    optIn: false,
    data: z.object({ userId: id, email: text(320), role: text(20) }),
    summary: (d) => ({ title: `${d.email} joined`, body: `${d.email} joined the organization as ${d.role}.`, link: '/members' }),
  }),
  'api_key.created': spec({
    label: 'An API key was created',
    audience: 'admin',
    optIn: false,
    data: z.object({ apiKeyId: id, name: text(200), scopes: z.array(text(100)).max(50), createdBy: text(320).optional() }),
    summary: (d) => ({ title: `API key "${d.name}" was created`, body: `API key "${d.name}" (${d.scopes.join(', ') || 'no scopes'}) was created${d.createdBy ? ` by ${d.createdBy}` : ''}.`, link: '/api-keys' }),
  }),
  'app.health_changed': spec({
    label: "An app's health changed (down or up)",
    audience: 'operator',
    optIn: false,
    data: z.object({
      appId: id,
      appName: text(200).optional(),
      status: z.enum(['up', 'down']),
      previousStatus: z.enum(['up', 'down']),
      httpStatus: z.number().int().min(0).max(999).nullable().optional(),
      error: text(500).optional(),
      /** Status changes since the previous notice, this one included (more than 1: it flapped while notices were held). */
      changes: z.number().int().min(1).max(1_000_000).optional(),
    }),
    summary: (d) => {
      const app = `App ${quote(d.appName, d.appId)}`;
      const changes = d.changes ?? 1;
      const flapped = changes > 1 ? ` Its status changed ${changes} times since the last notice.` : '';
      return d.status === 'down'
        ? {
            title: `${app} is down`,
            body: `${app} stopped passing its health check${d.error ? ` (${d.error})` : d.httpStatus ? ` (HTTP ${d.httpStatus})` : ''}.${flapped}`,
            link: `/apps/${d.appId}`,
          }
        : { title: `${app} is up again`, body: `${app} passes its health check again${d.httpStatus ? ` (HTTP ${d.httpStatus})` : ''}.${flapped}`, link: `/apps/${d.appId}` };
    },
  }),
  'quota.exceeded': spec({
    label: 'A quota refused to start runs',
    audience: 'admin',
    optIn: false,
    data: z.object({
      quota: text(100),
      limit: z.number().int().min(0),
      used: z.number().int().min(0),
      /** Why it refused, as the refused caller was told. */
      message: text(1000).optional(),
      /** Further refusals of this quota are not announced again for this long. */
      quietMinutes: z.number().int().min(0).max(100_000).optional(),
    }),
    summary: (d) => ({
      title: `Quota ${d.quota} reached: runs are being refused`,
      body: `${d.message ?? `The organization reached its ${d.quota} quota (${d.used} of ${d.limit}).`} Starts of runs past it are refused with QUOTA_EXCEEDED${
        d.quietMinutes ? `; further refusals in the next ${d.quietMinutes} minutes are not announced again` : ''
      }.`,
      link: '/rate-limits',
    }),
  }),
  'webhook.endpoint_disabled': spec({
    label: 'A webhook endpoint was disabled',
    audience: 'admin',
    optIn: false,
    data: z.object({ endpointId: id, url: text(2048), failures: z.number().int(), lastError: text(1000).optional() }),
    summary: (d) => ({
      title: 'A webhook endpoint was disabled',
      body: `Deliveries to ${d.url} failed ${d.failures} times in a row${d.lastError ? ` (last: ${d.lastError})` : ''}; the endpoint is disabled until an admin enables it again.`,
      link: '/webhooks',
    }),
  }),
} as const;

export type NotificationEventType = keyof typeof NOTIFICATION_EVENTS;
export type NotificationEventData<T extends NotificationEventType> = z.infer<(typeof NOTIFICATION_EVENTS)[T]['data']>;

export const NOTIFICATION_EVENT_TYPES = Object.keys(NOTIFICATION_EVENTS) as NotificationEventType[];

export const isNotificationEventType = (value: string): value is NotificationEventType => Object.hasOwn(NOTIFICATION_EVENTS, value);

/** The event as it sits in the outbox and travels to NotificationService.Publish. */
export interface OutboxNotificationEvent {
  eventId: string;
  orgId: string;
  type: string;
  occurredAt: string;
  service: string;
  data: Record<string, unknown>;
}

export interface NotificationEventInput<T extends NotificationEventType> {
  type: T;
  orgId: string;
  data: NotificationEventData<T>;
  /** Defaults to a new UUIDv7; give one to make the event idempotent across retries of the producer. */
  eventId?: string;
}

export function buildNotificationEvent<T extends NotificationEventType>(service: string, input: NotificationEventInput<T>): OutboxNotificationEvent {
  return {
    eventId: input.eventId ?? newId(),
    orgId: input.orgId,
    type: input.type,
    occurredAt: new Date().toISOString(),
    service,
    data: NOTIFICATION_EVENTS[input.type].data.parse(input.data),
  };
}

/**
 * Writes an event to the service's notification outbox. Call it with the transaction's client, so
 * the event exists exactly when the change does; the relay delivers it to the notifications service.
 */
export async function recordNotification<T extends NotificationEventType>(db: Queryable, service: string, input: NotificationEventInput<T>): Promise<OutboxNotificationEvent> {
  const event = buildNotificationEvent(service, input);
  await db.query('INSERT INTO notification_outbox (id, org_id, event) VALUES ($1, $2, $3)', [event.eventId, event.orgId, JSON.stringify(event)]);
  return event;
}

/** Writes several events to the notification outbox in one statement (a transaction that finished several runs). */
export async function recordNotifications(db: Queryable, service: string, inputs: ReadonlyArray<NotificationEventInput<NotificationEventType>>): Promise<OutboxNotificationEvent[]> {
  if (inputs.length === 0) return [];
  const events = inputs.map((input) => buildNotificationEvent(service, input));
  await db.query('INSERT INTO notification_outbox (id, org_id, event) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[])', [
    events.map((e) => e.eventId),
    events.map((e) => e.orgId),
    events.map((e) => JSON.stringify(e)),
  ]);
  return events;
}

/** An in-app notification as it travels live (notifications service → Redis → gateway subscription). */
export interface LiveNotification {
  id: string;
  orgId: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: string;
  readAt: string | null;
}

/** The Redis pub/sub channel of an organization's new in-app notifications (each names its user). */
export const orgNotificationChannel = (prefix: string, orgId: string): string => `${prefix}:org:${orgId}:notifications`;
