import { z } from 'zod';
import { artifactEnv, artifactUrlEnv, artifactUrlTtlEnv, env, subgraphEnv, WORKER_AUTH_SECRET_MIN_LENGTH } from '@orchestra/lib';
import { secretKeyringEnv } from './secrets/keyring';

/** The orchestration process's environment (one schema, parsed once in main.ts). */
export const orchestrationConfigSchema = z.object({
  ...subgraphEnv('orchestration', 4103, 50053),
  /**
   * Secrets (comma-separated, the first signs, all verify) that worker tokens are minted under and
   * dispatch tokens derived from: workers call only the WorkerRegistry, each for its own id, and run
   * only what this service sends (docs/decisions.md "Worker credentials"). Only this service holds them.
   */
  WORKER_AUTH_SECRETS: env.secretList(WORKER_AUTH_SECRET_MIN_LENGTH),
  /** With GRPC_TLS_DIR: the name workers' certificates carry (they are dialled by pod address), e.g. the worker Service's. */
  WORKER_TLS_SERVER_NAME: z.string().optional(),
  /** Where CatalogService answers: a workflow's appId is checked there. Unset, app ids are taken as given. */
  CATALOG_GRPC_ADDR: z.string().optional(),
  /** How often workers heartbeat (told to them at Register). */
  WORKER_HEARTBEAT_INTERVAL_MS: env.int(5_000, { min: 100, max: 600_000 }),
  /** A worker silent for this long is dropped and its running tasks retried elsewhere. */
  WORKER_LEASE_TTL_MS: env.int(15_000, { min: 300, max: 3_600_000 }),
  /**
   * Under a steady stream of audited mutations (startRun: one audit event each), the least time between
   * two audit relay batches, so the events of that time go to the audit service in one call and one
   * transaction on each side instead of one batch per NOTIFY (issue 11). A lone event goes at once.
   */
  AUDIT_RELAY_GATHER_MS: env.int(200, { min: 0, max: 5_000 }),
  /** How often the reconciler re-enqueues lost queue entries and expires leases. */
  RECONCILE_INTERVAL_MS: env.int(5_000, { min: 100, max: 600_000 }),
  /** Execute calls one dispatcher runs at once per pool, at most (each pool also at most its live workers' slots). */
  DISPATCH_CONCURRENCY: env.int(64, { min: 1, max: 10_000 }),
  /** How long a task waits before it looks again for a worker when none has a free slot. */
  DISPATCH_RETRY_DELAY_MS: env.int(250, { min: 10, max: 60_000 }),
  /** Attempts lost to dead workers that a task survives (these do not use its retry budget). */
  MAX_LOST_ATTEMPTS: env.int(5, { min: 0, max: 100 }),
  /**
   * Every replica says it is alive this often, and then takes over the running attempts of dispatchers
   * not seen for DISPATCHER_LEASE_TTL_MS (at least 3 heartbeats): a crashed orchestration process's
   * attempts are retried within about TTL + one heartbeat (issue 9 item 17), not at the next reconcile.
   */
  DISPATCHER_HEARTBEAT_MS: env.int(1_000, { min: 50, max: 60_000 }),
  /** A dispatcher not seen for this long is presumed dead: its running attempts are retried. */
  DISPATCHER_LEASE_TTL_MS: env.int(10_000, { min: 200, max: 3_600_000 }),
  /** How often buffered progress and log events are written (one transaction per task per flush). */
  EVENT_FLUSH_INTERVAL_MS: env.int(200, { min: 10, max: 10_000 }),
  /** A task's progress is written (and published) at most once per this interval, the latest report kept (issue 9 item 13). */
  TASK_PROGRESS_INTERVAL_MS: env.int(1_000, { min: 0, max: 60_000 }),
  /** A task's log lines are kept at most this many a second on average (bursts of 100) ... */
  TASK_LOG_LINES_PER_SECOND: env.int(20, { min: 1, max: 10_000 }),
  /** ... and this many per attempt in all; the rest are counted in one WARN line. */
  TASK_LOG_LINES_PER_ATTEMPT: env.int(2_000, { min: 1, max: 1_000_000 }),
  /**
   * A task's streamed output (a model's tokens) is written as one TASK_OUTPUT_DELTA event at most this
   * often (a batch waits for the one before it to be written): ~20 a second per task by default.
   */
  TASK_OUTPUT_DELTA_INTERVAL_MS: env.int(50, { min: 10, max: 10_000 }),
  /** Characters of streamed output kept per attempt; past them deltas are dropped (the final output still holds the whole answer). */
  TASK_OUTPUT_STREAM_MAX_CHARS: env.int(1_000_000, { min: 0, max: 50_000_000 }),
  /** Days a finished run keeps its events, for organizations operators set none for (issue 9 item 13) ... */
  RUN_EVENTS_RETENTION_DAYS: env.int(30, { min: 1, max: 3650 }),
  /** ... and days a finished run is kept at all (with its tasks and attempts) ... */
  RUNS_RETENTION_DAYS: env.int(90, { min: 1, max: 3650 }),
  /** ... swept this often by one replica at a time. */
  RETENTION_INTERVAL_MS: env.int(15 * 60_000, { min: 1_000, max: 86_400_000 }),
  /** Entries kept per run stream in Redis (PostgreSQL keeps all). */
  EVENT_STREAM_MAXLEN: env.int(1_000, { min: 10, max: 1_000_000 }),
  EVENT_STREAM_TTL_SECONDS: env.int(86_400, { min: 60, max: 30 * 86_400 }),
  /** On SIGTERM, how long running Execute calls may finish before they are handed back (retried). */
  DRAIN_TIMEOUT_MS: env.int(10_000, { min: 0, max: 600_000 }),
  /** Quotas of an organization operators set none for (0: no limit); see `npm run flow-limits`. Tasks running at once per pool ... */
  ORG_RUNNING_TASKS_PER_POOL: env.int(0, { min: 0, max: 1_000_000 }),
  /** ... runs started per minute (startRun past it: QUOTA_EXCEEDED) ... */
  ORG_RUNS_STARTED_PER_MINUTE: env.int(0, { min: 0, max: 10_000_000 }),
  /** ... tasks waiting to start in all, wait steps not counted (startRun past it: QUOTA_EXCEEDED) ... */
  ORG_QUEUED_TASKS: env.int(0, { min: 0, max: 100_000_000 }),
  /**
   * ... and tasks of wait steps waiting at once (approvals, events, sleeps: no slot, no queue place, but
   * rows that last up to a year; startRun past it: QUOTA_EXCEEDED). Bounded by default, unlike the others.
   */
  ORG_WAITING_TASKS: env.int(100_000, { min: 0, max: 100_000_000 }),
  /** Circuit breaker per worker endpoint: opens at this failure percentage ... */
  BREAKER_ERROR_PERCENT: env.int(50, { min: 1, max: 100 }),
  /** ... once this many calls were seen in the rolling window ... */
  BREAKER_VOLUME_THRESHOLD: env.int(3, { min: 1, max: 1_000 }),
  /** ... and lets one trial call through after this long. */
  BREAKER_RESET_MS: env.int(10_000, { min: 100, max: 600_000 }),
  /**
   * Key-encryption keys of organization secrets: `id:base64-of-32-bytes`, comma-separated, the one
   * that wraps new secrets first (src/secrets/keyring.ts). Unset: secrets cannot be created or used.
   */
  SECRETS_KEYS: secretKeyringEnv,
  /** The artifact store (retention deletes from it) and the size limits (re-checked here whatever the worker did: ARTIFACT_TOO_LARGE). */
  ...artifactEnv,
  /** Artifact download URLs: signed with the first of ARTIFACT_URL_KEYS (the gateway holds the same list), valid this long. */
  ...artifactUrlEnv,
  ...artifactUrlTtlEnv,
  /** The gateway's public origin put in front of download URLs (e.g. https://orchestra.example); empty: paths relative to the gateway. */
  ARTIFACT_URL_BASE: z.string().url().optional(),
  /** Days an organization keeps artifacts when it set no retention of its own (admins set 1..365). */
  ARTIFACT_RETENTION_DAYS: env.int(30, { min: 1, max: 365 }),
  /** How often the retention job looks for expired artifacts (one replica at a time deletes any one artifact). */
  ARTIFACT_RETENTION_INTERVAL_MS: env.int(3_600_000, { min: 1_000, max: 86_400_000 }),
  /** How often the run metrics rollup job folds finished runs into its hourly rows (metrics/rollup-job.ts; every replica runs one, one pass at a time). */
  RUN_METRICS_ROLLUP_INTERVAL_MS: env.int(30_000, { min: 50, max: 3_600_000 }),
  /** A run is folded into the rollup once it finished at least this long ago (and no transaction older than its finish is open). */
  RUN_METRICS_SETTLE_MS: env.int(60_000, { min: 0, max: 3_600_000 }),
  /** How often each replica samples every pool's busy and total slots for the slot usage charts (one row per pool per minute). */
  SLOT_USAGE_SAMPLE_MS: env.int(60_000, { min: 1_000, max: 3_600_000 }),
  /** How often the schedule ticker looks for due schedules (every replica runs one; a tick fires once in all). */
  SCHEDULE_TICK_INTERVAL_MS: env.int(500, { min: 50, max: 60_000 }),
  /** How often the wait ticker ends waits whose deadline came (sleepUntil times, approval and event timeouts; every replica runs one, a wait ends once). */
  WAIT_TICK_INTERVAL_MS: env.int(1_000, { min: 50, max: 60_000 }),
  /** How often a change of the kind of reason a task waits for is looked for and recorded as a TASK_WAITING run event (waits/wait-events.ts; every replica runs one). */
  WAIT_EVENT_INTERVAL_MS: env.int(500, { min: 50, max: 60_000 }),
  /**
   * How long the schedule and wait tickers and the wait-event recorder sleep at most while nothing is due
   * (issue 11: an idle process costs nothing). They still wake at every due time they know of and within
   * their interval of a change this process commits; a change made elsewhere (another replica, SQL by
   * hand) is seen within this.
   */
  IDLE_POLL_MAX_MS: env.int(5_000, { min: 50, max: 600_000 }),
  /** A tick at most this late is on time; older ones were missed and follow the schedule's catchUp policy. */
  SCHEDULE_MISFIRE_GRACE_MS: env.int(5_000, { min: 0, max: 3_600_000 }),
  /** Let "test the connection" of a model provider reach private networks (development, tests); workers guard their own calls. */
  /** Inbound webhooks (POST /hooks/<trigger id>): a body larger than this is refused (BODY_TOO_LARGE) and recorded ... */
  WEBHOOK_MAX_BODY_BYTES: env.int(256 * 1024, { min: 1_024, max: 10 * 1024 * 1024 }),
  /** ... and a trigger's webhook takes at most this many deliveries a minute (more: RATE_LIMITED, recorded). */
  WEBHOOK_RATE_LIMIT_PER_MINUTE: env.int(120, { min: 1, max: 1_000_000 }),
  LLM_PROVIDER_TEST_ALLOW_PRIVATE_NETWORK: env.bool(false),
});

export type OrchestrationConfig = z.infer<typeof orchestrationConfigSchema>;
