-- Password reset by e-mail (issue 13): a single-use, short-lived token per request; only a SHA-256 of
-- its secret is stored. A user's rows, not an organization's: row-level security on and no tenant
-- policy, so only identity's own system transactions read or write them.
CREATE TABLE password_resets (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- Set when the token sets a password, or when a newer request or a reset replaces it.
  used_at timestamptz,
  ip text
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id) WHERE used_at IS NULL;
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
