import { randomBytes } from 'node:crypto';

/** W3C trace context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's traceparent when it is well-formed (and not all zeros), else a new one (sampled). */
export function ensureTraceparent(sent: string | undefined): string {
  const match = sent === undefined ? null : TRACEPARENT.exec(sent.trim().toLowerCase());
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) return sent!.trim().toLowerCase();
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace id of a traceparent (what logs carry to join one request across services). */
export const traceIdOf = (traceparent: string | undefined): string | undefined => (traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent)?.[1]);
