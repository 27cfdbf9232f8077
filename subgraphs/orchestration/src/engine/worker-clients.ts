import CircuitBreaker from 'opossum';
import { INTERNAL_CHANNEL_OPTIONS, grpcChannelCredentials, tlsServerNameOptions, type GrpcTls, type Logger, type Metrics } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';

export interface BreakerSettings {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeout: number;
}

export interface WorkerEndpoint {
  endpoint: string;
  client: automationV1.AutomationServiceClient;
  /** Wraps whole Execute calls; only transport failures (the worker unreachable) count against it. */
  breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
}

export interface WorkerClients {
  get(endpoint: string): WorkerEndpoint;
  /** Endpoints whose breaker is open (no call goes there until its trial call). */
  isOpen(endpoint: string): boolean;
  /** A worker whose call just broke off is avoided for a while (it may be dead; its lease will tell). */
  markSuspect(workerId: string, forMs: number): void;
  isSuspect(workerId: string): boolean;
  /** Workers and endpoints a claim passes over now: suspects, and endpoints whose breaker is open. */
  avoided(): { workerIds: string[]; endpoints: string[] };
  close(): void;
}

export interface WorkerClientsOptions {
  breaker: BreakerSettings;
  log: Logger;
  metrics: Metrics;
  /** Dial workers over TLS; they are dialled by pod address, so their certificate is checked for `tlsServerName`. */
  tls?: GrpcTls | undefined;
  tlsServerName?: string | undefined;
}

export function createWorkerClients({ breaker, log, metrics, tls, tlsServerName }: WorkerClientsOptions): WorkerClients {
  const credentials = grpcChannelCredentials(tls);
  const channelOptions = { ...INTERNAL_CHANNEL_OPTIONS, ...tlsServerNameOptions(tls, tlsServerName) };
  const clients = new Map<string, WorkerEndpoint>();
  const suspects = new Map<string, number>();
  const state = metrics.gauge('worker_breaker_open', 'Circuit breaker of a worker endpoint: 1 open, 0.5 half-open, 0 closed', ['endpoint']);
  return {
    get(endpoint) {
      const known = clients.get(endpoint);
      if (known) return known;
      const client = new automationV1.AutomationServiceClient(endpoint, credentials, channelOptions);
      const b = new CircuitBreaker<[() => Promise<unknown>], unknown>((call: () => Promise<unknown>) => call(), {
        // Execute calls last as long as their task; the step timeout is the gRPC deadline.
        timeout: false,
        errorThresholdPercentage: breaker.errorThresholdPercentage,
        volumeThreshold: breaker.volumeThreshold,
        resetTimeout: breaker.resetTimeout,
        rollingCountTimeout: 30_000,
        name: endpoint,
      });
      b.on('open', () => {
        state.set({ endpoint }, 1);
        log.warn('worker endpoint circuit opened', { endpoint });
      });
      b.on('halfOpen', () => state.set({ endpoint }, 0.5));
      b.on('close', () => {
        state.set({ endpoint }, 0);
        log.info('worker endpoint circuit closed', { endpoint });
      });
      const entry: WorkerEndpoint = { endpoint, client, breaker: b };
      clients.set(endpoint, entry);
      return entry;
    },
    isOpen(endpoint) {
      const entry = clients.get(endpoint);
      return entry !== undefined && entry.breaker.opened && !entry.breaker.halfOpen;
    },
    markSuspect(workerId, forMs) {
      suspects.set(workerId, Date.now() + forMs);
    },
    isSuspect(workerId) {
      const until = suspects.get(workerId);
      if (until === undefined) return false;
      if (until < Date.now()) {
        suspects.delete(workerId);
        return false;
      }
      return true;
    },
    avoided() {
      const now = Date.now();
      const workerIds: string[] = [];
      for (const [workerId, until] of suspects) {
        if (until < now) suspects.delete(workerId);
        else workerIds.push(workerId);
      }
      const endpoints = [...clients.values()].filter((e) => e.breaker.opened && !e.breaker.halfOpen).map((e) => e.endpoint);
      return { workerIds, endpoints };
    },
    close() {
      for (const { client, breaker: b } of clients.values()) {
        b.shutdown();
        client.close();
      }
      clients.clear();
    },
  };
}
