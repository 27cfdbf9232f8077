import { randomUUID } from 'node:crypto';
import type { Logger, Redis } from '@orchestra/lib';
import { waitReason, type WaitReason } from '../domain/wait-reasons';

/**
 * Per-provider rate limits of an organization (issue 14): a provider's requestsPerMinute and
 * tokensPerMinute, counted in Redis over a sliding minute, so every dispatcher replica sees the
 * same counts. The dispatcher asks before it starts a model step (claims.ts): the first of the
 * step's providers with room takes one request, providers at their limit are left out of what the
 * worker gets (as if their circuit were open), and when every provider is at its limit the task
 * waits (RATE_LIMIT, naming the provider) instead of calling it. Tokens are only known after the
 * call: every model call the attempt reported, failed ones included, is counted when it ends,
 * against the provider it went to.
 *
 * A reservation is taken before the claim commits (it must be atomic across replicas): a claim
 * that does not start the attempt gives it back.
 */

export const PROVIDER_WINDOW_MS = 60_000;
/** A task waiting for a provider's room looks again at least this often. */
const MAX_RECHECK_MS = 5_000;

export interface ProviderLimit {
  name: string;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

/** One request counted for a provider, to give back if the attempt does not start. */
export interface ProviderReservation {
  orgId: string;
  provider: string;
  member: string;
}

export type ProviderAdmission =
  /** `reserved`: the provider that took a request (undefined: none has limits); `skipped`: providers at their limit. */
  | { kind: 'admit'; reserved: ProviderReservation | undefined; skipped: string[] }
  | { kind: 'wait'; reason: WaitReason; delayMs: number };

export interface ProviderLimits {
  admit(orgId: string, providers: readonly ProviderLimit[]): Promise<ProviderAdmission>;
  release(reservations: readonly ProviderReservation[]): Promise<void>;
  /** Counts what calls used, when it is known: their tokens, and requests the claim did not take already. */
  record(orgId: string, provider: string, usage: { tokens: number; requests: number }): Promise<void>;
}

// KEYS: requests zset, tokens zset. ARGV: now, window, rpm (0: none), tpm (0: none), member (''
// to only look). Tokens members are "<member>:<tokens>". Returns { admitted, retryMs, requests, tokens }.
const ADMIT_SCRIPT = `
local req, tok = KEYS[1], KEYS[2]
local now, window, rpm, tpm, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', req, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', tok, '-inf', now - window)
local requests = redis.call('ZCARD', req)
local entries = redis.call('ZRANGE', tok, 0, -1, 'WITHSCORES')
local tokens = 0
for i = 1, #entries, 2 do tokens = tokens + tonumber(string.match(entries[i], ':(%d+)$') or '0') end
local retry = 0
if rpm > 0 and requests >= rpm then
  local oldest = redis.call('ZRANGE', req, 0, 0, 'WITHSCORES')
  retry = tonumber(oldest[2]) + window - now
end
if tpm > 0 and tokens >= tpm then
  local left = tokens
  for i = 1, #entries, 2 do
    left = left - tonumber(string.match(entries[i], ':(%d+)$') or '0')
    if left < tpm then
      local at = tonumber(entries[i + 1]) + window - now
      if at > retry then retry = at end
      break
    end
  end
end
if retry > 0 then return { 0, retry, requests, tokens } end
if member ~= '' then
  redis.call('ZADD', req, now, member)
  redis.call('PEXPIRE', req, window)
end
return { 1, 0, requests, tokens }
`;

const hasLimits = (p: ProviderLimit): boolean => (p.requestsPerMinute ?? 0) > 0 || (p.tokensPerMinute ?? 0) > 0;

export function createProviderLimits({ redis, prefix, log, windowMs = PROVIDER_WINDOW_MS }: { redis: Redis; prefix: string; log: Logger; windowMs?: number }): ProviderLimits {
  // Organization ids are UUIDs and provider names are checked at creation: safe in a key.
  const keys = (orgId: string, provider: string): [string, string] => [`${prefix}:llm-limit:${orgId}:${provider}:req`, `${prefix}:llm-limit:${orgId}:${provider}:tok`];
  const newMember = () => randomUUID();

  return {
    async admit(orgId, providers) {
      const limited = providers.filter(hasLimits);
      if (limited.length === 0) return { kind: 'admit', reserved: undefined, skipped: [] };
      const skipped: string[] = [];
      const full: Array<{ provider: ProviderLimit; retryMs: number; requests: number; tokens: number }> = [];
      for (const provider of providers) {
        if (!hasLimits(provider)) return { kind: 'admit', reserved: undefined, skipped };
        const member = newMember();
        const [admitted, retryMs, requests, tokens] = (await redis.eval(
          ADMIT_SCRIPT,
          2,
          ...keys(orgId, provider.name),
          Date.now(),
          windowMs,
          provider.requestsPerMinute ?? 0,
          provider.tokensPerMinute ?? 0,
          member,
        )) as [number, number, number, number];
        if (admitted === 1) return { kind: 'admit', reserved: { orgId, provider: provider.name, member }, skipped };
        skipped.push(provider.name);
        full.push({ provider, retryMs, requests, tokens });
      }
      // Looked at again within MAX_RECHECK_MS however long the window has left: a raised limit applies soon.
      const roomInMs = Math.max(100, Math.min(...full.map((f) => f.retryMs)));
      const delayMs = Math.min(roomInMs, MAX_RECHECK_MS);
      const said = full.map(({ provider: p, requests, tokens }) =>
        p.requestsPerMinute !== null && requests >= p.requestsPerMinute
          ? `model provider "${p.name}" used its ${p.requestsPerMinute} requests per minute`
          : `model provider "${p.name}" used its ${p.tokensPerMinute ?? 0} tokens per minute (${tokens} used)`,
      );
      return {
        kind: 'wait',
        delayMs,
        reason: waitReason('RATE_LIMIT', `${said.join('; ')}: room in ${Math.ceil(roomInMs / 1000)} s`, {
          providers: full.map(({ provider: p, requests, tokens }) => ({ provider: p.name, requestsPerMinute: p.requestsPerMinute, tokensPerMinute: p.tokensPerMinute, requests, tokens })),
          until: new Date(Date.now() + roomInMs).toISOString(),
        }),
      };
    },

    async release(reservations) {
      await Promise.all(reservations.map((r) => redis.zrem(keys(r.orgId, r.provider)[0], r.member))).catch((error: unknown) => log.warn('could not give back provider requests', { err: error }));
    },

    async record(orgId, provider, { tokens, requests }) {
      if (tokens <= 0 && requests <= 0) return;
      const [req, tok] = keys(orgId, provider);
      const now = Date.now();
      const multi = redis.multi();
      if (tokens > 0) multi.zadd(tok, now, `${newMember()}:${Math.round(tokens)}`).pexpire(tok, windowMs);
      for (let i = 0; i < requests; i += 1) multi.zadd(req, now, newMember());
      if (requests > 0) multi.pexpire(req, windowMs);
      await multi.exec();
    },
  };
}
