-- E-mail: every mail is a row before it is sent (a durable queue any replica's sender drains), digest
-- items wait here until their window closes, and each organization may set its own sender.

CREATE TABLE email_outbox (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  to_address text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('event', 'digest')),
  event_id uuid,
  subject text NOT NULL,
  text_body text NOT NULL,
  html_body text NOT NULL,
  unsubscribe_url text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX email_outbox_event_once ON email_outbox (event_id, user_id) WHERE kind = 'event';
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE digest_items (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  to_address text NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  link text,
  created_at timestamptz NOT NULL DEFAULT now(),
  digested_at timestamptz,
  UNIQUE (event_id, user_id)
);
CREATE INDEX digest_items_open ON digest_items (org_id, user_id, created_at) WHERE digested_at IS NULL;

CREATE TABLE org_mail_settings (
  org_id uuid PRIMARY KEY,
  from_address text NOT NULL CHECK (length(from_address) <= 320),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY email_outbox_own ON email_outbox USING (org_id = current_org_id() AND user_id = current_app_user_id());
ALTER TABLE digest_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY digest_items_own ON digest_items USING (org_id = current_org_id() AND user_id = current_app_user_id());
ALTER TABLE org_mail_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_mail_settings_org ON org_mail_settings USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
