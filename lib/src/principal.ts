import { generateKeyPairSync, type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { AppError } from './errors';
import { newRequestId } from './ids';

export const ROLES = ['viewer', 'operator', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);
/** true when `role` is at least `required` (owner > admin > operator > viewer). */
export const roleAtLeast = (role: Role | undefined, required: Role): boolean =>
  role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(required);

export type PrincipalKind = 'user' | 'apiKey' | 'service' | 'anonymous';

/** Who is calling, as the gateway established it. Travels signed to every subgraph and gRPC call. */
export interface Principal {
  kind: PrincipalKind;
  /** user id, API key id, service name, or "anonymous". */
  id: string;
  orgId?: string | undefined;
  role?: Role | undefined;
  scopes: string[];
  userId?: string | undefined;
  apiKeyId?: string | undefined;
  /** Email of the user or name of the key, for logs and audit. */
  display?: string | undefined;
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
  traceparent?: string | undefined;
  /** When the credential the caller presented expires (epoch seconds; a user's access token). */
  tokenExpiresAt?: number | undefined;
  /** A user whose organization requires a second factor they have not enrolled: the gateway lets them reach only enrolment. */
  twoFactorEnrollmentRequired?: boolean | undefined;
}

const principalSchema = z.object({
  kind: z.enum(['user', 'apiKey', 'service', 'anonymous']),
  id: z.string().min(1),
  orgId: z.string().optional(),
  role: z.enum(ROLES).optional(),
  scopes: z.array(z.string()),
  userId: z.string().optional(),
  apiKeyId: z.string().optional(),
  display: z.string().optional(),
  requestId: z.string().min(1),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  traceparent: z.string().optional(),
  tokenExpiresAt: z.number().int().optional(),
  twoFactorEnrollmentRequired: z.boolean().optional(),
});
/** An identity header's claims: the principal without the request id, which comes beside the header. */
const identitySchema = principalSchema.omit({ requestId: true });

/** The claim checks, exported so tests can count them (a verified header's claims are checked once). */
export const principalClaimChecks = { whole: principalSchema, identity: identitySchema };

export const PRINCIPAL_HEADER = 'x-orchestra-principal';
const ISSUER = 'orchestra-gateway';
const AUDIENCE = 'orchestra-internal';
/** Short: the header is minted per request, so a captured one is useless soon after. */
const PRINCIPAL_TTL_SECONDS = 60;

export const anonymousPrincipal = (requestId: string, extra: Partial<Principal> = {}): Principal => ({
  kind: 'anonymous',
  id: 'anonymous',
  scopes: [],
  requestId,
  ...extra,
});

export const servicePrincipal = (service: string, requestId: string, orgId?: string): Principal => ({
  kind: 'service',
  id: service,
  scopes: [],
  requestId,
  ...(orgId === undefined ? {} : { orgId }),
});

export interface PrincipalSigner {
  /** The whole principal, this request's id and trace included, signed for one request. */
  sign(principal: Principal): Promise<string>;
  /**
   * Who the caller is — the principal without its request id and trace — signed once and reused for
   * every request of that caller for up to half the header's lifetime. The request id and trace go
   * beside it (x-request-id, traceparent), and the verifier puts them back. One Ed25519 signature per
   * caller every 30 s instead of one per request, and one verification per subgraph likewise.
   */
  signIdentity(principal: Principal): Promise<string>;
}

/** The request's own facts, sent beside an identity header (HTTP headers or gRPC metadata). */
export interface RequestFacts {
  requestId?: string | undefined;
  traceparent?: string | undefined;
}

export interface PrincipalVerifier {
  /**
   * Returns the principal, or throws UNAUTHENTICATED naming what was wrong with the header. A header
   * signed by signIdentity gets `request`'s id (a fresh one when absent or malformed) and trace.
   */
  verify(header: string | undefined, request?: RequestFacts): Promise<Principal>;
}

const toPrivateKey = (pem: string | KeyObject): KeyObject => (typeof pem === 'string' ? createPrivateKey(pem) : pem);
const toPublicKey = (pem: string | KeyObject): KeyObject => (typeof pem === 'string' ? createPublicKey(pem) : pem);

/** A request id a caller may hand on: what newRequestId makes, or what a client may send (bounded). */
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Reused identity headers (one per caller, ip and agent) and verified headers kept, at most. */
const CACHE_ENTRIES = 10_000;
const REUSE_SECONDS = PRINCIPAL_TTL_SECONDS / 2;

/** A Map that forgets its oldest entry past `max` (insertion order). */
function boundedSet<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

const claimsOf = (principal: Principal): Record<string, unknown> => Object.fromEntries(Object.entries(principal).filter(([, v]) => v !== undefined));

/**
 * Who the principal is, as a string: every field but the request's own (request id, trace), each value
 * as JSON, so two principals have the same key exactly when signIdentity would sign the same claims
 * (fields in another order only miss the cache). Built per request, so without the intermediate
 * objects of claimsOf.
 */
function identityKey(principal: Principal): string {
  let key = '';
  for (const name in principal) {
    if (name === 'requestId' || name === 'traceparent') continue;
    const value = (principal as unknown as Record<string, unknown>)[name];
    if (value !== undefined) key += `${name}:${JSON.stringify(value)},`;
  }
  return key;
}

/** Only the gateway holds the private key (Ed25519). */
export function createPrincipalSigner(privateKeyPem: string | KeyObject): PrincipalSigner {
  const key = toPrivateKey(privateKeyPem);
  const mint = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime(`${PRINCIPAL_TTL_SECONDS}s`).sign(key);
  const identities = new Map<string, { header: Promise<string>; until: number }>();
  return {
    sign: (principal) => mint(claimsOf(principal)),
    signIdentity(principal) {
      const cacheKey = identityKey(principal);
      const known = identities.get(cacheKey);
      if (known && known.until > Date.now()) return known.header;
      const { requestId: _requestId, traceparent: _traceparent, ...identity } = principal;
      const header = mint(claimsOf(identity as Principal));
      boundedSet(identities, cacheKey, { header, until: Date.now() + REUSE_SECONDS * 1000 }, CACHE_ENTRIES);
      // A failed signature is not kept.
      header.catch(() => identities.delete(cacheKey));
      return header;
    },
  };
}

/** Every subgraph and gRPC server verifies with the gateway's public key. */
export function createPrincipalVerifier(publicKeyPem: string | KeyObject): PrincipalVerifier {
  const key = toPublicKey(publicKeyPem);
  /**
   * Verified headers until they expire, with their claims already checked: a reused identity header
   * is verified and its claims parsed once per process, and each request only adds its own id and
   * trace (the claims' schema check was ~0.8% of orchestration's CPU under the one-step bench).
   */
  const verified = new Map<string, { checked: Checked; exp: number }>();
  const check = async (header: string): Promise<Checked> => {
    const known = verified.get(header);
    if (known && known.exp * 1000 > Date.now()) return known.checked;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(header, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], clockTolerance: 5 }));
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw new AppError('UNAUTHENTICATED', expired ? `${PRINCIPAL_HEADER} has expired` : `${PRINCIPAL_HEADER} signature is not valid`, {
        reason: expired ? 'PRINCIPAL_EXPIRED' : 'PRINCIPAL_INVALID',
        cause: error,
      });
    }
    const { iss: _iss, aud: _aud, iat: _iat, exp, ...claims } = payload;
    // Claims that do not make a principal are refused every time (nothing cached).
    const checked: Checked = claims['requestId'] !== undefined ? { whole: parseClaims(principalSchema, claims) } : { identity: parseClaims(identitySchema, claims) };
    if (typeof exp === 'number') boundedSet(verified, header, { checked, exp }, CACHE_ENTRIES);
    return checked;
  };
  return {
    async verify(header, request) {
      if (header === undefined || header === '') {
        throw new AppError('UNAUTHENTICATED', `missing ${PRINCIPAL_HEADER}: requests must come through the gateway`, {
          reason: 'PRINCIPAL_MISSING',
        });
      }
      const checked = await check(header);
      // A copy per request (scopes too): what one request does with its principal never reaches another's.
      if ('whole' in checked) return { ...checked.whole, scopes: [...checked.whole.scopes] };
      // An identity header: the request's id and trace travel beside it.
      const requestId = request?.requestId !== undefined && REQUEST_ID.test(request.requestId) ? request.requestId : newRequestId();
      const traceparent = request?.traceparent !== undefined && request.traceparent.length <= 128 ? request.traceparent : undefined;
      return { ...checked.identity, scopes: [...checked.identity.scopes], requestId, ...(traceparent === undefined ? {} : { traceparent }) };
    },
  };
}

/** A verified header's claims, checked: a whole principal, or an identity that each request completes. */
type Checked = { whole: Principal } | { identity: Omit<Principal, 'requestId'> };

function parseClaims<T>(schema: z.ZodType<T>, claims: Record<string, unknown>): T {
  const parsed = schema.safeParse(claims);
  if (!parsed.success) throw new AppError('UNAUTHENTICATED', `${PRINCIPAL_HEADER} signature is not valid`, { reason: 'PRINCIPAL_INVALID', cause: parsed.error });
  return parsed.data;
}

/** A fresh Ed25519 pair as PEM strings (for `npm start` and tests; production passes its own). */
export function generatePrincipalKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
