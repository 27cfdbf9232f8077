-- TOTP secrets encrypted at rest (issue 13) with a key from the environment (TWO_FACTOR_KEYS): the
-- database holds AES-256-GCM ciphertext bound to the user and the key id, never the secret.
-- Rows enrolled before this migration still hold the plaintext in `secret`: the service seals them at
-- start (auth/two-factor-secrets.ts, sealTotpSecretsAtRest) and sets `secret` to null in the same
-- statement. The column is kept, nullable, only for that backfill; new rows never write it.
ALTER TABLE user_two_factor
  ALTER COLUMN secret DROP NOT NULL,
  ADD COLUMN secret_sealed bytea,
  ADD COLUMN secret_key_id text,
  ADD CONSTRAINT user_two_factor_secret_stored CHECK (
    (secret_sealed IS NOT NULL AND secret_key_id IS NOT NULL AND secret IS NULL)
    OR (secret_sealed IS NULL AND secret_key_id IS NULL AND secret IS NOT NULL)
  );

COMMENT ON COLUMN user_two_factor.secret IS 'Legacy plaintext (before migration 006); sealed into secret_sealed at service start, then null.';
COMMENT ON COLUMN user_two_factor.secret_sealed IS 'AES-256-GCM (iv | tag | ciphertext) of the base32 secret, AAD orchestra/totp/v1/<user id>/<key id>.';
