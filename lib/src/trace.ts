import { pooledRandomBytes } from './ids';

/** W3C trace context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's traceparent when it is well-formed (and not all zeros), else a new one (sampled). */
export function ensureTraceparent(sent: string | undefined): string {
  const match = sent === undefined ? null : TRACEPARENT.exec(sent.trim().toLowerCase());
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) return sent!.trim().toLowerCase();
  // A trace id (16 bytes) and a parent id (8 bytes), both non-zero as the format requires.
  const hex = pooledRandomBytes(24).toString('hex');
  const traceId = hex.slice(0, 32);
  const parentId = hex.slice(32);
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return ensureTraceparent(undefined);
  return `00-${traceId}-${parentId}-01`;
}

/** The trace id of a traceparent (what logs carry to join one request across services). */
export const traceIdOf = (traceparent: string | undefined): string | undefined => (traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent)?.[1]);
