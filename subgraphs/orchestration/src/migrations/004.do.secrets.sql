-- Organization secrets (issue 8): named values a step reads as {{ secrets.NAME }}, resolved only at
-- dispatch. Envelope encryption (src/secrets/keyring.ts): `ciphertext` is the value under a data key
-- of its own, `wrapped_key` that data key under the key-encryption key `key_id` from SECRETS_KEYS.
-- No column holds a value in clear, and no API returns one.
CREATE TABLE secrets (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,99}$'),
  -- 1 at creation, +1 per rotation.
  version integer NOT NULL DEFAULT 1 CHECK (version > 0),
  key_id text NOT NULL,
  wrapped_key bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- When a dispatch last resolved it (updated at most once a minute).
  last_used_at timestamptz,
  CONSTRAINT secrets_name_unique UNIQUE (org_id, name)
);
-- Re-wrapping after a key rotation looks for rows of older keys.
CREATE INDEX secrets_key_id ON secrets (key_id);

ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY secrets_tenant ON secrets USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
