import CircuitBreaker from 'opossum';
import type { Metrics } from '@orchestra/lib/worker';
import { ProviderCallError } from './provider-call';

/**
 * What a worker knows about each provider's health, shared by all its tasks: a circuit breaker per
 * provider (opossum: opens when most recent calls failed with timeouts, 5xx or a broken connection;
 * after `resetMs` one probe call goes through and closes it again, or opens it for another period)
 * and a cool-down from the provider's own Retry-After. A provider is keyed by organization, name and
 * base URL, so one tenant's bad key or broken server never closes another's door.
 */

export interface ProviderHealthOptions {
  /** Failures within the rolling minute (and more than half the calls) that open a circuit. */
  failureThreshold: number;
  resetMs: number;
  /** Providers remembered at most (least recently used forgotten). */
  maxProviders?: number;
  metrics?: Metrics | undefined;
  now?: () => number;
}

export interface ProviderKey {
  orgId: string;
  name: string;
  baseUrl: string;
}

export type ProviderState = { usable: true } | { usable: false; code: 'PROVIDER_CIRCUIT_OPEN' | 'PROVIDER_COOLING_DOWN'; message: string; retryAfterMs?: number };

export interface ProviderHealth {
  /** Whether a call may go to the provider now (a half-open circuit lets one probe through). */
  state(key: ProviderKey): ProviderState;
  /** Runs one call through the provider's breaker, noting a Retry-After it answers with. */
  call<T>(key: ProviderKey, fn: () => Promise<T>): Promise<T>;
  /** closed / open / half-open, for logs and tests. */
  circuit(key: ProviderKey): 'closed' | 'open' | 'half-open';
  stop(): void;
}

const keyOf = ({ orgId, name, baseUrl }: ProviderKey): string => `${orgId}\u0000${name}\u0000${baseUrl}`;

export function createProviderHealth({ failureThreshold, resetMs, maxProviders = 1_000, metrics, now = Date.now }: ProviderHealthOptions): ProviderHealth {
  const breakers = new Map<string, CircuitBreaker<[() => Promise<unknown>], unknown>>();
  const coolUntil = new Map<string, number>();
  const opened = metrics?.counter('worker_llm_circuit_opened_total', 'Times a model provider circuit opened on this worker');

  const breakerOf = (key: ProviderKey) => {
    const id = keyOf(key);
    let breaker = breakers.get(id);
    if (breaker) {
      // Most recently used last.
      breakers.delete(id);
      breakers.set(id, breaker);
      return breaker;
    }
    breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      // The provider call has its own timeouts; opossum's would leave the HTTP stream running.
      timeout: false,
      resetTimeout: resetMs,
      volumeThreshold: failureThreshold,
      errorThresholdPercentage: 50,
      rollingCountTimeout: 60_000,
      rollingCountBuckets: 6,
      // Only a provider in trouble counts: not a refusal of our request, a rate limit or an abort.
      errorFilter: (error: unknown) => !(error instanceof ProviderCallError && error.options.countsAgainstCircuit),
    });
    breaker.on('open', () => opened?.inc());
    breakers.set(id, breaker);
    while (breakers.size > maxProviders) {
      const [oldest, old] = breakers.entries().next().value as [string, CircuitBreaker];
      old.shutdown();
      breakers.delete(oldest);
      coolUntil.delete(oldest);
    }
    return breaker;
  };

  return {
    state(key) {
      const until = coolUntil.get(keyOf(key));
      const left = until === undefined ? 0 : until - now();
      if (left > 0) return { usable: false, code: 'PROVIDER_COOLING_DOWN', message: `it asked us to wait (Retry-After): ${Math.ceil(left / 1000)} s left`, retryAfterMs: left };
      const breaker = breakers.get(keyOf(key));
      if (breaker?.opened === true) return { usable: false, code: 'PROVIDER_CIRCUIT_OPEN', message: 'its circuit is open after repeated failures' };
      return { usable: true };
    },
    async call(key, fn) {
      try {
        return (await breakerOf(key).fire(fn)) as Awaited<ReturnType<typeof fn>>;
      } catch (error) {
        if ((error as { code?: string }).code === 'EOPENBREAKER') {
          throw new ProviderCallError('PROVIDER_CIRCUIT_OPEN', 'its circuit is open after repeated failures', { retryable: true, countsAgainstCircuit: false });
        }
        if (error instanceof ProviderCallError && error.options.retryAfterMs !== undefined && error.options.retryAfterMs > 0) {
          coolUntil.set(keyOf(key), now() + error.options.retryAfterMs);
        }
        throw error;
      }
    },
    circuit(key) {
      const breaker = breakers.get(keyOf(key));
      if (!breaker || breaker.closed) return 'closed';
      return breaker.halfOpen ? 'half-open' : 'open';
    },
    stop() {
      for (const breaker of breakers.values()) breaker.shutdown();
      breakers.clear();
      coolUntil.clear();
    },
  };
}
