import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, errors as joseErrors, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  accessTokenClaimsSchema,
  AppError,
  withSystemTransaction,
  type AccessTokenClaims,
  type Logger,
  type Pool,
} from '@orchestra/lib';
import {
  deleteExpiredSigningKeys,
  findNewestSigningKey,
  insertSigningKey,
  listPublishedSigningKeys,
  lockSigningKeys,
  retireSigningKeysAt,
  type SigningKeyRow,
} from '../store/signing-keys';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** Slack for clocks that disagree a little between identity and its verifiers. */
const CLOCK_SKEW_SECONDS = 60;
/** Other replicas may rotate: the cached ring is re-read at least this often. */
const RELOAD_AFTER_MS = 30_000;
/** An unknown kid triggers a re-read, but not more often than this (garbage tokens must not hammer the database). */
const UNKNOWN_KID_RELOAD_MS = 2_000;

export interface KeyRingOptions {
  pool: Pool;
  log: Logger;
  /** Algorithm of new keys. */
  algorithm: SigningAlgorithm;
  /** A retired key stays published this long plus clock skew: the longest an access token lives. */
  accessTokenTtlSeconds: number;
}

export interface SigningKeyInfo {
  kid: string;
  algorithm: SigningAlgorithm;
  createdAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
}

export type AccessTokenBody = Omit<AccessTokenClaims, 'iat' | 'exp'>;

export interface KeyRing {
  /** Signs access-token claims with the key that signs now; `kid` names it in the header. */
  sign(body: AccessTokenBody, ttlSeconds: number): Promise<{ token: string; expiresAt: Date; kid: string }>;
  /** The claims of a token one of our keys signed; UNAUTHENTICATED TOKEN_EXPIRED or TOKEN_INVALID otherwise. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The public keys verifiers need: signing, about to sign, and retired with live tokens. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Creates the first key when there is none. */
  ensureKey(): Promise<SigningKeyInfo>;
  /** A new key signs from now + publishAheadSeconds; the current one stops then and stays published until its tokens expire. */
  rotate(publishAheadSeconds: number): Promise<SigningKeyInfo>;
  /** Rotates when the newest key is older than maxAgeSeconds (safe to call from every replica). */
  rotateIfOlderThan(maxAgeSeconds: number, publishAheadSeconds: number): Promise<SigningKeyInfo | undefined>;
  /** Deletes keys no live token can need. */
  pruneExpired(): Promise<number>;
  /** Re-reads the keys now (otherwise at most every 30 s, and on an unknown kid). */
  reload(): Promise<void>;
}

