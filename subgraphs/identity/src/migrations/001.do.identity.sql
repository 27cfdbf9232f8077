-- identity: organizations, users, memberships, invitations, sessions with rotating refresh tokens,
-- JWT signing keys and API keys.
--
-- Row-level security: tenant transactions (role orchestra_identity_tenant, app.org_id and app.user_id
-- set from the principal) see only their organization's rows. Sign-up, login, refresh and API key
-- checks run as system transactions, before any organization is known.

CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  -- Stored lower-case and trimmed: one account per address whatever the caller's casing.
  email text NOT NULL CHECK (email = lower(email)),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Raised by logout-everywhere, role changes and removals; access tokens carry it as `tv`.
  token_version integer NOT NULL DEFAULT 0,
  -- Login without an organization goes back to this one.
  last_org_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Password hashes live apart from users so that no tenant transaction can ever read one: the table
-- has row-level security and no policy.
CREATE TABLE user_passwords (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  password_hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT memberships_org_user_key UNIQUE (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email)),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
  -- SHA-256 of the secret part of the token; the token itself is shown once and never stored.
  token_hash text NOT NULL,
  invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
  revoked_at timestamptz
);
-- One open invitation per address and organization (inviting again replaces it).
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (org_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- A session is one refresh-token family: everything issued from one sign-in.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The organization its tokens act in (switchOrganization may move it).
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text,
  ip text,
  user_agent text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  -- SHA-256 of the secret part; the token is random and long, so a slow hash adds nothing.
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- Set when it is traded for a new one; a second use is reuse and ends the session.
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL CHECK (algorithm IN ('EdDSA', 'ES256')),
  public_jwk jsonb NOT NULL,
  private_key_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- It signs from activates_at until its successor activates (retires_at), and stays in the JWKS
  -- until the tokens it signed have expired.
  activates_at timestamptz NOT NULL,
  retires_at timestamptz
);

CREATE TABLE api_keys (
  -- The 12-character id inside the key (orc_<id>_<secret>): it finds the row without the secret.
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9]{12}$'),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scopes text[] NOT NULL,
  secret_hash text NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid REFERENCES users (id) ON DELETE SET NULL,
  last_used_at timestamptz,
  last_used_ip text,
  last_use_audited_at timestamptz
);
CREATE INDEX api_keys_org_created_idx ON api_keys (org_id, created_at DESC, id DESC);

-- Row-level security ----------------------------------------------------------------------------

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
-- A tenant sees its organization's memberships, and a user also their own elsewhere (the org switcher).
CREATE POLICY memberships_read ON memberships FOR SELECT
  USING (org_id = current_org_id() OR user_id = current_app_user_id());
CREATE POLICY memberships_insert ON memberships FOR INSERT WITH CHECK (org_id = current_org_id());
CREATE POLICY memberships_update ON memberships FOR UPDATE
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY memberships_delete ON memberships FOR DELETE USING (org_id = current_org_id());

-- The organization row is the tenant itself: its id is the org id the policies compare with.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY organizations_read ON organizations FOR SELECT
  USING (id = current_org_id() OR id IN (SELECT m.org_id FROM memberships m WHERE m.user_id = current_app_user_id()));
CREATE POLICY organizations_update ON organizations FOR UPDATE
  USING (id = current_org_id()) WITH CHECK (id = current_org_id());

-- Users are global, but a tenant reads only the members of its organization (and the caller).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON users FOR SELECT
  USING (id = current_app_user_id() OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = current_org_id()));
CREATE POLICY users_update_self ON users FOR UPDATE
  USING (id = current_app_user_id()) WITH CHECK (id = current_app_user_id());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY invitations_tenant ON invitations
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- Sessions belong to a user, not an organization: a user may end their own.
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions
  USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id());

-- No policy: closed to tenant transactions entirely.
ALTER TABLE user_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE signing_keys ENABLE ROW LEVEL SECURITY;

-- A role change or removal must also end the member's access tokens, but a tenant may update only
-- its own users row. This narrow definer function raises the token version of a member of the
-- current organization, and nothing else.
CREATE FUNCTION bump_member_token_version(p_user_id uuid) RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE users SET token_version = token_version + 1, updated_at = now()
     WHERE id = p_user_id
       AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = p_user_id AND m.org_id = current_org_id())
    RETURNING token_version
  $$;

-- Adding an existing user by email needs the id behind an address that is not (yet) a member.
CREATE FUNCTION user_id_by_email(p_email text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT id FROM users WHERE email = lower(p_email)
  $$;
