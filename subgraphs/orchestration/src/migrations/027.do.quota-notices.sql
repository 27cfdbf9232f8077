-- Quota notices (issue 13): when a quota refuses a start of runs (QUOTA_EXCEEDED), the organization's
-- admins are told once per quota per notice window, not once per refused call. One row per
-- organization and quota holds when it was last announced; the refusing transaction claims it with an
-- upsert that only succeeds once the window has passed, and writes quota.exceeded to the notification
-- outbox only then.
CREATE TABLE quota_notices (
  org_id uuid NOT NULL,
  quota text NOT NULL CHECK (length(quota) BETWEEN 1 AND 100),
  notified_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, quota)
);
ALTER TABLE quota_notices ENABLE ROW LEVEL SECURITY;
CREATE POLICY quota_notices_tenant ON quota_notices USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
