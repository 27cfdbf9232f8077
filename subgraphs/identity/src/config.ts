import { z } from 'zod';
import { encryptionKeyringEnv, env, mailEnv, secretKeyringEnv, subgraphEnv } from '@orchestra/lib';

const DAY = 24 * 3600;

/** The identity process's environment (one schema, parsed once in main.ts). */
export const identityConfigSchema = z.object({
  ...subgraphEnv('identity', 4101, 50051),
  ...mailEnv,
  /** Where the web app is served: links in mails point there. */
  APP_URL: env.url(['http', 'https'], 'http://127.0.0.1:4000').transform((v) => v.replace(/\/+$/, '')),
  /** A password reset link works once, for this long. */
  PASSWORD_RESET_TTL_SECONDS: env.int(1800, { min: 60, max: DAY }),
  /** Password reset requests per client IP, and mails per address, per hour. */
  PASSWORD_RESETS_PER_IP: env.int(20, { min: 1 }),
  PASSWORD_RESET_MAILS_PER_ACCOUNT: env.int(3, { min: 1 }),

  /** An e-mail verification link works once, for this long. */
  EMAIL_VERIFICATION_TTL_SECONDS: env.int(DAY, { min: 300, max: 7 * DAY }),
  /** Verification mails (sign-up, resend, e-mail change) per account per hour. */
  VERIFICATION_MAILS_PER_ACCOUNT: env.int(3, { min: 1 }),
  /** A sign-up never verified for this long no longer holds its address: a new sign-up with it takes it. */
  UNVERIFIED_ACCOUNT_HOLD_SECONDS: env.int(DAY, { min: 60, max: 30 * DAY }),

  /** After the password, the code from the authenticator app is asked for within this long... */
  TWO_FACTOR_CHALLENGE_TTL_SECONDS: env.int(300, { min: 30, max: 3600 }),
  /** ...and at most this many times. */
  TWO_FACTOR_MAX_ATTEMPTS: env.int(5, { min: 1, max: 20 }),
  /**
   * Keys that encrypt TOTP secrets at rest (AES-256-GCM): `id:base64-of-32-bytes` pairs, comma-separated,
   * the first seals, the others only open (rotation: auth/two-factor-secrets.ts). Required when
   * NODE_ENV=production; elsewhere a fixed development key stands in, with a warning.
   */
  TWO_FACTOR_KEYS: encryptionKeyringEnv,

  /**
   * Key-encryption keys that seal SSO client secrets (the same variable and format as orchestration's:
   * `id:base64-of-32-bytes`, comma-separated, the active one first). Unset: SSO cannot be configured.
   */
  SECRETS_KEYS: secretKeyringEnv,
  /** A single sign-on started at the identity provider must come back within this long (and only once). */
  SSO_SIGN_IN_TTL_SECONDS: env.int(600, { min: 60, max: 3600 }),
  /** Single sign-ons started per client IP per hour. */
  SSO_SIGN_INS_PER_IP: env.int(100, { min: 1 }),
  /** Timeout of each request to an identity provider (discovery, token, JWKS). */
  SSO_HTTP_TIMEOUT_SECONDS: env.int(10, { min: 1, max: 60 }),
  /** How long an issuer's discovery document is kept between sign-ins (0: read on every sign-in). Its key set is refreshed by age and on an unknown key id. */
  SSO_DISCOVERY_CACHE_SECONDS: env.int(3600, { min: 0, max: 86_400 }),
  /** Lets SSO issuers be plain http and on private or loopback addresses: development and tests only. */
  SSO_ALLOW_INSECURE_ISSUERS: env.bool(false),

  /** Lifetime of access tokens (JWT). Short: revocation before expiry relies on Redis. */
  ACCESS_TOKEN_TTL_SECONDS: env.int(900, { min: 30, max: DAY }),
  /** Lifetime of each refresh token; every use rotates it and starts a new lifetime. */
  REFRESH_TOKEN_TTL_SECONDS: env.int(30 * DAY, { min: 60, max: 365 * DAY }),
  /**
   * Reuse grace: for this long after a refresh token is traded, presenting it again answers the same
   * successor (while that one is the family's live token) instead of ending the session as reuse — a page
   * reloaded, or a request retried, while its refresh was in flight. Older tokens, or this one later, are
   * reuse as ever. 0: strict, every second use ends the session. A few seconds, like Auth0's reuse interval
   * or Okta's grace period; at most 60 (Cognito's bound), so a stolen token is useless once it is that old.
   */
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: env.int(10, { min: 0, max: 60 }),

  /** Algorithm of new signing keys (existing keys keep theirs). */
  SIGNING_KEY_ALGORITHM: env.oneOf(['EdDSA', 'ES256'] as const, 'EdDSA'),
  /** A signing key older than this is replaced automatically; 0 turns automatic rotation off. */
  SIGNING_KEY_ROTATE_AFTER_SECONDS: env.int(30 * DAY, { min: 0 }),
  /**
   * An automatically rotated key is published in the JWKS this long before it signs, so verifiers
   * that cached the JWKS know it before the first token carrying its kid arrives.
   */
  SIGNING_KEY_PUBLISH_AHEAD_SECONDS: env.int(120, { min: 0, max: DAY }),
  /** How often the service checks key age and prunes expired sessions and tokens. */
  MAINTENANCE_INTERVAL_SECONDS: env.int(300, { min: 1, max: DAY }),

  /** Failed sign-ins to one account from one client (IP) before each further attempt waits 1 s, 2 s, 4 s, … */
  LOGIN_FREE_FAILURES_PER_CLIENT: env.int(3, { min: 1 }),
  /** The longest such wait. */
  LOGIN_MAX_DELAY_SECONDS: env.int(900, { min: 1, max: DAY }),
  /** Failed sign-ins per client IP across accounts within the window. */
  LOGIN_MAX_FAILURES_PER_IP: env.int(100, { min: 1 }),
  /** Failed sign-ins per account across clients within the window; past it, only clients that signed in to it before may try. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: env.int(50, { min: 1 }),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int(900, { min: 1, max: DAY }),

  /** Sign-ups and organizations created per client IP within CREATION_WINDOW_SECONDS (issue 9, item 13). */
  SIGN_UPS_PER_IP: env.int(10, { min: 1 }),
  ORGANIZATIONS_PER_IP: env.int(20, { min: 1 }),
  CREATION_WINDOW_SECONDS: env.int(3600, { min: 1, max: 7 * DAY }),

  PASSWORD_MIN_LENGTH: env.int(10, { min: 8, max: 128 }),
  /** argon2id cost; the defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane). */
  PASSWORD_HASH_MEMORY_KIB: env.int(19_456, { min: 1024, max: 1024 * 1024 }),
  PASSWORD_HASH_ITERATIONS: env.int(2, { min: 1, max: 20 }),
  PASSWORD_HASH_PARALLELISM: env.int(1, { min: 1, max: 16 }),

  INVITATION_TTL_SECONDS: env.int(7 * DAY, { min: 60, max: 90 * DAY }),
  /** Invitations (each mails its invitee) per organization per hour. */
  INVITATIONS_PER_ORGANIZATION: env.int(100, { min: 1 }),

  /** last_used_at of an API key is written at most this often per key. */
  API_KEY_LAST_USED_INTERVAL_SECONDS: env.int(60, { min: 0, max: DAY }),
  /** The "API key used" audit event is recorded at most this often per key. */
  API_KEY_USE_AUDIT_INTERVAL_SECONDS: env.int(600, { min: 0, max: 7 * DAY }),
  /** How long the gateway may cache an API key check (revocations are also pushed at once). */
  API_KEY_CACHE_TTL_SECONDS: env.int(30, { min: 0, max: 3600 }),

  /** The first admin, created at start when there are no users. Unset password: one is generated and logged once. */
  ADMIN_EMAIL: env.string('admin@orchestra.local'),
  ADMIN_PASSWORD: z.string().min(1, { error: 'expects a non-empty value' }).optional(),
  ADMIN_NAME: env.string('Admin'),
  ADMIN_ORG_NAME: env.string('Orchestra'),
});

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