interface LoadedKey {
  row: SigningKeyRow;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const infoOf = (row: SigningKeyRow): SigningKeyInfo => ({
  kid: row.kid,
  algorithm: row.algorithm,
  createdAt: row.created_at,
  activatesAt: row.activates_at,
  retiresAt: row.retires_at,
});

async function generateKey(algorithm: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateKeyPem: string }> {
  const { privateKey, publicKey } = algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint: a kid that is derived from the key itself, so it can never name two keys.
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' },
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function createKeyRing({ pool, log, algorithm, accessTokenTtlSeconds }: KeyRingOptions): KeyRing {
  const retentionSeconds = accessTokenTtlSeconds + CLOCK_SKEW_SECONDS;
  let keys = new Map<string, LoadedKey>();
  let loadedAt = 0;
  let lastUnknownKidReload = 0;
  let loading: Promise<void> | undefined;

  const load = (): Promise<void> => {
    loading ??= (async () => {
      try {
        const rows = await listPublishedSigningKeys(pool, retentionSeconds);
        const next = new Map<string, LoadedKey>();
        for (const row of rows) {
          const known = keys.get(row.kid);
          next.set(row.kid, {
            row,
            privateKey: known?.privateKey ?? createPrivateKey(row.private_key_pem),
            publicKey: known?.publicKey ?? createPublicKey(row.private_key_pem),
          });
        }
        keys = next;
        loadedAt = Date.now();
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  };

  const fresh = async (): Promise<void> => {
    if (Date.now() - loadedAt > RELOAD_AFTER_MS) await load();
  };

  const currentSigner = (): LoadedKey | undefined => {
    const now = Date.now();
    let best: LoadedKey | undefined;
    for (const key of keys.values()) {
      const { activates_at: activates, retires_at: retires } = key.row;
      if (activates.getTime() > now || (retires !== null && retires.getTime() <= now)) continue;
      if (!best || activates > best.row.activates_at) best = key;
    }
    return best;
  };

  const createKey = async (activatesAt: Date, retireOthers: boolean): Promise<SigningKeyRow> => {
    const generated = await generateKey(algorithm);
    return withSystemTransaction(pool, async (tx) => {
      await lockSigningKeys(tx);
      const row = await insertSigningKey(tx, { kid: generated.kid, algorithm, publicJwk: { ...generated.publicJwk }, privateKeyPem: generated.privateKeyPem, activatesAt });
      if (retireOthers) await retireSigningKeysAt(tx, row.kid, activatesAt);
      return row;
    });
  };

  const ring: KeyRing = {
    async sign(body, ttlSeconds) {
      await fresh();
      let signer = currentSigner();
      if (!signer) {
        await ring.ensureKey();
        await load();
        signer = currentSigner();
        if (!signer) throw new AppError('INTERNAL', 'no signing key is active');
      }
      const issuedAt = Math.floor(Date.now() / 1000);
      const expiresAt = issuedAt + ttlSeconds;
      const token = await new SignJWT({ org: body.org, role: body.role, email: body.email, sid: body.sid, tv: body.tv, ...(body.tfa === undefined ? {} : { tfa: body.tfa }) })
        .setProtectedHeader({ alg: signer.row.algorithm, kid: signer.row.kid, typ: 'JWT' })
        .setSubject(body.sub)
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(signer.privateKey);
      return { token, expiresAt: new Date(expiresAt * 1000), kid: signer.row.kid };
    },

    async verify(token) {
      await fresh();
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(
          token,
          async (header) => {
            const kid = header.kid ?? '';
            let key = keys.get(kid);
            if (!key && Date.now() - lastUnknownKidReload > UNKNOWN_KID_RELOAD_MS) {
              lastUnknownKidReload = Date.now();
              await load();
              key = keys.get(kid);
            }
            if (!key || key.row.algorithm !== header.alg) throw new AppError('UNAUTHENTICATED', 'access token was not signed by a known key', { reason: 'TOKEN_INVALID' });
            return key.publicKey;
          },
          { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE, algorithms: ['EdDSA', 'ES256'], clockTolerance: 5 },
        ));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) {
          throw new AppError('UNAUTHENTICATED', 'access token has expired: refresh it', { reason: 'TOKEN_EXPIRED', cause: error });
        }
        throw new AppError('UNAUTHENTICATED', 'access token is not valid', { reason: 'TOKEN_INVALID', cause: error });
      }
      const parsed = accessTokenClaimsSchema.safeParse(payload);
      if (!parsed.success) throw new AppError('UNAUTHENTICATED', 'access token is not valid', { reason: 'TOKEN_INVALID' });
      return parsed.data;
    },

    async jwks() {
      await fresh();
      return { keys: [...keys.values()].map((k) => k.row.public_jwk as unknown as JWK) };
    },

    async ensureKey() {
      const existing = await findNewestSigningKey(pool);
      if (existing) return infoOf(existing);
      const row = await withSystemTransaction(pool, async (tx) => {
        await lockSigningKeys(tx);
        // Another replica may have created it while we waited for the lock.
        const raced = await findNewestSigningKey(tx);
        if (raced) return raced;
        const generated = await generateKey(algorithm);
        return insertSigningKey(tx, { kid: generated.kid, algorithm, publicJwk: { ...generated.publicJwk }, privateKeyPem: generated.privateKeyPem, activatesAt: new Date() });
      });
      await load();
      log.info('signing key created', { kid: row.kid, algorithm: row.algorithm });
      return infoOf(row);
    },

    async rotate(publishAheadSeconds) {
      const row = await createKey(new Date(Date.now() + publishAheadSeconds * 1000), true);
      await load();
      log.info('signing key rotated', { kid: row.kid, algorithm: row.algorithm, activatesAt: row.activates_at.toISOString() });
      return infoOf(row);
    },

    async rotateIfOlderThan(maxAgeSeconds, publishAheadSeconds) {
      const newest = await findNewestSigningKey(pool);
      if (newest && Date.now() - newest.created_at.getTime() < maxAgeSeconds * 1000) return undefined;
      const generated = await generateKey(algorithm);
      const row = await withSystemTransaction(pool, async (tx) => {
        await lockSigningKeys(tx);
        const again = await findNewestSigningKey(tx);
        if (again && Date.now() - again.created_at.getTime() < maxAgeSeconds * 1000) return undefined;
        const activatesAt = new Date(Date.now() + (again ? publishAheadSeconds * 1000 : 0));
        const inserted = await insertSigningKey(tx, { kid: generated.kid, algorithm, publicJwk: { ...generated.publicJwk }, privateKeyPem: generated.privateKeyPem, activatesAt });
        await retireSigningKeysAt(tx, inserted.kid, activatesAt);
        return inserted;
      });
      if (!row) return undefined;
      await load();
      log.info('signing key rotated (age limit reached)', { kid: row.kid, algorithm: row.algorithm, activatesAt: row.activates_at.toISOString(), maxAgeSeconds });
      return infoOf(row);
    },

    reload: load,

    async pruneExpired() {
      const deleted = await deleteExpiredSigningKeys(pool, retentionSeconds);
      if (deleted > 0) log.info('expired signing keys deleted', { count: deleted });
      return deleted;
    },
  };
  return ring;
}
