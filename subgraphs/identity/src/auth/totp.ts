import { generateSecret, generateURI, verify } from 'otplib';
import { badInput } from '@orchestra/lib';
import { hashSecret, randomAlphanumeric } from './opaque-tokens';

/**
 * TOTP (RFC 6238) through otplib: 6 digits, 30 s steps, SHA-1 (what every authenticator app reads
 * from an otpauth:// URL). A code is accepted for its own step and the one before and after (clock
 * drift), and never twice: the caller keeps the last accepted time step.
 */

export const TOTP_DIGITS = 6;
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_CHARS = 10;
const TOLERANCE_SECONDS = 30;

export const newTotpSecret = (): string => generateSecret({ length: 20 });

export const otpauthUrl = (issuer: string, account: string, secret: string): string => generateURI({ issuer, label: account, secret });

/** The time step of a valid code later than `afterTimeStep`, or undefined. */
export async function checkTotp(secret: string, code: string, afterTimeStep: number | null): Promise<number | undefined> {
  const result = await verify({ secret, token: code, epochTolerance: TOLERANCE_SECONDS });
  if (!result.valid || !('timeStep' in result)) return undefined;
  const step = (result as { timeStep: number }).timeStep;
  return afterTimeStep !== null && step <= afterTimeStep ? undefined : step;
}

export type SecondFactor = { kind: 'totp'; code: string } | { kind: 'recovery'; hash: string };

/**
 * Reads what the user typed: six digits (spaces allowed) are a TOTP code, ten letters and digits (a
 * dash allowed) a recovery code. Anything else is BAD_USER_INPUT naming `field`.
 */
export function parseSecondFactor(raw: string, field = 'code', allowRecovery = true): SecondFactor {
  const compact = raw.replace(/[\s-]/g, '');
  if (/^\d+$/.test(compact)) {
    if (compact.length !== TOTP_DIGITS) throw badInput(field, `a code from the authenticator app has ${TOTP_DIGITS} digits (got ${compact.length})`, 'INVALID_CODE_LENGTH');
    return { kind: 'totp', code: compact };
  }
  if (allowRecovery && /^[A-Za-z0-9]+$/.test(compact)) {
    if (compact.length !== RECOVERY_CODE_CHARS) throw badInput(field, `a recovery code has ${RECOVERY_CODE_CHARS} letters and digits (got ${compact.length})`, 'INVALID_CODE_LENGTH');
    return { kind: 'recovery', hash: hashSecret(compact.toUpperCase()) };
  }
  throw badInput(field, allowRecovery ? `enter the ${TOTP_DIGITS}-digit code from your authenticator app or a recovery code` : `enter the ${TOTP_DIGITS}-digit code from your authenticator app`, 'INVALID_CODE');
}

/** Ten fresh recovery codes (shown once, as XXXXX-XXXXX) and their hashes (stored). */
export function newRecoveryCodes(): Array<{ code: string; hash: string }> {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = randomAlphanumeric(RECOVERY_CODE_CHARS).toUpperCase();
    return { code: `${raw.slice(0, 5)}-${raw.slice(5)}`, hash: hashSecret(raw) };
  });
}
