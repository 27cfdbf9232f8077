import { generateKeyPairSync, type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { AppError } from './errors';

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
  sign(principal: Principal): Promise<string>;
}

export interface PrincipalVerifier {
  /** Returns the principal, or throws UNAUTHENTICATED naming what was wrong with the header. */
  verify(header: string | undefined): Promise<Principal>;
}

const toPrivateKey = (pem: string | KeyObject): KeyObject => (typeof pem === 'string' ? createPrivateKey(pem) : pem);
const toPublicKey = (pem: string | KeyObject): KeyObject => (typeof pem === 'string' ? createPublicKey(pem) : pem);

/** Only the gateway holds the private key (Ed25519). */
export function createPrincipalSigner(privateKeyPem: string | KeyObject): PrincipalSigner {
  const key = toPrivateKey(privateKeyPem);
  return {
    async sign(principal) {
      const claims = Object.fromEntries(Object.entries(principal).filter(([, v]) => v !== undefined));
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${PRINCIPAL_TTL_SECONDS}s`)
        .sign(key);
    },
  };
}

/** Every subgraph and gRPC server verifies with the gateway's public key. */
export function createPrincipalVerifier(publicKeyPem: string | KeyObject): PrincipalVerifier {
  const key = toPublicKey(publicKeyPem);
  return {
    async verify(header) {
      if (header === undefined || header === '') {
        throw new AppError('UNAUTHENTICATED', `missing ${PRINCIPAL_HEADER}: requests must come through the gateway`, {
          reason: 'PRINCIPAL_MISSING',
        });
      }
      try {
        const { payload } = await jwtVerify(header, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], clockTolerance: 5 });
        const { iss: _iss, aud: _aud, iat: _iat, exp: _exp, ...rest } = payload;
        return principalSchema.parse(rest);
      } catch (error) {
        const expired = error instanceof joseErrors.JWTExpired;
        throw new AppError('UNAUTHENTICATED', expired ? `${PRINCIPAL_HEADER} has expired` : `${PRINCIPAL_HEADER} signature is not valid`, {
          reason: expired ? 'PRINCIPAL_EXPIRED' : 'PRINCIPAL_INVALID',
          cause: error,
        });
      }
    },
  };
}

/** A fresh Ed25519 pair as PEM strings (for `npm start` and tests; production passes its own). */
export function generatePrincipalKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
