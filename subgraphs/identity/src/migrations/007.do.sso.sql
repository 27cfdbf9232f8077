-- OpenID Connect single sign-on (issue 13): one connection per organization, the e-mail domains it
-- claims, the sign-ins under way (state, PKCE verifier, nonce) and the provider identities linked to
-- users.

-- An organization's connection to its identity provider. The client secret is envelope-encrypted with
-- SECRETS_KEYS (lib secret-keyring.ts), bound to the organization and the connection id.
CREATE TABLE sso_connections (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- What people type on the sign-in page to find the connection ("acme"); unique across Orchestra.
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'),
  issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
  client_id text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
  secret_key_id text NOT NULL,
  secret_wrapped_key bytea NOT NULL,
  secret_ciphertext bytea NOT NULL,
  -- The role of members provisioned just in time (never owner).
  default_role text NOT NULL CHECK (default_role IN ('admin', 'operator', 'viewer')),
  -- Members sign in through the provider only (owners keep their password: the break-glass way in).
  require_sso boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sso_connections_org_key UNIQUE (org_id)
);
CREATE UNIQUE INDEX sso_connections_slug_key ON sso_connections (slug);

-- The e-mail domains a connection signs in. A domain belongs to one organization at most.
CREATE TABLE sso_domains (
  domain text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) BETWEEN 3 AND 253),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  connection_id uuid NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_connection_idx ON sso_domains (connection_id);

-- A sign-in sent to the provider and not back yet: single use, short-lived. Only hashes of the state
-- and of the browser binding are kept.
CREATE TABLE sso_sign_ins (
  id uuid PRIMARY KEY,
  connection_id uuid NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  state_hash text NOT NULL,
  binding_hash text NOT NULL,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  redirect_uri text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  ip text
);
CREATE UNIQUE INDEX sso_sign_ins_state_key ON sso_sign_ins (state_hash);
CREATE INDEX sso_sign_ins_expires_idx ON sso_sign_ins (expires_at);

-- A provider account (issuer's `sub`) linked to an Orchestra user.
CREATE TABLE sso_identities (
  connection_id uuid NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- Tenants (admins) read and change their own organization's connection and domains; sign-in work runs
-- in system transactions, before any organization is known.
ALTER TABLE sso_connections ENABLE ROW LEVEL SECURITY;
CREATE POLICY sso_connections_tenant ON sso_connections
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE sso_domains ENABLE ROW LEVEL SECURITY;
CREATE POLICY sso_domains_tenant ON sso_domains
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE sso_identities ENABLE ROW LEVEL SECURITY;
CREATE POLICY sso_identities_tenant ON sso_identities
  USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
-- No policy: closed to tenant transactions entirely.
ALTER TABLE sso_sign_ins ENABLE ROW LEVEL SECURITY;

-- Whether a domain is free for the current organization (unclaimed, or claimed by itself), without
-- letting a tenant read which organization holds it.
CREATE FUNCTION sso_domains_taken(p_domains text[]) RETURNS text[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT coalesce(array_agg(domain ORDER BY domain), '{}') FROM sso_domains
     WHERE domain = ANY(p_domains) AND org_id IS DISTINCT FROM current_org_id()
  $$;

-- Slugs likewise.
CREATE FUNCTION sso_slug_taken(p_slug text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (SELECT 1 FROM sso_connections WHERE slug = p_slug AND org_id IS DISTINCT FROM current_org_id())
  $$;
