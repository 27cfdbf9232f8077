import { AppError, newId, recordNotification, withSystemTransaction, type GuardedFetch, type Logger, type Metrics, type Pool } from '@orchestra/lib';
import { CATALOG_SERVICE } from '../apps/catalog';
import type { HealthSettings } from '../config';
import {
  claimDueProbes,
  insertHealthChange,
  probeDueInMs,
  lockHealthForResult,
  pruneHealthChanges,
  saveProbeOutcome,
  type DueProbe,
  type HealthStatus,
} from '../store/health';
import { decideHealthNotice } from './notices';
import { createProbeSchedule } from './probe-schedule';

/** What one probe saw. */
export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  httpStatus: number | null;
  error: string | null;
}

/**
 * The status after a probe. One success means up. Failures take an app that was up down only after
 * `downAfter` in a row (one lost packet is not an outage); an app not yet seen up goes down at once.
 */
export function nextHealthStatus(
  current: { status: HealthStatus; consecutiveFailures: number },
  ok: boolean,
  downAfter: number,
): { status: HealthStatus; consecutiveFailures: number } {
  if (ok) return { status: 'up', consecutiveFailures: 0 };
  const consecutiveFailures = current.consecutiveFailures + 1;
  const status = current.status === 'up' && consecutiveFailures < downAfter ? 'up' : 'down';
  return { status, consecutiveFailures };
}

export interface HealthProberDeps {
  pool: Pool;
  /** The network-guarded fetch (lib/net-guard): private addresses are refused unless allowed. */
  fetch: GuardedFetch;
  settings: HealthSettings;
  log: Logger;
  metrics: Metrics;
}

export interface HealthProber {
  /** Starts the background loop (no-op when already running). */
  start(): void;
  /** Stops claiming, aborts probes in flight and waits for them. */
  stop(): Promise<void>;
  /** Claims the due apps (up to the free concurrency) and probes them; resolves when all are recorded. */
  probeDue(): Promise<number>;
  /** Deletes status changes older than the history window (keeping the latest per app). */
  pruneHistory(): Promise<number>;
  /** An app's probe may be due now (created, URL changed, restored): the loop looks at once. */
  wake(): void;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const LEASE_MARGIN_MS = 10_000;
const MAX_ERROR_LENGTH = 500;

const describeFailure = (error: unknown, timedOut: boolean, timeoutMs: number): string => {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) {
    // undici reports "fetch failed" with the socket error (ECONNREFUSED, ENOTFOUND...) as its cause.
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const detail = cause?.code ?? cause?.message;
    return detail ? `${error.message}: ${detail}` : error.message;
  }
  return String(error);
};

/**
 * Probes every app's health-check URL on the configured interval. Due apps are claimed from
 * PostgreSQL (so several catalog replicas share the work), at most `concurrency` probes run at once,
 * each bounded by `timeoutMs`; only status changes are written as history rows, everything else
 * updates counters on the app's one health row.
 */
