-- The notifications service's own tables. Every table carries org_id and is under row-level security:
-- tenant transactions see their organization's rows only (per user where the row is a user's).

-- Every event the relays delivered, once (the event id is the producer's): Publish inserts, the
-- fan-out claims unprocessed rows (FOR UPDATE SKIP LOCKED, so replicas share the work) and writes the
-- notifications, e-mails and webhook deliveries of an event in one transaction with processed_at.
CREATE TABLE notification_events (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  service text NOT NULL,
  data jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text
);
CREATE INDEX notification_events_pending ON notification_events (next_attempt_at) WHERE processed_at IS NULL;
CREATE INDEX notification_events_org ON notification_events (org_id, received_at);

-- In-app notifications, one per user per event.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  event_id uuid NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
  type text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  link text,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user ON notifications (org_id, user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (org_id, user_id) WHERE read_at IS NULL;

-- The organization's defaults per event (channels) and which ones members may not turn off.
CREATE TABLE org_event_settings (
  org_id uuid NOT NULL,
  event_type text NOT NULL,
  in_app boolean NOT NULL,
  email boolean NOT NULL,
  required boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, event_type)
);

-- A user's choices per event; absent: the organization's default, else the registry's.
CREATE TABLE user_event_preferences (
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  event_type text NOT NULL,
  in_app boolean NOT NULL,
  email boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id, event_type)
);

-- A user's e-mail settings in an organization: each event or digests, and the unsubscribe token
-- (the unsubscribe link works without signing in, so it is a long random secret, stored hashed).
CREATE TABLE user_email_settings (
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  email_mode text NOT NULL DEFAULT 'each' CHECK (email_mode IN ('each', 'digest', 'off')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);

ALTER TABLE notification_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_events_org ON notification_events FOR SELECT USING (org_id = current_org_id());
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY notifications_own ON notifications USING (org_id = current_org_id() AND user_id = current_app_user_id())
  WITH CHECK (org_id = current_org_id() AND user_id = current_app_user_id());
ALTER TABLE org_event_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_event_settings_org ON org_event_settings USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE user_event_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_event_preferences_own ON user_event_preferences USING (org_id = current_org_id() AND user_id = current_app_user_id())
  WITH CHECK (org_id = current_org_id() AND user_id = current_app_user_id());
ALTER TABLE user_email_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_email_settings_own ON user_email_settings USING (org_id = current_org_id() AND user_id = current_app_user_id())
  WITH CHECK (org_id = current_org_id() AND user_id = current_app_user_id());
