-- E-mail verification (issue 9 item 3, issue 13): an address is verified when its owner follows a
-- single-use, short-lived link mailed to it (only a SHA-256 of the link's secret is stored), or sets a
-- password with a reset link mailed to it. Accounts that existed before this migration predate
-- verification and are taken as verified (their operators created or invited them).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;

-- One row per mail sent: on sign-up (email = the account's address) or on an e-mail change (email =
-- the new address, which becomes the account's only when verified). A user's rows, not an
-- organization's: row-level security on and no tenant policy, like password_resets.
CREATE TABLE email_verifications (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email)),
  purpose text NOT NULL CHECK (purpose IN ('sign_up', 'change')),
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- Set when the link is followed, or when a newer mail replaces it.
  used_at timestamptz
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id) WHERE used_at IS NULL;
ALTER TABLE email_verifications ENABLE ROW LEVEL SECURITY;
