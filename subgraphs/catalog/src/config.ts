import { env, subgraphEnv } from '@orchestra/lib';
import { z } from 'zod';

/** The catalog process's environment, parsed once in main.ts. */
export const catalogConfigSchema = z.object({
  ...subgraphEnv('catalog', 4102, 50052),
  /** Set to false to run the catalog without probing apps (e.g. a read replica of the service). */
  CATALOG_HEALTH_ENABLED: env.bool(true),
  /** How often each app's health-check URL is probed. */
  CATALOG_HEALTH_INTERVAL_MS: env.int(30_000, { min: 50, max: 86_400_000 }),
  /** Each app's next probe is pushed back by up to this share of the interval, so probes spread out. */
  CATALOG_HEALTH_JITTER_PERCENT: env.int(20, { min: 0, max: 100 }),
  /** A probe that has no answer within this time counts as a failure. */
  CATALOG_HEALTH_TIMEOUT_MS: env.int(5_000, { min: 10, max: 120_000 }),
  /** Probes running at once in this process. */
  CATALOG_HEALTH_CONCURRENCY: env.int(8, { min: 1, max: 256 }),
  /**
   * With no probe due or in flight, the prober sleeps until the next one is due, at most this long. A
   * change in this process (an app created, its URL changed, restored) wakes it at once; a probe made
   * due elsewhere (another replica) is seen within this.
   */
  CATALOG_HEALTH_IDLE_MAX_MS: env.int(30_000, { min: 100, max: 3_600_000 }),
  /** Consecutive failed probes before an app that was up is reported down (one success brings it back up). */
  CATALOG_HEALTH_DOWN_AFTER: env.int(2, { min: 1, max: 20 }),
  /**
   * After an app's health change is announced (app.health_changed), further changes of that app within
   * this time are held and counted; the status it settles in is announced once the time is over. Bounds
   * the notifications of a flapping app to one per period.
   */
  CATALOG_HEALTH_NOTIFY_QUIET_MS: env.int(5 * 60_000, { min: 0, max: 86_400_000 }),
  /** Status changes older than this are pruned (the latest one per app is kept); also the longest uptime window. */
  CATALOG_HEALTH_HISTORY_DAYS: env.int(30, { min: 1, max: 3650 }),
  /** Probes to private, loopback and link-local addresses are refused unless this is true (tests, on-prem). */
  CATALOG_ALLOW_PRIVATE_NETWORK: env.bool(false),
  /** IdentityService address; when set, an app's owner must be a known user. */
  IDENTITY_GRPC_ADDR: z.string().optional(),
});

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;

/** The health-probe settings createCatalogService needs (a subset of the config, so tests can pass just these). */
export interface HealthSettings {
  enabled: boolean;
  intervalMs: number;
  jitterPercent: number;
  timeoutMs: number;
  concurrency: number;
  /** CATALOG_HEALTH_IDLE_MAX_MS. */
  idleMaxMs: number;
  downAfter: number;
  /** CATALOG_HEALTH_NOTIFY_QUIET_MS. */
  notifyQuietMs: number;
  historyDays: number;
  allowPrivateNetwork: boolean;
}

export const healthSettingsOf = (config: CatalogConfig): HealthSettings => ({
  enabled: config.CATALOG_HEALTH_ENABLED,
  intervalMs: config.CATALOG_HEALTH_INTERVAL_MS,
  jitterPercent: config.CATALOG_HEALTH_JITTER_PERCENT,
  timeoutMs: config.CATALOG_HEALTH_TIMEOUT_MS,
  concurrency: config.CATALOG_HEALTH_CONCURRENCY,
  idleMaxMs: config.CATALOG_HEALTH_IDLE_MAX_MS,
  downAfter: config.CATALOG_HEALTH_DOWN_AFTER,
  notifyQuietMs: config.CATALOG_HEALTH_NOTIFY_QUIET_MS,
  historyDays: config.CATALOG_HEALTH_HISTORY_DAYS,
  allowPrivateNetwork: config.CATALOG_ALLOW_PRIVATE_NETWORK,
});
