-- A session opened through an organization's single sign-on reaches that organization only (issue 13,
-- docs/decisions.md "Single sign-on for members of several organizations"): switching organization
-- from it is refused. Null for sessions opened with a password (and second factor), as before.
ALTER TABLE sessions ADD COLUMN sso_org_id uuid REFERENCES organizations (id) ON DELETE CASCADE;
CREATE INDEX sessions_sso_user_idx ON sessions (user_id) WHERE sso_org_id IS NOT NULL AND revoked_at IS NULL;
