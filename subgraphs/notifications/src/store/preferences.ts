import type { Queryable } from '@orchestra/lib';

export type EmailMode = 'each' | 'digest' | 'off';

/** The organization's setting for one event: its default channels and whether members may opt out. */
export interface OrgEventSetting {
  eventType: string;
  inApp: boolean;
  email: boolean;
  required: boolean;
}

/** A user's own choice for one event. */
export interface UserEventPreference {
  userId: string;
  eventType: string;
  inApp: boolean;
  email: boolean;
}

export interface UserEmailSetting {
  userId: string;
  emailMode: EmailMode;
}

export async function orgEventSettings(db: Queryable, orgId: string, eventType?: string): Promise<OrgEventSetting[]> {
  const { rows } = await db.query<OrgEventSetting>(
    `SELECT event_type AS "eventType", in_app AS "inApp", email, required FROM org_event_settings
      WHERE org_id = $1 AND ($2::text IS NULL OR event_type = $2) ORDER BY event_type`,
    [orgId, eventType ?? null],
  );
  return rows;
}

export async function upsertOrgEventSettings(db: Queryable, orgId: string, settings: readonly OrgEventSetting[]): Promise<void> {
  if (settings.length === 0) return;
  await db.query(
    `INSERT INTO org_event_settings (org_id, event_type, in_app, email, required)
     SELECT $1, * FROM unnest($2::text[], $3::boolean[], $4::boolean[], $5::boolean[])
     ON CONFLICT (org_id, event_type) DO UPDATE SET in_app = excluded.in_app, email = excluded.email, required = excluded.required, updated_at = now()`,
    [orgId, settings.map((s) => s.eventType), settings.map((s) => s.inApp), settings.map((s) => s.email), settings.map((s) => s.required)],
  );
}

/** Users' choices for one event (or every event when `eventType` is undefined). */
export async function userEventPreferences(db: Queryable, orgId: string, userIds: readonly string[], eventType?: string): Promise<UserEventPreference[]> {
  const { rows } = await db.query<UserEventPreference>(
    `SELECT user_id AS "userId", event_type AS "eventType", in_app AS "inApp", email FROM user_event_preferences
      WHERE org_id = $1 AND user_id = ANY($2::uuid[]) AND ($3::text IS NULL OR event_type = $3) ORDER BY event_type`,
    [orgId, userIds, eventType ?? null],
  );
  return rows;
}

export async function upsertUserEventPreferences(db: Queryable, orgId: string, userId: string, prefs: ReadonlyArray<Omit<UserEventPreference, 'userId'>>): Promise<void> {
  if (prefs.length === 0) return;
  await db.query(
    `INSERT INTO user_event_preferences (org_id, user_id, event_type, in_app, email)
     SELECT $1, $2, * FROM unnest($3::text[], $4::boolean[], $5::boolean[])
     ON CONFLICT (org_id, user_id, event_type) DO UPDATE SET in_app = excluded.in_app, email = excluded.email, updated_at = now()`,
    [orgId, userId, prefs.map((p) => p.eventType), prefs.map((p) => p.inApp), prefs.map((p) => p.email)],
  );
}

export async function userEmailSettings(db: Queryable, orgId: string, userIds: readonly string[]): Promise<UserEmailSetting[]> {
  const { rows } = await db.query<UserEmailSetting>(
    `SELECT user_id AS "userId", email_mode AS "emailMode" FROM user_email_settings WHERE org_id = $1 AND user_id = ANY($2::uuid[])`,
    [orgId, userIds],
  );
  return rows;
}

export async function upsertUserEmailMode(db: Queryable, orgId: string, userId: string, emailMode: EmailMode): Promise<void> {
  await db.query(
    `INSERT INTO user_email_settings (org_id, user_id, email_mode) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, user_id) DO UPDATE SET email_mode = excluded.email_mode, updated_at = now()`,
    [orgId, userId, emailMode],
  );
}
