-- TOTP two-factor sign-in (issue 13). A user's rows, not an organization's: row-level security on and
-- no tenant policy, like user_passwords; tenants reach them only through the narrow definer functions
-- below.

-- One authenticator per user. `enabled_at` is null while enrolment waits for its confirmation code.
CREATE TABLE user_two_factor (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- Base32 TOTP secret (160 bits).
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  enabled_at timestamptz,
  -- The time step of the last accepted code: a code is accepted once (replay protection).
  last_time_step bigint
);
ALTER TABLE user_two_factor ENABLE ROW LEVEL SECURITY;

-- Ten single-use recovery codes per confirmed enrolment; only a SHA-256 of each is stored.
CREATE TABLE two_factor_recovery_codes (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at timestamptz
);
CREATE INDEX two_factor_recovery_codes_user_idx ON two_factor_recovery_codes (user_id);
ALTER TABLE two_factor_recovery_codes ENABLE ROW LEVEL SECURITY;

-- A password accepted for an account with two-factor: the short-lived token the client trades, with a
-- code, for a session. Attempts are counted; past the limit the challenge is closed.
CREATE TABLE two_factor_challenges (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  used_at timestamptz,
  ip text
);
CREATE INDEX two_factor_challenges_user_idx ON two_factor_challenges (user_id);
ALTER TABLE two_factor_challenges ENABLE ROW LEVEL SECURITY;

-- An organization may require its members to sign in with a second factor.
ALTER TABLE organizations ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;

-- An admin resets a member's second factor from a tenant transaction: only for a member of the current
-- organization, and nothing else. Resolves to true when there was one.
CREATE FUNCTION reset_member_two_factor(p_user_id uuid) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  DECLARE found_one boolean;
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = p_user_id AND m.org_id = current_org_id()) THEN
      RETURN false;
    END IF;
    DELETE FROM user_two_factor WHERE user_id = p_user_id RETURNING enabled_at IS NOT NULL INTO found_one;
    DELETE FROM two_factor_recovery_codes WHERE user_id = p_user_id;
    DELETE FROM two_factor_challenges WHERE user_id = p_user_id;
    RETURN coalesce(found_one, false);
  END
  $$;