export function createHealthProber({ pool, fetch, settings, log, metrics }: HealthProberDeps): HealthProber {
  const probeLog = log.child({ component: 'health-prober' });
  const probes = metrics.counter('catalog_health_probes_total', 'Health probes by result', ['result']);
  const changes = metrics.counter('catalog_health_status_changes_total', 'Health status changes by new status', ['status']);
  const duration = metrics.histogram('catalog_health_probe_seconds', 'Health probe duration', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  const notices = metrics.counter('catalog_health_notices_total', 'app.health_changed notifications recorded, by new status', ['status']);
  const inFlightGauge = metrics.gauge('catalog_health_probes_in_flight', 'Health probes running now');

  // A claim holds an app for as long as its probe may take plus time to record it; recording the
  // result schedules the next probe an interval (plus jitter) later.
  const leaseMs = settings.timeoutMs + LEASE_MARGIN_MS;
  const jitter = settings.jitterPercent / 100;
  const pollMs = Math.min(1_000, Math.max(20, Math.floor(settings.intervalMs / 4)));
  const inFlight = new Set<Promise<void>>();
  let stopping = new AbortController();
  let lastPrune = 0;
  let failingSince: number | undefined;

  const probe = async (target: DueProbe): Promise<ProbeResult> => {
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const signal = AbortSignal.any([timeout, stopping.signal]);
    const started = performance.now();
    try {
      const response = await fetch(target.url, {
        method: 'GET',
        headers: { 'user-agent': 'orchestra-catalog-health/1', accept: '*/*' },
        signal,
      });
      // Only the status matters; drop the body so the connection can be reused.
      await response.body?.cancel().catch(() => undefined);
      const ok = response.status >= 200 && response.status < 300;
      return { ok, latencyMs: Math.round(performance.now() - started), httpStatus: response.status, error: ok ? null : `HTTP ${response.status}` };
    } catch (error) {
      const message = describeFailure(error, timeout.aborted, settings.timeoutMs);
      return { ok: false, latencyMs: Math.round(performance.now() - started), httpStatus: null, error: message.slice(0, MAX_ERROR_LENGTH) };
    }
  };

  const record = async (target: DueProbe, result: ProbeResult): Promise<void> => {
    await withSystemTransaction(pool, async (tx) => {
      const current = await lockHealthForResult(tx, target.app_id);
      // The URL was changed or removed while the probe ran: this result is about the old one.
      if (!current || current.url !== target.url) return;
      const next = nextHealthStatus({ status: current.status, consecutiveFailures: current.consecutiveFailures }, result.ok, settings.downAfter);
      const statusChanged = next.status !== current.status;
      const { state: notice, notice: news } = decideHealthNotice(current.notice, next.status, statusChanged, new Date(), settings.notifyQuietMs);
      await saveProbeOutcome(tx, target.app_id, {
        intervalMs: settings.intervalMs,
        jitter,
        status: next.status,
        statusChanged,
        consecutiveFailures: next.consecutiveFailures,
        failed: !result.ok,
        latencyMs: result.latencyMs,
        httpStatus: result.httpStatus,
        error: result.error,
        notice,
      });
      if (statusChanged) {
        await insertHealthChange(tx, {
          id: newId(),
          orgId: current.orgId,
          appId: target.app_id,
          status: next.status,
          previousStatus: current.status,
          httpStatus: result.httpStatus,
          error: result.error,
        });
        changes.inc({ status: next.status });
        probeLog.info('app health changed', {
          appId: target.app_id,
          orgId: current.orgId,
          from: current.status,
          to: next.status,
          httpStatus: result.httpStatus,
          error: result.error,
        });
      }
      if (news) {
        // In the transaction that records the change: the notice exists exactly when the change does,
        // and the relay delivers it whenever the notifications service is reachable.
        await recordNotification(tx, CATALOG_SERVICE, {
          type: 'app.health_changed',
          orgId: current.orgId,
          data: {
            appId: target.app_id,
            appName: current.appName.slice(0, 200),
            status: news.status,
            previousStatus: news.previousStatus,
            httpStatus: result.httpStatus,
            ...(result.error === null ? {} : { error: result.error.slice(0, 500) }),
            changes: news.changes,
          },
        });
        notices.inc({ status: news.status });
        probeLog.info('app health notice recorded', { appId: target.app_id, orgId: current.orgId, from: news.previousStatus, to: news.status, changes: news.changes });
      }
    });
  };

  const probeAndRecord = async (target: DueProbe): Promise<void> => {
    const result = await probe(target);
    if (stopping.signal.aborted) return;
    probes.inc({ result: result.ok ? 'up' : 'down' });
    duration.observe(result.latencyMs / 1000);
    probeLog.debug('probed', { appId: target.app_id, orgId: target.org_id, ok: result.ok, latencyMs: result.latencyMs, httpStatus: result.httpStatus, error: result.error });
    try {
      await record(target, result);
    } catch (error) {
      probeLog.error('could not record a health probe', { err: error, appId: target.app_id, orgId: target.org_id });
    }
  };

  const launch = (target: DueProbe): Promise<void> => {
    const task = probeAndRecord(target).finally(() => {
      inFlight.delete(task);
      inFlightGauge.set(inFlight.size);
    });
    inFlight.add(task);
    inFlightGauge.set(inFlight.size);
    return task;
  };

  const claim = async (): Promise<DueProbe[]> => {
    const free = settings.concurrency - inFlight.size;
    if (free <= 0 || stopping.signal.aborted) return [];
    return withSystemTransaction(pool, (tx) => claimDueProbes(tx, free, leaseMs));
  };

  const pruneHistory = async (): Promise<number> => {
    const before = new Date(Date.now() - settings.historyDays * 86_400_000);
    const pruned = await withSystemTransaction(pool, (tx) => pruneHealthChanges(tx, before));
    if (pruned > 0) probeLog.info('pruned health history', { pruned, before: before.toISOString() });
    return pruned;
  };

  /** Claims and starts the due probes; resolves to how many (undefined when the database failed). */
  const tick = async (): Promise<number | undefined> => {
    try {
      const due = await claim();
      for (const target of due) void launch(target);
      if (due.length > 0) probeLog.debug('probes started', { count: due.length, inFlight: inFlight.size });
      if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
        lastPrune = Date.now();
        await pruneHistory();
      }
      if (failingSince !== undefined) {
        probeLog.info('health prober recovered', { failedForMs: Date.now() - failingSince });
        failingSince = undefined;
      }
      return due.length;
    } catch (error) {
      // The database is away: keep going, say so once per outage rather than every tick.
      if (failingSince === undefined) {
        failingSince = Date.now();
        probeLog.error('health prober cannot claim probes', { err: error });
      }
      return undefined;
    }
  };

  const schedule = createProbeSchedule({
    round: tick,
    inFlight: () => inFlight.size,
    nextDueInMs: () => probeDueInMs(pool),
    pollMs,
    idleMaxMs: settings.idleMaxMs,
    log: probeLog,
  });
  let running = false;

  return {
    start() {
      if (running) return;
      running = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      probeLog.info('health prober started', {
        intervalMs: settings.intervalMs,
        timeoutMs: settings.timeoutMs,
        concurrency: settings.concurrency,
        jitterPercent: settings.jitterPercent,
        idleMaxMs: settings.idleMaxMs,
        allowPrivateNetwork: settings.allowPrivateNetwork,
      });
      schedule.start();
    },
    async stop() {
      running = false;
      stopping.abort();
      await schedule.stop();
      await Promise.allSettled([...inFlight]);
    },
    async probeDue() {
      const due = await claim();
      await Promise.all(due.map(launch));
      return due.length;
    },
    pruneHistory,
    wake: () => schedule.wake(),
  };
}
