/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AcceptInvitationInput = {
  /** Needed when the invitee has no account yet. */
  name?: string | null | undefined;
  /** A new password for a new account, or the existing account's password. */
  password: string;
  token: string;
  /** For an existing account with two-factor on: a code from its authenticator app, or a recovery code. */
  twoFactorCode?: string | null | undefined;
};

export type ApiKeyStatus =
  | 'ACTIVE'
  | 'EXPIRED'
  | 'REVOKED';

export type AppFilter = {
  ownerId?: string | number | null | undefined;
  search?: string | null | undefined;
  status?: Array<AppStatus> | null | undefined;
  tags?: Array<string> | null | undefined;
};

export type AppOrder =
  /** By name, A to Z. */
  | 'NAME'
  /** Most recently created first (the default). */
  | 'NEWEST';

/**
 * Where an app is in its life. Active and paused apps can be changed; archived apps are read-only until
 * restored (they come back paused). Only archived apps can be deleted.
 */
export type AppStatus =
  | 'ACTIVE'
  | 'ARCHIVED'
  | 'PAUSED';

/** How an approval stands. */
export type ApprovalStatus =
  | 'APPROVED'
  /** Its run was cancelled or failed while it waited. */
  | 'CANCELLED'
  | 'REJECTED'
  /** Its timeout ran out (decision per onTimeout). */
  | 'TIMED_OUT'
  | 'WAITING';

export type AttemptStatus =
  | 'CANCELLED'
  | 'FAILED'
  /** The worker or dispatcher went away under it; the task got a new attempt. */
  | 'LOST'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type AuditActorKind =
  | 'ANONYMOUS'
  | 'API_KEY'
  | 'SERVICE'
  | 'USER';

export type AuditChainAnchor =
  | 'ARCHIVE_CHECKPOINT'
  | 'GENESIS'
  | 'NONE'
  | 'PREVIOUS_EVENT';

export type AuditChainBreakReason =
  /** The event's fields no longer produce its stored hash: the row was edited. */
  | 'HASH_MISMATCH'
  /** Events are missing before this position (or the chain ends before a head witnessed outside the database). */
  | 'MISSING_EVENTS'
  /** The event does not link to the hash of the event before it. */
  | 'PREVIOUS_HASH_MISMATCH'
  /** The event differs from the head witnessed outside the database at this position: the chain was rewritten and re-hashed here or earlier. */
  | 'WITNESS_MISMATCH';

export type AuditExportFormat =
  | 'CSV'
  | 'JSON_LINES';

export type AuditLogFilter = {
  /** An exact action (member.invite), or every action under a prefix (member.*). */
  action?: string | null | undefined;
  /** A user id, API key id, service name or "anonymous". */
  actorId?: string | null | undefined;
  actorKind?: AuditActorKind | null | undefined;
  /** Leaves out events with these exact actions (at most 20), e.g. the sign-in noise: auth.refresh, auth.login. */
  excludeActions?: Array<string> | null | undefined;
  /** Events that occurred at or after this time. */
  from?: string | null | undefined;
  /** success, failure (any error), or one error code (FORBIDDEN, BAD_USER_INPUT...). */
  outcome?: string | null | undefined;
  targetId?: string | null | undefined;
  targetType?: string | null | undefined;
  /** Events that occurred at or before this time. */
  to?: string | null | undefined;
};

export type ChangeEmailInput = {
  currentPassword: string;
  newEmail: string;
};

export type ChangePasswordInput = {
  currentPassword: string;
  newPassword: string;
};

export type CompleteSsoSignInInput = {
  /** What startSsoSignIn answered as binding, in this browser. */
  binding: string;
  /** The query string the provider sent the browser back with (?code=…&state=…). */
  callbackQuery: string;
};

export type CompleteTwoFactorSignInInput = {
  /** From the TWO_FACTOR_REQUIRED error of login (extensions.challengeToken). */
  challengeToken: string;
  /** Six digits from the authenticator app, or a recovery code. */
  code: string;
};

export type ConcurrencyInput = {
  /** A template over the run's input ("{{ input.customerId }}") or a constant, at most 200 characters. */
  key: string;
  /** 1 … 10000. */
  limit: number;
  /** Default QUEUE. */
  onLimit?: ConcurrencyStrategy | null | undefined;
};

/** What a run or task whose concurrency key is at its limit does. */
export type ConcurrencyStrategy =
  /** It is cancelled; the ones already there go on. */
  | 'CANCEL_NEWEST'
  /** The oldest one with the same key is cancelled to make room for it. */
  | 'CANCEL_OLDEST'
  /** It waits, in order, until one with the same key ends. */
  | 'QUEUE';

export type ConfigActivationKind =
  /** A new version was published and became current. */
  | 'PUBLISH'
  /** An existing version was made current again. */
  | 'ROLLBACK';

export type ConfigureSsoInput = {
  clientId: string;
  /** Required when the connection is new; left out, the stored secret stays. */
  clientSecret?: string | null | undefined;
  /** ADMIN, OPERATOR or VIEWER (never OWNER). */
  defaultRole: Role;
  /** 1 to 20 e-mail domains (like example.com), each claimed by one organization at most. */
  domains: Array<string>;
  /** https URL of the provider's issuer. */
  issuer: string;
  requireSso: boolean;
  /** 1 to 40 lower-case letters, digits and inner hyphens; unique across Orchestra. */
  slug: string;
};

export type CreateApiKeyInput = {
  /** Optional; must be in the future. */
  expiresAt?: string | null | undefined;
  name: string;
  /** Each from apiKeyScopes; at least one. */
  scopes: Array<string>;
};

export type CreateAppInput = {
  /** A first config, published as version 1. */
  config?: unknown;
  configMessage?: string | null | undefined;
  /** A JSON Schema for the app's config; defaults to any JSON object. */
  configSchema?: unknown;
  description?: string | null | undefined;
  /** Probed on an interval when set (http or https; private addresses are refused unless the service allows them). */
  healthCheckUrl?: string | null | undefined;
  name: string;
  /** A user of the organization; defaults to the caller. */
  ownerId?: string | number | null | undefined;
  /** 2-63 lowercase letters, digits and hyphens; unique in the organization. */
  slug: string;
  tags?: Array<string> | null | undefined;
};

export type CreateLlmProviderInput = {
  /** The name of an existing organization secret holding the API key; omit when none is needed. */
  apiKeySecret?: string | null | undefined;
  baseUrl: string;
  models?: Array<LlmModelAliasInput> | null | undefined;
  name: string;
  pricePer1MInput?: number | null | undefined;
  pricePer1MOutput?: number | null | undefined;
  requestsPerMinute?: number | null | undefined;
  timeoutMs?: number | null | undefined;
  tokensPerMinute?: number | null | undefined;
  workerLocal?: boolean | null | undefined;
};

export type CreateOrganizationInput = {
  name: string;
};

export type CreateRateLimitInput = {
  /** 1 … 1000000 units per window. */
  limit: number;
  /** Letters, digits and _ . : - (at most 63). */
  name: string;
  per: RateLimitPeriod;
};

export type CreateScheduleInput = {
  /** Default NONE. */
  catchUp?: ScheduleCatchUp | null | undefined;
  /** ALL: how many missed ticks run at most (1–100, default 10). */
  catchUpLimit?: number | null | undefined;
  /** 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly; at most once a second. */
  cron: string;
  /** The run input of every tick (a JSON object, at most 64 KiB). */
  input?: unknown;
  /** Default SKIP. */
  overlap?: ScheduleOverlap | null | undefined;
  /** An IANA time zone (Europe/Berlin); default UTC. Ticks follow its daylight-saving changes. */
  timezone?: string | null | undefined;
  workflowId: string | number;
};

export type CreateTriggerInput = {
  /** 1–128 characters: letters, digits and . _ : / - (order.paid). */
  eventName: string;
  /** At most 10 conditions, all must hold: [{ "path": "/order/status", "equals": "paid" }] (path: a JSON pointer into the payload). */
  filter?: unknown;
  /** Give the trigger an inbound webhook: POST /hooks/<id> on the gateway, signed with the secret in the answer. */
  webhook?: boolean | null | undefined;
  workflowId: string | number;
};

export type CreateWebhookEndpointInput = {
  description?: string | null | undefined;
  /** Event names from notificationEventTypes, e.g. ["run.failed"]. */
  events: Array<string>;
  url: string;
};

export type CreateWorkflowInput = {
  appId?: string | number | null | undefined;
  /** At most `limit` runs with the same key at once. */
  concurrency?: ConcurrencyInput | null | undefined;
  description?: string | null | undefined;
  name: string;
  /** 1 (lowest) … 5 (highest); default 3. */
  priority?: number | null | undefined;
  steps: Array<StepInput>;
};

export type DeadLetterFilter = {
  /** Only entries whose error has this code (TIMEOUT, HTTP_503...). */
  errorCode?: string | null | undefined;
  /** Replayed and discarded entries too. */
  includeReplayed?: boolean | null | undefined;
  runId?: string | number | null | undefined;
  /** Only entries of this step. */
  stepId?: string | null | undefined;
  /** Only entries of runs of this workflow. */
  workflowId?: string | number | null | undefined;
};

/** How a user gets e-mail: each event as it happens, a digest of what happened in a window, or none (required events still come). */
export type EmailMode =
  | 'DIGEST'
  | 'EACH'
  | 'OFF';

export type EventNotificationPreferenceInput = {
  email: boolean;
  inApp: boolean;
  type: string;
};

export type ForEachInput = {
  /** One template that reads a list: "{{ steps.list.output.files }}" or "{{ input.items }}" (at most 10000 items at run time). */
  items: string;
  /** 1 … 1000, default 10. */
  maxParallel?: number | null | undefined;
  /** Default FAIL_RUN. */
  onItemFailure?: ItemFailurePolicy | null | undefined;
};

/** What the last health probes say about an app's health-check URL. */
export type HealthStatus =
  | 'DOWN'
  /** Not probed yet since monitoring started (or the URL changed). */
  | 'UNKNOWN'
  | 'UP';

export type InboundDeliveryOutcome =
  | 'ACCEPTED'
  | 'REFUSED';

export type InvitationStatus =
  | 'ACCEPTED'
  | 'EXPIRED'
  | 'PENDING'
  | 'REVOKED';

export type InviteMemberInput = {
  email: string;
  role: Role;
};

/** What a forEach step does when an item fails after its retries. */
export type ItemFailurePolicy =
  /** The other items go on; the failed item's result is null. */
  | 'CONTINUE'
  /** The step and its run fail; the other items are cancelled. */
  | 'FAIL_RUN';

export type LabelInput = {
  key: string;
  value: string;
};

export type LlmModelAliasInput = {
  /** The name steps use. */
  alias: string;
  /** The provider's name for it. */
  model: string;
  /** Both prices, or neither (the provider's apply). */
  pricePer1MInput?: number | null | undefined;
  pricePer1MOutput?: number | null | undefined;
};

export type LoginInput = {
  email: string;
  organizationId?: string | number | null | undefined;
  password: string;
};

/** The width of runMetrics' time buckets (aligned to UTC). */
export type MetricsBucket =
  | 'DAY'
  | 'FIVE_MINUTES'
  | 'HOUR';

export type NotificationPreferencesInput = {
  emailMode?: EmailMode | null | undefined;
  /** At most one entry per event type. */
  events?: Array<EventNotificationPreferenceInput> | null | undefined;
};

export type RateLimitPeriod =
  | 'HOUR'
  | 'MINUTE'
  | 'SECOND';

export type RateLimitUseInput = {
  name: string;
  /** Default 1. */
  units?: number | null | undefined;
};

/** What a rejected approval does. */
export type RejectOutcome =
  /** The step succeeds with decision REJECTED in its output (downstream steps read {{ steps.<id>.output.decision }}). */
  | 'CONTINUE'
  /** The task fails with APPROVAL_REJECTED, and its run with it. */
  | 'FAIL_RUN';

export type ResetPasswordInput = {
  newPassword: string;
  /** The token from the reset link. */
  token: string;
};

export type RetryPolicyInput = {
  /** Default 2. */
  backoffFactor?: number | null | undefined;
  /** Default 1000. */
  initialDelayMs?: number | null | undefined;
  /** Default 3. */
  maxAttempts?: number | null | undefined;
  /** Default 60000. */
  maxDelayMs?: number | null | undefined;
};

/** A member's role in an organization. Each role can do everything the roles below it can. */
export type Role =
  /** Manages members (except owners), invitations and API keys. */
  | 'ADMIN'
  /** Runs and manages automation. */
  | 'OPERATOR'
  /** Everything, including granting and taking away the owner role. An organization always keeps at least one. */
  | 'OWNER'
  /** Reads. */
  | 'VIEWER';

export type RunEventKind =
  | 'RUN_STATUS'
  | 'TASK_LOG'
  /** A piece of a task's output as it is produced (a model's tokens), at most ~20 a second per task. */
  | 'TASK_OUTPUT_DELTA'
  | 'TASK_PROGRESS'
  | 'TASK_STATUS'
  /** The kind of reason a task that has not started waits for changed (waitReason; null: no particular reason any more). One per change of kind, never after the task started. */
  | 'TASK_WAITING';

export type RunFilter = {
  appId?: string | number | null | undefined;
  createdAfter?: string | null | undefined;
  createdBefore?: string | null | undefined;
  /** A run id, or an idempotency key (exact, at most 200 characters). */
  search?: string | null | undefined;
  /** Runs started by this user. */
  startedBy?: string | number | null | undefined;
  status?: Array<RunStatus> | null | undefined;
  workflowId?: string | number | null | undefined;
};

export type RunStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  /** Started for later (startAt): nothing runs until then; cancellable. */
  | 'SCHEDULED'
  | 'SUCCEEDED';

/** What happens to ticks missed while no orchestration process was running. */
export type ScheduleCatchUp =
  /** The latest catchUpLimit of them run, oldest first. */
  | 'ALL'
  /** The latest of them runs once. */
  | 'LAST'
  /** They are not run. */
  | 'NONE';

export type ScheduleFireOutcome =
  /** Missed: no orchestration process handled it in time (down or overloaded) and the catch-up policy does not run it (reason). */
  | 'MISSED'
  /** Waits behind a run of the schedule that has not ended (overlap QUEUE). */
  | 'QUEUED'
  /** Not run: overlap SKIP, a full queue, or the run could not start (reason). */
  | 'SKIPPED'
  | 'STARTED';

/** What a tick does while a run the schedule started has not ended. */
export type ScheduleOverlap =
  /** That run is cancelled and the tick starts a new one. */
  | 'CANCEL_PREVIOUS'
  /** The tick waits (QUEUED, at most 10) and starts when that run ends. */
  | 'QUEUE'
  /** The tick is skipped (recorded as SKIPPED). */
  | 'SKIP';

export type SignUpInput = {
  email: string;
  name: string;
  organizationName: string;
  password: string;
};

export type StartRunInput = {
  /** Starting again with the same key returns the first run (24 h+; keys are kept with the run). */
  idempotencyKey?: string | null | undefined;
  /** The run's input, a JSON object (steps read it as {{ input.x }}). */
  input?: unknown;
  /** 1 (lowest) to 5 (highest): its tasks' priority where their step sets none (default: the workflow's, else 3). */
  priority?: number | null | undefined;
  /** Start later: the run is SCHEDULED until then (cancellable), at most a year ahead; a time already past starts it now. */
  startAt?: string | null | undefined;
  /** Default: the latest version. */
  version?: number | null | undefined;
  /** The workflow's id, or */
  workflowId?: string | number | null | undefined;
  /** its name. */
  workflowName?: string | null | undefined;
};

export type StartSsoSignInInput = {
  /** A work e-mail address: its domain finds the organization. */
  email?: string | null | undefined;
  /** Or the organization's SSO slug. */
  slug?: string | null | undefined;
};

export type StepInput = {
  capability: string;
  /** At most `limit` tasks of this step with the same key at once (across runs). */
  concurrency?: ConcurrencyInput | null | undefined;
  dependsOn?: Array<string> | null | undefined;
  /** Runs the step once per item of a list. */
  forEach?: ForEachInput | null | undefined;
  id: string;
  input?: unknown;
  /** Labels a worker must carry to run it (e.g. gpu=a100). */
  labels?: Array<LabelInput> | null | undefined;
  /** Default "default". */
  pool?: string | null | undefined;
  /** 1 (lowest) … 5 (highest); default: the run's, else the workflow's, else 3. */
  priority?: number | null | undefined;
  /** 1 … 86400000: how long a task may wait to start (for a worker, a GPU, flow control) before it fails as QUEUE_TIMEOUT. Default: none, or 3600000 for a step with resources. */
  queueTimeoutMs?: number | null | undefined;
  /** Named rate limits of the organization each task consumes when it starts (units default 1). */
  rateLimits?: Array<RateLimitUseInput> | null | undefined;
  /** The GPUs it needs of a worker (placed only where they fit; never on a worker without GPUs). */
  resources?: StepResourcesInput | null | undefined;
  retry?: RetryPolicyInput | null | undefined;
  /** Default 300000 (5 minutes). */
  timeoutMs?: number | null | undefined;
  /** Makes the step a wait step (its capability must be "wait"): it holds its run, not a worker slot, until an approval, an event or a time. */
  wait?: WaitInput | null | undefined;
};

export type StepResourcesInput = {
  /** 1 … 1048576 MiB free on each of them. */
  gpuMemoryMiB: number;
  /** Part of the GPU's model name, case-insensitive ("A100"), at most 100 characters. */
  gpuModel?: string | null | undefined;
  /** 1 … 16 GPUs of one worker. */
  gpus: number;
};

export type TaskStatus =
  | 'CANCELLED'
  | 'FAILED'
  /** Waits for its dependencies. */
  | 'PENDING'
  /** Waits for a worker (or for its retry delay). */
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

/** What a task waits for (subgraphs/orchestration/src/domain/wait-reasons.ts lists the same kinds). */
export type TaskWaitKind =
  /** A wait step holds for a person's approval. */
  | 'APPROVAL'
  /** Its concurrency key has as many runs or tasks as its limit allows. */
  | 'CONCURRENCY_KEY'
  /** A wait step holds for a matching event. */
  | 'EVENT'
  /** Slots go to other organizations in turn. */
  | 'FAIR_SHARE'
  /** No worker has the GPU memory it asks for free now. */
  | 'GPU'
  /** No live worker that runs it serves its worker-local model providers (declares the LLM servers on its own machine that they use). */
  | 'LOCAL_PROVIDER'
  /** A forEach item waits for one of its step's maxParallel places. */
  | 'MAX_PARALLEL'
  /** Workers that can run it exist, but none has a free slot. */
  | 'NO_FREE_SLOT'
  /** No live worker in its pool has the capability and labels it needs. */
  | 'NO_WORKER'
  /** Work of its organization with a higher priority is queued ahead of it in its pool, which a live worker could run it in (the message names how many tasks of which priority go first). Starvation is bounded by aging: a task's queue place is the minute it was queued plus one per priority level below 5, so work of priority p passes a task of priority q only if queued at most p − q minutes after it (4 minutes for 5 over 1). */
  | 'PRIORITY'
  /** Its organization is at one of its quotas. */
  | 'QUOTA'
  /** A rate limit it consumes has no units left in its window. */
  | 'RATE_LIMIT'
  /** Its retry delay has not run out yet. */
  | 'RETRY_BACKOFF'
  /** It holds until a time (a wait step, or a run started for later). */
  | 'SCHEDULE';

export type UpdateAppInput = {
  description?: string | null | undefined;
  healthCheckUrl?: string | null | undefined;
  name?: string | null | undefined;
  ownerId?: string | number | null | undefined;
  slug?: string | null | undefined;
  tags?: Array<string> | null | undefined;
};

/** Omitted fields keep their value; null clears apiKeySecret, requestsPerMinute, tokensPerMinute and timeoutMs. */
export type UpdateLlmProviderInput = {
  apiKeySecret?: string | null | undefined;
  baseUrl?: string | null | undefined;
  models?: Array<LlmModelAliasInput> | null | undefined;
  pricePer1MInput?: number | null | undefined;
  pricePer1MOutput?: number | null | undefined;
  requestsPerMinute?: number | null | undefined;
  timeoutMs?: number | null | undefined;
  tokensPerMinute?: number | null | undefined;
  workerLocal?: boolean | null | undefined;
};

export type UpdateProfileInput = {
  name: string;
};

export type UpdateRateLimitInput = {
  limit?: number | null | undefined;
  per?: RateLimitPeriod | null | undefined;
};

export type UpdateScheduleInput = {
  catchUp?: ScheduleCatchUp | null | undefined;
  catchUpLimit?: number | null | undefined;
  cron?: string | null | undefined;
  input?: unknown;
  overlap?: ScheduleOverlap | null | undefined;
  timezone?: string | null | undefined;
};

export type UpdateWebhookEndpointInput = {
  description?: string | null | undefined;
  enabled?: boolean | null | undefined;
  events?: Array<string> | null | undefined;
  url?: string | null | undefined;
};

/** What usageSeries splits each day by. */
export type UsageSplitBy =
  /** An app's id ('' for runs of no app). */
  | 'APP'
  /** The model that answered (the provider's name for it; GPU time under ''). */
  | 'MODEL'
  /** A provider's name (GPU time is no provider's: it shows under ''), as in usage(groupBy: PROVIDER). */
  | 'PROVIDER'
  /** A workflow's id. */
  | 'WORKFLOW';

export type WaitCorrelationInput = {
  /** A template over the run's input or upstream outputs ("{{ input.orderId }}"): a string, number or boolean when the step starts waiting. */
  key: string;
  /** A JSON pointer into the event's payload ("/orderId") whose value must equal the key's. */
  path: string;
};

export type WaitInput = {
  /** EVENT: only an event whose payload matches this run resumes it. */
  correlation?: WaitCorrelationInput | null | undefined;
  /** EVENT: the event's name. */
  event?: string | null | undefined;
  /** EVENT: at most 10 conditions on the payload, all must hold: [{ "path": "/status", "equals": "paid" }]. */
  filter?: unknown;
  kind: WaitKind;
  /** APPROVAL: what the approver reads (templates allowed, at most 2000 characters). */
  message?: string | null | undefined;
  /** APPROVAL: FAIL_RUN (default) or CONTINUE. */
  onReject?: RejectOutcome | null | undefined;
  /** APPROVAL: FAIL (default), APPROVE or REJECT; EVENT: FAIL (default) or CONTINUE. */
  onTimeout?: WaitTimeoutOutcome | null | undefined;
  /** APPROVAL: roles that may decide (operator, admin, owner; default all three; an owner always may, a viewer never). */
  roles?: Array<string> | null | undefined;
  /** APPROVAL, EVENT: 1 … 31622400 (a year); default 604800 (7 days). */
  timeoutSeconds?: number | null | undefined;
  /** SLEEP_UNTIL: an ISO 8601 time, or a template that reads one ("{{ input.remindAt }}"); at most a year ahead when the step starts waiting. */
  until?: string | null | undefined;
};

/** What a wait step waits for. */
export type WaitKind =
  /** A person's decision (approveTask / rejectTask). */
  | 'APPROVAL'
  /** An emitted event of a name (with an optional filter and correlation). */
  | 'EVENT'
  /** A time. */
  | 'SLEEP_UNTIL';

/** What happens when a wait's timeout runs out. */
export type WaitTimeoutOutcome =
  /** APPROVAL: approved (decidedBy null, timedOut true). */
  | 'APPROVE'
  /** EVENT: the step succeeds with a null output and the run goes on. */
  | 'CONTINUE'
  /** The task fails with WAIT_TIMED_OUT, and its run with it. */
  | 'FAIL'
  /** APPROVAL: rejected, then onReject. */
  | 'REJECT';

export type WebhookDeliveryStatus =
  | 'FAILED'
  | 'PENDING'
  | 'SUCCEEDED';

export type WorkerFilter = {
  capability?: string | null | undefined;
  pool?: string | null | undefined;
  status?: Array<WorkerStatus> | null | undefined;
};

export type WorkerStatus =
  /** Stopped heartbeating: dropped, its running tasks retried elsewhere. */
  | 'LOST'
  /** Deregistered. */
  | 'OFFLINE'
  | 'ONLINE';

export type WorkflowFilter = {
  appId?: string | number | null | undefined;
  /** Part of the name (case-insensitive). */
  search?: string | null | undefined;
};

export type UsageSeriesQueryVariables = Exact<{
  from: string;
  to: string;
  splitBy: UsageSplitBy;
}>;


export type UsageSeriesQuery = { usageSeries: Array<{ day: string, key: string, calls: number, failedCalls: number, promptTokens: number, completionTokens: number, totalTokens: number, costUsd: number, gpuSeconds: number, app: { id: string, name: string } | null, workflow: { id: string, name: string } | null }> };

export type LlmProvidersQueryVariables = Exact<{ [key: string]: never; }>;


export type LlmProvidersQuery = { llmProviders: Array<{ id: string, name: string, baseUrl: string, apiKeySecret: string | null, pricePer1MInput: number, pricePer1MOutput: number, requestsPerMinute: number | null, tokensPerMinute: number | null, timeoutMs: number | null, workerLocal: boolean, updatedAt: string, updatedBy: string, models: Array<{ alias: string, model: string, pricePer1MInput: number | null, pricePer1MOutput: number | null }> }> };

export type ProviderSecretChoicesQueryVariables = Exact<{ [key: string]: never; }>;


export type ProviderSecretChoicesQuery = { secrets: Array<{ id: string, name: string }> };

export type CreateLlmProviderMutationVariables = Exact<{
  input: CreateLlmProviderInput;
}>;


export type CreateLlmProviderMutation = { createLlmProvider: { id: string, name: string } };

export type UpdateLlmProviderMutationVariables = Exact<{
  id: string | number;
  input: UpdateLlmProviderInput;
}>;


export type UpdateLlmProviderMutation = { updateLlmProvider: { id: string, name: string } };

export type DeleteLlmProviderMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteLlmProviderMutation = { deleteLlmProvider: { id: string, name: string } };

export type TestLlmProviderMutationVariables = Exact<{
  id: string | number;
  model?: string | null | undefined;
}>;


export type TestLlmProviderMutation = { testLlmProvider: { ok: boolean, model: string | null, latencyMs: number | null, message: string | null } };

export type ApprovalFieldsFragment = { id: string, stepId: string, status: ApprovalStatus, message: string | null, roles: Array<string>, canDecide: boolean, waitingSince: string, deadline: string, onTimeout: WaitTimeoutOutcome, decision: string | null, decidedBy: string | null, comment: string | null, decidedAt: string | null };

export type PendingApprovalsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type PendingApprovalsQuery = { pendingApprovals: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, stepId: string, status: ApprovalStatus, message: string | null, roles: Array<string>, canDecide: boolean, waitingSince: string, deadline: string, onTimeout: WaitTimeoutOutcome, decision: string | null, decidedBy: string | null, comment: string | null, decidedAt: string | null, task: { id: string }, run: { id: string, status: RunStatus, workflow: { id: string, name: string } } } }> } };

export type PendingApprovalCountQueryVariables = Exact<{ [key: string]: never; }>;


export type PendingApprovalCountQuery = { pendingApprovals: { totalCount: number } };

export type TaskApprovalQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskApprovalQuery = { task: { id: string, approval: { id: string, stepId: string, status: ApprovalStatus, message: string | null, roles: Array<string>, canDecide: boolean, waitingSince: string, deadline: string, onTimeout: WaitTimeoutOutcome, decision: string | null, decidedBy: string | null, comment: string | null, decidedAt: string | null } | null } | null };

export type ApproveTaskMutationVariables = Exact<{
  taskId: string | number;
  comment?: string | null | undefined;
}>;


export type ApproveTaskMutation = { approveTask: { id: string, status: TaskStatus } };

export type RejectTaskMutationVariables = Exact<{
  taskId: string | number;
  comment?: string | null | undefined;
}>;


export type RejectTaskMutation = { rejectTask: { id: string, status: TaskStatus } };

export type AppsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: AppFilter | null | undefined;
  orderBy?: AppOrder | null | undefined;
}>;


export type AppsQuery = { apps: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, slug: string, name: string, description: string, status: AppStatus, tags: Array<string>, updatedAt: string, health: { status: HealthStatus, since: string, uptime: { ratio: number | null } } | null } }> } };

export type AppQueryVariables = Exact<{
  id: string | number;
}>;


export type AppQuery = { app: { id: string, slug: string, name: string, description: string, status: AppStatus, tags: Array<string>, createdAt: string, updatedAt: string, healthCheckUrl: string | null, configSchema: unknown, configSchemaVersion: number, owner: { id: string, email: string, name: string } | null, health: { status: HealthStatus, since: string, lastCheckedAt: string | null, lastLatencyMs: number | null, lastHttpStatus: number | null, lastError: string | null, checksTotal: number, checksFailed: number, monitoringSince: string, day: { ratio: number | null, upSeconds: number, downSeconds: number, unknownSeconds: number }, week: { ratio: number | null }, history: { edges: Array<{ node: { id: string, status: HealthStatus, previousStatus: HealthStatus, changedAt: string, httpStatus: number | null, error: string | null } }> } } | null, currentConfig: { version: number } | null, configVersions: { edges: Array<{ node: { version: number, config: unknown, message: string, schemaVersion: number, createdAt: string, isCurrent: boolean, createdBy: { email: string } | null } }> }, configActivations: { edges: Array<{ node: { id: string, version: number, previousVersion: number | null, kind: ConfigActivationKind, reason: string, activatedAt: string, activatedBy: { email: string } | null } }> }, stats: { runs: number, succeeded: number, failed: number, cancelled: number, active: number, successRate: number | null, p50DurationMs: number | null, p95DurationMs: number | null }, workflows: Array<{ id: string, name: string }> } | null };

export type CreateAppMutationVariables = Exact<{
  input: CreateAppInput;
}>;


export type CreateAppMutation = { createApp: { id: string, slug: string } };

export type PublishAppConfigMutationVariables = Exact<{
  appId: string | number;
  config: unknown;
  message?: string | null | undefined;
}>;


export type PublishAppConfigMutation = { publishAppConfig: { version: number } };

export type RollbackAppConfigMutationVariables = Exact<{
  appId: string | number;
  version: number;
  reason?: string | null | undefined;
}>;


export type RollbackAppConfigMutation = { rollbackAppConfig: { version: number, isCurrent: boolean } };

export type PauseAppMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseAppMutation = { pauseApp: { id: string, status: AppStatus } };

export type ResumeAppMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeAppMutation = { resumeApp: { id: string, status: AppStatus } };

export type ArchiveAppMutationVariables = Exact<{
  id: string | number;
}>;


export type ArchiveAppMutation = { archiveApp: { id: string, status: AppStatus } };

export type RestoreAppMutationVariables = Exact<{
  id: string | number;
}>;


export type RestoreAppMutation = { restoreApp: { id: string, status: AppStatus } };

export type UpdateAppMutationVariables = Exact<{
  id: string | number;
  input: UpdateAppInput;
}>;


export type UpdateAppMutation = { updateApp: { id: string, slug: string, name: string, description: string, tags: Array<string>, healthCheckUrl: string | null, owner: { id: string, email: string, name: string } | null } };

export type AuditLogQueryVariables = Exact<{
  filter?: AuditLogFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type AuditLogQuery = { auditLog: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, sequence: number, occurredAt: string, service: string, action: string, targetType: string, targetId: string | null, outcome: string, requestId: string, ip: string | null, userAgent: string | null, diff: unknown, actor: { kind: AuditActorKind, id: string, display: string | null } } }> } };

export type AuditLogExportQueryVariables = Exact<{
  filter?: AuditLogFilter | null | undefined;
  format: AuditExportFormat;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type AuditLogExportQuery = { auditLogExport: { format: AuditExportFormat, contentType: string, fileName: string, content: string, eventCount: number, nextCursor: string | null } };

export type VerifyAuditChainQueryVariables = Exact<{
  from?: string | null | undefined;
  to?: string | null | undefined;
}>;


export type VerifyAuditChainQuery = { verifyAuditChain: { ok: boolean, checkedEvents: number, firstSequence: number | null, lastSequence: number | null, anchor: AuditChainAnchor, witnessedHeadsChecked: number, break: { reason: AuditChainBreakReason, sequence: number, message: string, expected: string | null, actual: string | null } | null } };

export type WorkersQueryVariables = Exact<{
  filter?: WorkerFilter | null | undefined;
}>;


export type WorkersQuery = { workers: Array<{ id: string, endpoint: string | null, pool: string, capabilities: Array<string>, slotsTotal: number, slotsFree: number, running: number, version: string | null, llmEndpoints: Array<string> | null, status: WorkerStatus, registeredAt: string, lastHeartbeatAt: string, leaseExpiresAt: string, labels: Array<{ key: string, value: string }>, resources: { cpuCount: number, cpuLoad: number, memoryTotalBytes: number, memoryUsedBytes: number, gpus: Array<{ index: number, model: string, memoryTotalBytes: number, memoryUsedBytes: number, utilizationPercent: number }> } | null }> };

export type TriggersQueryVariables = Exact<{ [key: string]: never; }>;


export type TriggersQuery = { triggers: Array<{ id: string, eventName: string, filter: unknown, hasWebhook: boolean, webhookUrl: string | null, webhookSecretRotatedAt: string | null, createdAt: string, workflow: { id: string, name: string } }>, workflows: { edges: Array<{ node: { id: string, name: string } }> } };

export type TriggerDeliveriesQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
}>;


export type TriggerDeliveriesQuery = { trigger: { id: string, deliveries: Array<{ id: string, receivedAt: string, outcome: InboundDeliveryOutcome, reason: string | null, message: string | null, bodyBytes: number, sourceIp: string | null, event: { id: string, starts: Array<{ error: string | null, run: { id: string, status: RunStatus } | null }> } | null }> } | null };

export type CreateTriggerMutationVariables = Exact<{
  input: CreateTriggerInput;
}>;


export type CreateTriggerMutation = { createTrigger: { webhookSecret: string | null, trigger: { id: string, webhookUrl: string | null } } };

export type RotateTriggerSecretMutationVariables = Exact<{
  id: string | number;
}>;


export type RotateTriggerSecretMutation = { rotateTriggerSecret: { webhookSecret: string | null, trigger: { id: string, webhookUrl: string | null } } };

export type DeleteTriggerMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteTriggerMutation = { deleteTrigger: { id: string } };

export type SchedulesQueryVariables = Exact<{ [key: string]: never; }>;


export type SchedulesQuery = { schedules: Array<{ id: string, cron: string, timezone: string, overlap: ScheduleOverlap, catchUp: ScheduleCatchUp, paused: boolean, nextFireAt: string | null, lastFireAt: string | null, nextRuns: Array<string>, workflow: { id: string, name: string } }> };

export type PauseScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseScheduleMutation = { pauseSchedule: { id: string, paused: boolean, nextFireAt: string | null } };

export type ResumeScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeScheduleMutation = { resumeSchedule: { id: string, paused: boolean, nextFireAt: string | null } };

export type UpdateScheduleMutationVariables = Exact<{
  id: string | number;
  input: UpdateScheduleInput;
}>;


export type UpdateScheduleMutation = { updateSchedule: { id: string, cron: string, timezone: string, nextFireAt: string | null } };

export type ScheduleFormQueryVariables = Exact<{ [key: string]: never; }>;


export type ScheduleFormQuery = { workflows: { edges: Array<{ node: { id: string, name: string } }> } };

export type CronPreviewQueryVariables = Exact<{
  cron: string;
  timezone?: string | null | undefined;
  n?: number | null | undefined;
}>;


export type CronPreviewQuery = { cronPreview: { cron: string, timezone: string, nextRuns: Array<string> } };

export type CreateScheduleMutationVariables = Exact<{
  input: CreateScheduleInput;
}>;


export type CreateScheduleMutation = { createSchedule: { id: string, cron: string, timezone: string, nextFireAt: string | null } };

export type DeleteScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteScheduleMutation = { deleteSchedule: { id: string } };

export type ScheduleFiresQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
}>;


export type ScheduleFiresQuery = { schedule: { id: string, fires: Array<{ tickAt: string, outcome: ScheduleFireOutcome, reason: string | null, firedAt: string, run: { id: string, status: RunStatus } | null }> } | null };

export type AuthPayloadFieldsFragment = { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } };

export type LoginMutationVariables = Exact<{
  input: LoginInput;
}>;


export type LoginMutation = { login: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type SignUpMutationVariables = Exact<{
  input: SignUpInput;
}>;


export type SignUpMutation = { signUp: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type RefreshTokenMutationVariables = Exact<{
  refreshToken: string;
}>;


export type RefreshTokenMutation = { refreshToken: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type LogoutMutationVariables = Exact<{
  refreshToken: string;
}>;


export type LogoutMutation = { logout: boolean };

export type SwitchOrganizationMutationVariables = Exact<{
  organizationId: string | number;
  refreshToken?: string | null | undefined;
}>;


export type SwitchOrganizationMutation = { switchOrganization: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type AcceptInvitationMutationVariables = Exact<{
  input: AcceptInvitationInput;
}>;


export type AcceptInvitationMutation = { acceptInvitation: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type CreateOrganizationMutationVariables = Exact<{
  input: CreateOrganizationInput;
}>;


export type CreateOrganizationMutation = { createOrganization: { id: string, name: string } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { role: Role, twoFactorEnrollmentRequired: boolean, user: { id: string, email: string, name: string, emailVerified: boolean, pendingEmail: string | null, twoFactorEnabled: boolean }, organization: { id: string, name: string, requireTwoFactor: boolean | null }, memberships: Array<{ id: string, role: Role, organization: { id: string, name: string } }> } };

export type MembersQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  search?: string | null | undefined;
  withApiKeys?: boolean | null | undefined;
}>;


export type MembersQuery = { members: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, role: Role, createdAt: string, activeApiKeysCreated?: number, user: { id: string, email: string, name: string, twoFactorEnabled?: boolean } } }> } };

export type ChangeMemberRoleMutationVariables = Exact<{
  id: string | number;
  role: Role;
}>;


export type ChangeMemberRoleMutation = { changeMemberRole: { id: string, role: Role } };

export type RemoveMemberMutationVariables = Exact<{
  id: string | number;
}>;


export type RemoveMemberMutation = { removeMember: { id: string } };

export type InvitationsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  includeClosed?: boolean | null | undefined;
}>;


export type InvitationsQuery = { invitations: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, email: string, role: Role, status: InvitationStatus, createdAt: string, expiresAt: string, acceptedAt: string | null, revokedAt: string | null, invitedBy: { email: string } | null } }> } };

export type InviteMemberMutationVariables = Exact<{
  input: InviteMemberInput;
}>;


export type InviteMemberMutation = { inviteMember: { token: string, invitation: { id: string, email: string, role: Role, expiresAt: string } } };

export type RevokeInvitationMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeInvitationMutation = { revokeInvitation: { id: string, status: InvitationStatus } };

export type ApiKeysQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  includeRevoked?: boolean | null | undefined;
}>;


export type ApiKeysQuery = { apiKeys: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, scopes: Array<string>, status: ApiKeyStatus, createdAt: string, expiresAt: string | null, lastUsedAt: string | null, revokedAt: string | null, createdBy: { email: string } | null } }> }, apiKeyScopes: Array<{ name: string, description: string }> };

export type CreateApiKeyMutationVariables = Exact<{
  input: CreateApiKeyInput;
}>;


export type CreateApiKeyMutation = { createApiKey: { key: string, apiKey: { id: string, name: string, scopes: Array<string> } } };

export type RevokeApiKeyMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeApiKeyMutation = { revokeApiKey: { id: string, status: ApiKeyStatus, revokedAt: string | null } };

export type UpdateProfileMutationVariables = Exact<{
  input: UpdateProfileInput;
}>;


export type UpdateProfileMutation = { updateProfile: { id: string, email: string, name: string } };

export type ChangePasswordMutationVariables = Exact<{
  input: ChangePasswordInput;
}>;


export type ChangePasswordMutation = { changePassword: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type RequestPasswordResetMutationVariables = Exact<{
  email: string;
}>;


export type RequestPasswordResetMutation = { requestPasswordReset: boolean };

export type ResetPasswordMutationVariables = Exact<{
  input: ResetPasswordInput;
}>;


export type ResetPasswordMutation = { resetPassword: boolean };

export type VerifyEmailMutationVariables = Exact<{
  token: string;
}>;


export type VerifyEmailMutation = { verifyEmail: boolean };

export type ResendVerificationEmailMutationVariables = Exact<{ [key: string]: never; }>;


export type ResendVerificationEmailMutation = { resendVerificationEmail: boolean };

export type ChangeEmailMutationVariables = Exact<{
  input: ChangeEmailInput;
}>;


export type ChangeEmailMutation = { changeEmail: boolean };

export type CompleteTwoFactorSignInMutationVariables = Exact<{
  input: CompleteTwoFactorSignInInput;
}>;


export type CompleteTwoFactorSignInMutation = { completeTwoFactorSignIn: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type StartTwoFactorEnrollmentMutationVariables = Exact<{ [key: string]: never; }>;


export type StartTwoFactorEnrollmentMutation = { startTwoFactorEnrollment: { secret: string, otpauthUrl: string } };

export type ConfirmTwoFactorEnrollmentMutationVariables = Exact<{
  code: string;
}>;


export type ConfirmTwoFactorEnrollmentMutation = { confirmTwoFactorEnrollment: { recoveryCodes: Array<string> } };

export type DisableTwoFactorMutationVariables = Exact<{
  currentPassword: string;
}>;


export type DisableTwoFactorMutation = { disableTwoFactor: boolean };

export type SetTwoFactorRequiredMutationVariables = Exact<{
  required: boolean;
}>;


export type SetTwoFactorRequiredMutation = { setTwoFactorRequired: { id: string, requireTwoFactor: boolean | null } };

export type ResetMemberTwoFactorMutationVariables = Exact<{
  membershipId: string | number;
}>;


export type ResetMemberTwoFactorMutation = { resetMemberTwoFactor: { id: string, user: { id: string, twoFactorEnabled: boolean } } };

export type RateLimitsQueryVariables = Exact<{ [key: string]: never; }>;


export type RateLimitsQuery = { rateLimits: Array<{ id: string, name: string, limit: number, per: RateLimitPeriod, used: number, createdBy: string, updatedAt: string }> };

export type CreateRateLimitMutationVariables = Exact<{
  input: CreateRateLimitInput;
}>;


export type CreateRateLimitMutation = { createRateLimit: { id: string, name: string, limit: number, per: RateLimitPeriod } };

export type UpdateRateLimitMutationVariables = Exact<{
  id: string | number;
  input: UpdateRateLimitInput;
}>;


export type UpdateRateLimitMutation = { updateRateLimit: { id: string, name: string, limit: number, per: RateLimitPeriod } };

export type DeleteRateLimitMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteRateLimitMutation = { deleteRateLimit: { id: string } };

export type OrganizationLimitsQueryVariables = Exact<{ [key: string]: never; }>;


export type OrganizationLimitsQuery = { organizationLimits: { runningTasksPerPool: number | null, runsStartedPerMinute: number | null, queuedTasks: number | null, weight: number, pools: Array<string>, usage: { runsStartedLastMinute: number, queuedTasks: number, runningTasks: Array<{ pool: string, running: number }> } } };

export type RunMetricsQueryVariables = Exact<{
  from: string;
  to: string;
  bucket: MetricsBucket;
  workflowId?: string | number | null | undefined;
  appId?: string | number | null | undefined;
  workerId?: string | number | null | undefined;
}>;


export type RunMetricsQuery = { runMetrics: { from: string, to: string, bucket: MetricsBucket, buckets: Array<{ start: string, counts: { total: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number, scheduled: number, failureRate: number | null, p50DurationMs: number | null, p95DurationMs: number | null, p50QueueWaitMs: number | null, p95QueueWaitMs: number | null } }>, totals: { total: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number, scheduled: number, failureRate: number | null, p50DurationMs: number | null, p95DurationMs: number | null, p50QueueWaitMs: number | null, p95QueueWaitMs: number | null }, failureCodes: Array<{ code: string, runs: number, firstAt: string, lastAt: string, lastMessage: string, lastRunId: string }> } };

export type PoolSlotUsageQueryVariables = Exact<{
  from: string;
  to: string;
  bucket: MetricsBucket;
  pool?: string | null | undefined;
}>;


export type PoolSlotUsageQuery = { poolSlotUsage: { from: string, to: string, bucket: MetricsBucket, pools: Array<{ pool: string, points: Array<{ start: string, busySlots: number | null, peakBusySlots: number | null, totalSlots: number | null, utilization: number | null }> }> } };

export type NotificationFieldsFragment = { id: string, type: string, title: string, body: string, link: string | null, createdAt: string, readAt: string | null };

export type NotificationsQueryVariables = Exact<{
  unreadOnly?: boolean | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type NotificationsQuery = { notifications: { nodes: Array<{ id: string, type: string, title: string, body: string, link: string | null, createdAt: string, readAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type UnreadNotificationCountQueryVariables = Exact<{ [key: string]: never; }>;


export type UnreadNotificationCountQuery = { unreadNotificationCount: number };

export type MarkNotificationsReadMutationVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type MarkNotificationsReadMutation = { markNotificationsRead: Array<{ id: string, readAt: string | null }> };

export type MarkAllNotificationsReadMutationVariables = Exact<{ [key: string]: never; }>;


export type MarkAllNotificationsReadMutation = { markAllNotificationsRead: number };

export type NotificationAddedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type NotificationAddedSubscription = { notificationAdded: { id: string, type: string, title: string, body: string, link: string | null, createdAt: string, readAt: string | null } };

export type NotificationPreferencesQueryVariables = Exact<{ [key: string]: never; }>;


export type NotificationPreferencesQuery = { notificationPreferences: { emailMode: EmailMode, events: Array<{ type: string, label: string, inApp: boolean, email: boolean, required: boolean, custom: boolean }> } };

export type UpdateNotificationPreferencesMutationVariables = Exact<{
  input: NotificationPreferencesInput;
}>;


export type UpdateNotificationPreferencesMutation = { updateNotificationPreferences: { emailMode: EmailMode, events: Array<{ type: string, label: string, inApp: boolean, email: boolean, required: boolean, custom: boolean }> } };

export type TimelineAttemptFieldsFragment = { id: string, number: number, taskId: string, stepId: string, itemIndex: number | null, status: AttemptStatus, workerId: string | null, queuedAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null };

export type RunAttemptsQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type RunAttemptsQuery = { run: { id: string, lastSeq: number, attempts: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, number: number, taskId: string, stepId: string, itemIndex: number | null, status: AttemptStatus, workerId: string | null, queuedAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null } }> } } | null };

export type TaskAttemptsQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskAttemptsQuery = { task: { id: string, attemptHistory: Array<{ id: string, number: number, taskId: string, stepId: string, itemIndex: number | null, status: AttemptStatus, workerId: string | null, queuedAt: string, startedAt: string | null, finishedAt: string | null, error: { code: string, message: string } | null }> } | null };

export type EventLogFieldsFragment = { seq: number, kind: RunEventKind, at: string, taskId: string | null, stepId: string | null, runStatus: RunStatus | null, taskStatus: TaskStatus | null, attemptId: string | null, attempt: number | null, message: string | null, level: string | null, error: { code: string, message: string } | null, outputDelta: { text: string } | null, waitReason: { kind: TaskWaitKind, message: string } | null };

export type RunEventLogQueryVariables = Exact<{
  id: string | number;
  afterSeq?: number | null | undefined;
  first?: number | null | undefined;
}>;


export type RunEventLogQuery = { run: { id: string, lastSeq: number, events: Array<{ seq: number, kind: RunEventKind, at: string, taskId: string | null, stepId: string | null, runStatus: RunStatus | null, taskStatus: TaskStatus | null, attemptId: string | null, attempt: number | null, message: string | null, level: string | null, error: { code: string, message: string } | null, outputDelta: { text: string } | null, waitReason: { kind: TaskWaitKind, message: string } | null }> } | null };

export type RunEventLogLiveSubscriptionVariables = Exact<{
  runId: string | number;
  afterSeq: number;
}>;


export type RunEventLogLiveSubscription = { runEventBatches: { lastSeq: number, events: Array<{ seq: number, kind: RunEventKind, at: string, taskId: string | null, stepId: string | null, runStatus: RunStatus | null, taskStatus: TaskStatus | null, attemptId: string | null, attempt: number | null, message: string | null, level: string | null, error: { code: string, message: string } | null, outputDelta: { text: string } | null, waitReason: { kind: TaskWaitKind, message: string } | null }> } };

export type RunSummaryFieldsFragment = { id: string, status: RunStatus, workflowVersion: number, startedByName: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, workflow: { id: string, name: string }, error: { code: string, message: string, stepId: string | null } | null };

export type TaskRowFieldsFragment = { id: string, stepId: string, capability: string, status: TaskStatus, dependsOn: Array<string>, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, pool: string, workerId: string | null, queuedAt: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, gpus: Array<{ index: number, model: string, memoryMiB: number }>, waitReason: { kind: TaskWaitKind, message: string, since: string } | null, attemptHistory: Array<{ number: number, queuedAt: string }>, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null };

export type ItemCountFieldsFragment = { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number };

export type TaskFieldsFragment = { itemIndex: number | null, input: unknown, output: unknown, id: string, stepId: string, capability: string, status: TaskStatus, dependsOn: Array<string>, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, pool: string, workerId: string | null, queuedAt: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, usage: { calls: number, failedCalls: number, promptTokens: number, completionTokens: number, costUsd: number, gpuSeconds: number }, attemptHistory: Array<{ id: string, number: number, status: AttemptStatus, workerId: string | null, queuedAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: { code: string, message: string } | null }>, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, gpus: Array<{ index: number, model: string, memoryMiB: number }>, waitReason: { kind: TaskWaitKind, message: string, since: string } | null, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null };

export type RunsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: RunFilter | null | undefined;
}>;


export type RunsQuery = { runs: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { idempotencyKey: string | null, id: string, status: RunStatus, workflowVersion: number, startedByName: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, workflow: { id: string, name: string }, error: { code: string, message: string, stepId: string | null } | null } }> } };

export type RunAgainSourceQueryVariables = Exact<{
  id: string | number;
}>;


export type RunAgainSourceQuery = { run: { id: string, input: unknown, workflowVersion: number, workflow: { id: string, name: string, versions: Array<{ number: number }> } } | null };

export type CancelRunsMutationVariables = Exact<{
  ids: Array<string | number> | string | number;
  reason?: string | null | undefined;
}>;


export type CancelRunsMutation = { cancelRuns: Array<{ id: string, run: { id: string, status: RunStatus, cancelReason: string | null } | null, error: { code: string, reason: string | null, message: string } | null }> };

export type RetryRunsMutationVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type RetryRunsMutation = { retryRuns: Array<{ id: string, run: { id: string, status: RunStatus } | null, error: { code: string, reason: string | null, message: string } | null }> };

export type RunQueryVariables = Exact<{
  id: string | number;
}>;


export type RunQuery = { run: { input: unknown, output: unknown, idempotencyKey: string | null, cancelReason: string | null, lastSeq: number, id: string, status: RunStatus, workflowVersion: number, startedByName: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, app: { id: string, name: string } | null, tasks: Array<{ id: string, stepId: string, capability: string, status: TaskStatus, dependsOn: Array<string>, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, pool: string, workerId: string | null, queuedAt: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, gpus: Array<{ index: number, model: string, memoryMiB: number }>, waitReason: { kind: TaskWaitKind, message: string, since: string } | null, attemptHistory: Array<{ number: number, queuedAt: string }>, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null }>, workflow: { id: string, name: string }, error: { code: string, message: string, stepId: string | null } | null } | null };

export type TaskDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskDetailQuery = { task: { itemIndex: number | null, input: unknown, output: unknown, id: string, stepId: string, capability: string, status: TaskStatus, dependsOn: Array<string>, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, pool: string, workerId: string | null, queuedAt: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, usage: { calls: number, failedCalls: number, promptTokens: number, completionTokens: number, costUsd: number, gpuSeconds: number }, attemptHistory: Array<{ id: string, number: number, status: AttemptStatus, workerId: string | null, queuedAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: { code: string, message: string } | null }>, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, gpus: Array<{ index: number, model: string, memoryMiB: number }>, waitReason: { kind: TaskWaitKind, message: string, since: string } | null, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null } | null };

export type RunWaitsQueryVariables = Exact<{
  id: string | number;
}>;


export type RunWaitsQuery = { run: { id: string, tasks: Array<{ id: string, status: TaskStatus, waitReason: { kind: TaskWaitKind, message: string, since: string } | null }> } | null };

export type RunItemCountsQueryVariables = Exact<{
  id: string | number;
}>;


export type RunItemCountsQuery = { run: { id: string, lastSeq: number, tasks: Array<{ id: string, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null }> } | null };

export type TaskItemsQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
  status?: TaskStatus | null | undefined;
}>;


export type TaskItemsQuery = { task: { id: string, items: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { itemIndex: number | null, id: string, stepId: string, capability: string, status: TaskStatus, dependsOn: Array<string>, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, pool: string, workerId: string | null, queuedAt: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, gpus: Array<{ index: number, model: string, memoryMiB: number }>, waitReason: { kind: TaskWaitKind, message: string, since: string } | null, attemptHistory: Array<{ number: number, queuedAt: string }>, itemCounts: { total: number, pending: number, queued: number, running: number, succeeded: number, failed: number, cancelled: number } | null } }> } } | null };

export type TaskLogsQueryVariables = Exact<{
  id: string | number;
  afterSeq?: number | null | undefined;
  first?: number | null | undefined;
}>;


export type TaskLogsQuery = { task: { id: string, logs: Array<{ seq: number, at: string, level: string, message: string, attempt: number | null }> } | null };

export type CancelRunMutationVariables = Exact<{
  id: string | number;
  reason?: string | null | undefined;
}>;


export type CancelRunMutation = { cancelRun: { id: string, status: RunStatus, cancelReason: string | null } };

export type RetryRunMutationVariables = Exact<{
  id: string | number;
}>;


export type RetryRunMutation = { retryRun: { id: string, status: RunStatus } };

export type DeadLettersQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: DeadLetterFilter | null | undefined;
}>;


export type DeadLettersQuery = { deadLetters: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, stepId: string, attempts: number, createdAt: string, replayedAt: string | null, replayedBy: string | null, discardedAt: string | null, discardedBy: string | null, error: { code: string, message: string, retryable: boolean | null }, run: { id: string, status: RunStatus, workflow: { id: string, name: string } } } }> } };

export type DeadLetterGroupsQueryVariables = Exact<{ [key: string]: never; }>;


export type DeadLetterGroupsQuery = { deadLetterGroups: Array<{ errorCode: string, stepId: string, count: number, lastAt: string, message: string, workflow: { id: string, name: string } }> };

export type ReplayDeadLettersMutationVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type ReplayDeadLettersMutation = { replayDeadLetters: Array<{ id: string, deadLetter: { id: string, replayedAt: string | null, run: { id: string, status: RunStatus } } | null, error: { code: string, reason: string | null, message: string } | null }> };

export type DiscardDeadLettersMutationVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type DiscardDeadLettersMutation = { discardDeadLetters: Array<{ id: string, deadLetter: { id: string, discardedAt: string | null } | null, error: { code: string, reason: string | null, message: string } | null }> };

export type ReplayDeadLetterMutationVariables = Exact<{
  id: string | number;
}>;


export type ReplayDeadLetterMutation = { replayDeadLetter: { id: string, status: RunStatus } };

export type RunEventBatchesSubscriptionVariables = Exact<{
  runId: string | number;
  afterSeq: number;
  withOutput: boolean;
  progressOf?: Array<string | number> | string | number | null | undefined;
}>;


export type RunEventBatchesSubscription = { runEventBatches: { lastSeq: number, events: Array<{ seq: number, kind: RunEventKind, at: string, runStatus: RunStatus | null, taskId: string | null, stepId: string | null, taskStatus: TaskStatus | null, attempt: number | null, progress: number | null, message: string | null, level: string | null, attemptId?: string | null, error: { code: string, message: string, retryable: boolean | null, stepId: string | null } | null, outputDelta?: { seq: number, offset: number, text: string, restart: boolean } | null }> } };

export type TaskStreamedOutputQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskStreamedOutputQuery = { task: { id: string, streamedOutput: { attemptId: string, text: string, throughSeq: number, deltaSeq: number } | null } | null };

export type RunStatusChangedSubscriptionVariables = Exact<{
  workflowId?: string | number | null | undefined;
}>;


export type RunStatusChangedSubscription = { runStatusChanged: { seq: number, runId: string, runStatus: RunStatus | null, run: { id: string, status: RunStatus, workflowVersion: number, startedByName: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, workflow: { id: string, name: string }, error: { code: string, message: string, stepId: string | null } | null } } };

export type TaskArtifactsQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskArtifactsQuery = { task: { id: string, attemptHistory: Array<{ id: string, number: number, artifacts: Array<{ id: string, name: string, contentType: string, sizeBytes: number, sha256: string, createdAt: string, downloadUrl: string | null }> }> } | null };

export type SecretsQueryVariables = Exact<{ [key: string]: never; }>;


export type SecretsQuery = { secrets: Array<{ id: string, name: string, version: number, createdAt: string, createdBy: string, updatedAt: string, updatedBy: string, lastUsedAt: string | null }> };

export type CreateSecretMutationVariables = Exact<{
  name: string;
  value: string;
}>;


export type CreateSecretMutation = { createSecret: { id: string, name: string, version: number } };

export type RotateSecretMutationVariables = Exact<{
  name: string;
  value: string;
}>;


export type RotateSecretMutation = { rotateSecret: { id: string, name: string, version: number, updatedAt: string } };

export type DeleteSecretMutationVariables = Exact<{
  name: string;
}>;


export type DeleteSecretMutation = { deleteSecret: { id: string, name: string } };

export type WebhookEndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type WebhookEndpointsQuery = { webhookEndpoints: Array<{ id: string, url: string, description: string, events: Array<string>, enabled: boolean, disabledAt: string | null, disabledReason: string | null, createdAt: string, secretRotatedAt: string | null, previousSecretExpiresAt: string | null }>, notificationEventTypes: Array<{ type: string, label: string }> };

export type WebhookDeliveriesQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type WebhookDeliveriesQuery = { webhookEndpoint: { id: string, url: string, deliveries: { nodes: Array<{ id: string, eventId: string, eventType: string, status: WebhookDeliveryStatus, attempts: number, createdAt: string, deliveredAt: string | null, nextAttemptAt: string | null, lastStatusCode: number | null, lastLatencyMs: number | null, lastResponseExcerpt: string | null, lastError: string | null, redeliveryOf: string | null, attemptLog: Array<{ attemptedAt: string, statusCode: number | null, latencyMs: number, error: string | null, succeeded: boolean }> }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } | null };

export type CreateWebhookEndpointMutationVariables = Exact<{
  input: CreateWebhookEndpointInput;
}>;


export type CreateWebhookEndpointMutation = { createWebhookEndpoint: { secret: string, endpoint: { id: string, url: string, events: Array<string> } } };

export type UpdateWebhookEndpointMutationVariables = Exact<{
  id: string | number;
  input: UpdateWebhookEndpointInput;
}>;


export type UpdateWebhookEndpointMutation = { updateWebhookEndpoint: { id: string, url: string, description: string, events: Array<string>, enabled: boolean, disabledAt: string | null } };

export type DeleteWebhookEndpointMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteWebhookEndpointMutation = { deleteWebhookEndpoint: boolean };

export type RotateWebhookSecretMutationVariables = Exact<{
  id: string | number;
}>;


export type RotateWebhookSecretMutation = { rotateWebhookSecret: { secret: string, endpoint: { id: string, secretRotatedAt: string | null, previousSecretExpiresAt: string | null } } };

export type RedeliverWebhookMutationVariables = Exact<{
  deliveryId: string | number;
}>;


export type RedeliverWebhookMutation = { redeliverWebhook: { id: string, status: WebhookDeliveryStatus } };

export type SsoConnectionFieldsFragment = { id: string, slug: string, issuer: string, clientId: string, clientSecretSet: boolean, domains: Array<string>, defaultRole: Role, requireSso: boolean, redirectUri: string, updatedAt: string };

export type SsoConnectionQueryVariables = Exact<{ [key: string]: never; }>;


export type SsoConnectionQuery = { ssoConnection: { id: string, slug: string, issuer: string, clientId: string, clientSecretSet: boolean, domains: Array<string>, defaultRole: Role, requireSso: boolean, redirectUri: string, updatedAt: string } | null };

export type TestSsoConnectionQueryVariables = Exact<{
  issuer: string;
}>;


export type TestSsoConnectionQuery = { testSsoConnection: { issuer: string, authorizationEndpoint: string, tokenEndpoint: string, jwksUri: string | null, userinfoEndpoint: string | null, supportsPkce: boolean } };

export type ConfigureSsoMutationVariables = Exact<{
  input: ConfigureSsoInput;
}>;


export type ConfigureSsoMutation = { configureSso: { id: string, slug: string, issuer: string, clientId: string, clientSecretSet: boolean, domains: Array<string>, defaultRole: Role, requireSso: boolean, redirectUri: string, updatedAt: string } };

export type DeleteSsoConnectionMutationVariables = Exact<{ [key: string]: never; }>;


export type DeleteSsoConnectionMutation = { deleteSsoConnection: boolean };

export type StartSsoSignInMutationVariables = Exact<{
  input: StartSsoSignInInput;
}>;


export type StartSsoSignInMutation = { startSsoSignIn: { authorizationUrl: string, binding: string, expiresAt: string } };

export type CompleteSsoSignInMutationVariables = Exact<{
  input: CompleteSsoSignInInput;
}>;


export type CompleteSsoSignInMutation = { completeSsoSignIn: { accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, role: Role, user: { id: string, email: string, name: string }, organization: { id: string, name: string } } };

export type StepFieldsFragment = { id: string, capability: string, input: unknown, dependsOn: Array<string>, timeoutMs: number, pool: string, retry: { maxAttempts: number, initialDelayMs: number, backoffFactor: number, maxDelayMs: number }, labels: Array<{ key: string, value: string }> };

export type WorkflowsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: WorkflowFilter | null | undefined;
}>;


export type WorkflowsQuery = { workflows: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, description: string | null, updatedAt: string, app: { id: string, name: string } | null, latestVersion: { number: number, steps: Array<{ id: string }> } } }> } };

export type WorkflowQueryVariables = Exact<{
  id: string | number;
}>;


export type WorkflowQuery = { workflow: { id: string, name: string, description: string | null, createdBy: string, createdAt: string, updatedAt: string, app: { id: string, name: string } | null, latestVersion: { number: number }, versions: Array<{ number: number, createdBy: string, createdAt: string, steps: Array<{ id: string, capability: string, input: unknown, dependsOn: Array<string>, timeoutMs: number, pool: string, retry: { maxAttempts: number, initialDelayMs: number, backoffFactor: number, maxDelayMs: number }, labels: Array<{ key: string, value: string }> }> }> } | null };

export type CapabilitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type CapabilitiesQuery = { capabilities: Array<string> };

export type CreateWorkflowMutationVariables = Exact<{
  input: CreateWorkflowInput;
}>;


export type CreateWorkflowMutation = { createWorkflow: { id: string, name: string, latestVersion: { number: number } } };

export type PublishWorkflowVersionMutationVariables = Exact<{
  workflowId: string | number;
  steps: Array<StepInput> | StepInput;
}>;


export type PublishWorkflowVersionMutation = { publishWorkflowVersion: { workflowId: string, number: number } };

export type StartRunMutationVariables = Exact<{
  input: StartRunInput;
}>;


export type StartRunMutation = { startRun: { deduplicated: boolean, run: { id: string, status: RunStatus } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ApprovalFieldsFragmentDoc = new TypedDocumentString(`
    fragment ApprovalFields on Approval {
  id
  stepId
  status
  message
  roles
  canDecide
  waitingSince
  deadline
  onTimeout
  decision
  decidedBy
  comment
  decidedAt
}
    `, {"fragmentName":"ApprovalFields"}) as unknown as TypedDocumentString<ApprovalFieldsFragment, unknown>;
export const AuthPayloadFieldsFragmentDoc = new TypedDocumentString(`
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}
    `, {"fragmentName":"AuthPayloadFields"}) as unknown as TypedDocumentString<AuthPayloadFieldsFragment, unknown>;
export const NotificationFieldsFragmentDoc = new TypedDocumentString(`
    fragment NotificationFields on Notification {
  id
  type
  title
  body
  link
  createdAt
  readAt
}
    `, {"fragmentName":"NotificationFields"}) as unknown as TypedDocumentString<NotificationFieldsFragment, unknown>;
export const TimelineAttemptFieldsFragmentDoc = new TypedDocumentString(`
    fragment TimelineAttemptFields on TaskAttempt {
  id
  number
  taskId
  stepId
  itemIndex
  status
  workerId
  queuedAt
  startedAt
  finishedAt
  error {
    code
    message
  }
}
    `, {"fragmentName":"TimelineAttemptFields"}) as unknown as TypedDocumentString<TimelineAttemptFieldsFragment, unknown>;
export const EventLogFieldsFragmentDoc = new TypedDocumentString(`
    fragment EventLogFields on RunEvent {
  seq
  kind
  at
  taskId
  stepId
  runStatus
  taskStatus
  attemptId
  attempt
  message
  level
  error {
    code
    message
  }
  outputDelta {
    text
  }
  waitReason {
    kind
    message
  }
}
    `, {"fragmentName":"EventLogFields"}) as unknown as TypedDocumentString<EventLogFieldsFragment, unknown>;
export const RunSummaryFieldsFragmentDoc = new TypedDocumentString(`
    fragment RunSummaryFields on Run {
  id
  status
  workflowVersion
  workflow {
    id
    name
  }
  startedByName
  createdAt
  startedAt
  finishedAt
  durationMs
  error {
    code
    message
    stepId
  }
}
    `, {"fragmentName":"RunSummaryFields"}) as unknown as TypedDocumentString<RunSummaryFieldsFragment, unknown>;
export const ItemCountFieldsFragmentDoc = new TypedDocumentString(`
    fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}
    `, {"fragmentName":"ItemCountFields"}) as unknown as TypedDocumentString<ItemCountFieldsFragment, unknown>;
export const TaskRowFieldsFragmentDoc = new TypedDocumentString(`
    fragment TaskRowFields on Task {
  id
  stepId
  capability
  status
  dependsOn
  error {
    code
    message
    retryable
    stepId
  }
  attempts
  maxAttempts
  progress
  progressMessage
  pool
  workerId
  gpus {
    index
    model
    memoryMiB
  }
  waitReason {
    kind
    message
    since
  }
  queuedAt
  startedAt
  finishedAt
  durationMs
  attemptHistory {
    number
    queuedAt
  }
  itemCounts {
    ...ItemCountFields
  }
}
    fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}`, {"fragmentName":"TaskRowFields"}) as unknown as TypedDocumentString<TaskRowFieldsFragment, unknown>;
export const TaskFieldsFragmentDoc = new TypedDocumentString(`
    fragment TaskFields on Task {
  ...TaskRowFields
  itemIndex
  input
  output
  usage {
    calls
    failedCalls
    promptTokens
    completionTokens
    costUsd
    gpuSeconds
  }
  attemptHistory {
    id
    number
    status
    workerId
    queuedAt
    startedAt
    finishedAt
    durationMs
    error {
      code
      message
    }
  }
}
    fragment TaskRowFields on Task {
  id
  stepId
  capability
  status
  dependsOn
  error {
    code
    message
    retryable
    stepId
  }
  attempts
  maxAttempts
  progress
  progressMessage
  pool
  workerId
  gpus {
    index
    model
    memoryMiB
  }
  waitReason {
    kind
    message
    since
  }
  queuedAt
  startedAt
  finishedAt
  durationMs
  attemptHistory {
    number
    queuedAt
  }
  itemCounts {
    ...ItemCountFields
  }
}
fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}`, {"fragmentName":"TaskFields"}) as unknown as TypedDocumentString<TaskFieldsFragment, unknown>;
export const SsoConnectionFieldsFragmentDoc = new TypedDocumentString(`
    fragment SsoConnectionFields on SsoConnection {
  id
  slug
  issuer
  clientId
  clientSecretSet
  domains
  defaultRole
  requireSso
  redirectUri
  updatedAt
}
    `, {"fragmentName":"SsoConnectionFields"}) as unknown as TypedDocumentString<SsoConnectionFieldsFragment, unknown>;
export const StepFieldsFragmentDoc = new TypedDocumentString(`
    fragment StepFields on Step {
  id
  capability
  input
  dependsOn
  retry {
    maxAttempts
    initialDelayMs
    backoffFactor
    maxDelayMs
  }
  timeoutMs
  pool
  labels {
    key
    value
  }
}
    `, {"fragmentName":"StepFields"}) as unknown as TypedDocumentString<StepFieldsFragment, unknown>;
export const UsageSeriesDocument = new TypedDocumentString(`
    query UsageSeries($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) {
  usageSeries(from: $from, to: $to, splitBy: $splitBy) {
    day
    key
    app {
      id
      name
    }
    workflow {
      id
      name
    }
    calls
    failedCalls
    promptTokens
    completionTokens
    totalTokens
    costUsd
    gpuSeconds
  }
}
    `) as unknown as TypedDocumentString<UsageSeriesQuery, UsageSeriesQueryVariables>;
export const LlmProvidersDocument = new TypedDocumentString(`
    query LlmProviders {
  llmProviders {
    id
    name
    baseUrl
    apiKeySecret
    models {
      alias
      model
      pricePer1MInput
      pricePer1MOutput
    }
    pricePer1MInput
    pricePer1MOutput
    requestsPerMinute
    tokensPerMinute
    timeoutMs
    workerLocal
    updatedAt
    updatedBy
  }
}
    `) as unknown as TypedDocumentString<LlmProvidersQuery, LlmProvidersQueryVariables>;
export const ProviderSecretChoicesDocument = new TypedDocumentString(`
    query ProviderSecretChoices {
  secrets {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<ProviderSecretChoicesQuery, ProviderSecretChoicesQueryVariables>;
export const CreateLlmProviderDocument = new TypedDocumentString(`
    mutation CreateLlmProvider($input: CreateLlmProviderInput!) {
  createLlmProvider(input: $input) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<CreateLlmProviderMutation, CreateLlmProviderMutationVariables>;
export const UpdateLlmProviderDocument = new TypedDocumentString(`
    mutation UpdateLlmProvider($id: ID!, $input: UpdateLlmProviderInput!) {
  updateLlmProvider(id: $id, input: $input) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<UpdateLlmProviderMutation, UpdateLlmProviderMutationVariables>;
export const DeleteLlmProviderDocument = new TypedDocumentString(`
    mutation DeleteLlmProvider($id: ID!) {
  deleteLlmProvider(id: $id) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<DeleteLlmProviderMutation, DeleteLlmProviderMutationVariables>;
export const TestLlmProviderDocument = new TypedDocumentString(`
    mutation TestLlmProvider($id: ID!, $model: String) {
  testLlmProvider(id: $id, model: $model) {
    ok
    model
    latencyMs
    message
  }
}
    `) as unknown as TypedDocumentString<TestLlmProviderMutation, TestLlmProviderMutationVariables>;
export const PendingApprovalsDocument = new TypedDocumentString(`
    query PendingApprovals($first: Int, $after: String) {
  pendingApprovals(first: $first, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        ...ApprovalFields
        task {
          id
        }
        run {
          id
          status
          workflow {
            id
            name
          }
        }
      }
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  stepId
  status
  message
  roles
  canDecide
  waitingSince
  deadline
  onTimeout
  decision
  decidedBy
  comment
  decidedAt
}`) as unknown as TypedDocumentString<PendingApprovalsQuery, PendingApprovalsQueryVariables>;
export const PendingApprovalCountDocument = new TypedDocumentString(`
    query PendingApprovalCount {
  pendingApprovals(first: 1) {
    totalCount
  }
}
    `) as unknown as TypedDocumentString<PendingApprovalCountQuery, PendingApprovalCountQueryVariables>;
export const TaskApprovalDocument = new TypedDocumentString(`
    query TaskApproval($id: ID!) {
  task(id: $id) {
    id
    approval {
      ...ApprovalFields
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  stepId
  status
  message
  roles
  canDecide
  waitingSince
  deadline
  onTimeout
  decision
  decidedBy
  comment
  decidedAt
}`) as unknown as TypedDocumentString<TaskApprovalQuery, TaskApprovalQueryVariables>;
export const ApproveTaskDocument = new TypedDocumentString(`
    mutation ApproveTask($taskId: ID!, $comment: String) {
  approveTask(taskId: $taskId, comment: $comment) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ApproveTaskMutation, ApproveTaskMutationVariables>;
export const RejectTaskDocument = new TypedDocumentString(`
    mutation RejectTask($taskId: ID!, $comment: String) {
  rejectTask(taskId: $taskId, comment: $comment) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RejectTaskMutation, RejectTaskMutationVariables>;
export const AppsDocument = new TypedDocumentString(`
    query Apps($first: Int, $after: String, $filter: AppFilter, $orderBy: AppOrder) {
  apps(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        slug
        name
        description
        status
        tags
        updatedAt
        health {
          status
          since
          uptime {
            ratio
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AppsQuery, AppsQueryVariables>;
export const AppDocument = new TypedDocumentString(`
    query App($id: ID!) {
  app(id: $id) {
    id
    slug
    name
    description
    status
    tags
    createdAt
    updatedAt
    healthCheckUrl
    owner {
      id
      email
      name
    }
    configSchema
    configSchemaVersion
    health {
      status
      since
      lastCheckedAt
      lastLatencyMs
      lastHttpStatus
      lastError
      checksTotal
      checksFailed
      monitoringSince
      day: uptime(windowSeconds: 86400) {
        ratio
        upSeconds
        downSeconds
        unknownSeconds
      }
      week: uptime(windowSeconds: 604800) {
        ratio
      }
      history(first: 20) {
        edges {
          node {
            id
            status
            previousStatus
            changedAt
            httpStatus
            error
          }
        }
      }
    }
    currentConfig {
      version
    }
    configVersions(first: 50) {
      edges {
        node {
          version
          config
          message
          schemaVersion
          createdAt
          isCurrent
          createdBy {
            email
          }
        }
      }
    }
    configActivations(first: 20) {
      edges {
        node {
          id
          version
          previousVersion
          kind
          reason
          activatedAt
          activatedBy {
            email
          }
        }
      }
    }
    stats(window: LAST_24_HOURS) {
      runs
      succeeded
      failed
      cancelled
      active
      successRate
      p50DurationMs
      p95DurationMs
    }
    workflows {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<AppQuery, AppQueryVariables>;
export const CreateAppDocument = new TypedDocumentString(`
    mutation CreateApp($input: CreateAppInput!) {
  createApp(input: $input) {
    id
    slug
  }
}
    `) as unknown as TypedDocumentString<CreateAppMutation, CreateAppMutationVariables>;
export const PublishAppConfigDocument = new TypedDocumentString(`
    mutation PublishAppConfig($appId: ID!, $config: JSON!, $message: String) {
  publishAppConfig(id: $appId, config: $config, message: $message) {
    version
  }
}
    `) as unknown as TypedDocumentString<PublishAppConfigMutation, PublishAppConfigMutationVariables>;
export const RollbackAppConfigDocument = new TypedDocumentString(`
    mutation RollbackAppConfig($appId: ID!, $version: Int!, $reason: String) {
  rollbackAppConfig(id: $appId, version: $version, reason: $reason) {
    version
    isCurrent
  }
}
    `) as unknown as TypedDocumentString<RollbackAppConfigMutation, RollbackAppConfigMutationVariables>;
export const PauseAppDocument = new TypedDocumentString(`
    mutation PauseApp($id: ID!) {
  pauseApp(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<PauseAppMutation, PauseAppMutationVariables>;
export const ResumeAppDocument = new TypedDocumentString(`
    mutation ResumeApp($id: ID!) {
  resumeApp(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ResumeAppMutation, ResumeAppMutationVariables>;
export const ArchiveAppDocument = new TypedDocumentString(`
    mutation ArchiveApp($id: ID!) {
  archiveApp(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ArchiveAppMutation, ArchiveAppMutationVariables>;
export const RestoreAppDocument = new TypedDocumentString(`
    mutation RestoreApp($id: ID!) {
  restoreApp(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RestoreAppMutation, RestoreAppMutationVariables>;
export const UpdateAppDocument = new TypedDocumentString(`
    mutation UpdateApp($id: ID!, $input: UpdateAppInput!) {
  updateApp(id: $id, input: $input) {
    id
    slug
    name
    description
    tags
    healthCheckUrl
    owner {
      id
      email
      name
    }
  }
}
    `) as unknown as TypedDocumentString<UpdateAppMutation, UpdateAppMutationVariables>;
export const AuditLogDocument = new TypedDocumentString(`
    query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        sequence
        occurredAt
        service
        action
        targetType
        targetId
        outcome
        requestId
        ip
        userAgent
        diff
        actor {
          kind
          id
          display
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AuditLogQuery, AuditLogQueryVariables>;
export const AuditLogExportDocument = new TypedDocumentString(`
    query AuditLogExport($filter: AuditLogFilter, $format: AuditExportFormat!, $first: Int, $after: String) {
  auditLogExport(filter: $filter, format: $format, first: $first, after: $after) {
    format
    contentType
    fileName
    content
    eventCount
    nextCursor
  }
}
    `) as unknown as TypedDocumentString<AuditLogExportQuery, AuditLogExportQueryVariables>;
export const VerifyAuditChainDocument = new TypedDocumentString(`
    query VerifyAuditChain($from: DateTime, $to: DateTime) {
  verifyAuditChain(from: $from, to: $to) {
    ok
    checkedEvents
    firstSequence
    lastSequence
    anchor
    witnessedHeadsChecked
    break {
      reason
      sequence
      message
      expected
      actual
    }
  }
}
    `) as unknown as TypedDocumentString<VerifyAuditChainQuery, VerifyAuditChainQueryVariables>;
export const WorkersDocument = new TypedDocumentString(`
    query Workers($filter: WorkerFilter) {
  workers(filter: $filter) {
    id
    endpoint
    pool
    capabilities
    slotsTotal
    slotsFree
    running
    labels {
      key
      value
    }
    version
    llmEndpoints
    status
    registeredAt
    lastHeartbeatAt
    leaseExpiresAt
    resources {
      cpuCount
      cpuLoad
      memoryTotalBytes
      memoryUsedBytes
      gpus {
        index
        model
        memoryTotalBytes
        memoryUsedBytes
        utilizationPercent
      }
    }
  }
}
    `) as unknown as TypedDocumentString<WorkersQuery, WorkersQueryVariables>;
export const TriggersDocument = new TypedDocumentString(`
    query Triggers {
  triggers {
    id
    eventName
    filter
    hasWebhook
    webhookUrl
    webhookSecretRotatedAt
    createdAt
    workflow {
      id
      name
    }
  }
  workflows(first: 100) {
    edges {
      node {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TriggersQuery, TriggersQueryVariables>;
export const TriggerDeliveriesDocument = new TypedDocumentString(`
    query TriggerDeliveries($id: ID!, $first: Int) {
  trigger(id: $id) {
    id
    deliveries(first: $first) {
      id
      receivedAt
      outcome
      reason
      message
      bodyBytes
      sourceIp
      event {
        id
        starts {
          run {
            id
            status
          }
          error
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TriggerDeliveriesQuery, TriggerDeliveriesQueryVariables>;
export const CreateTriggerDocument = new TypedDocumentString(`
    mutation CreateTrigger($input: CreateTriggerInput!) {
  createTrigger(input: $input) {
    trigger {
      id
      webhookUrl
    }
    webhookSecret
  }
}
    `) as unknown as TypedDocumentString<CreateTriggerMutation, CreateTriggerMutationVariables>;
export const RotateTriggerSecretDocument = new TypedDocumentString(`
    mutation RotateTriggerSecret($id: ID!) {
  rotateTriggerSecret(id: $id) {
    trigger {
      id
      webhookUrl
    }
    webhookSecret
  }
}
    `) as unknown as TypedDocumentString<RotateTriggerSecretMutation, RotateTriggerSecretMutationVariables>;
export const DeleteTriggerDocument = new TypedDocumentString(`
    mutation DeleteTrigger($id: ID!) {
  deleteTrigger(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<DeleteTriggerMutation, DeleteTriggerMutationVariables>;
export const SchedulesDocument = new TypedDocumentString(`
    query Schedules {
  schedules {
    id
    cron
    timezone
    overlap
    catchUp
    paused
    nextFireAt
    lastFireAt
    nextRuns(n: 3)
    workflow {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<SchedulesQuery, SchedulesQueryVariables>;
export const PauseScheduleDocument = new TypedDocumentString(`
    mutation PauseSchedule($id: ID!) {
  pauseSchedule(id: $id) {
    id
    paused
    nextFireAt
  }
}
    `) as unknown as TypedDocumentString<PauseScheduleMutation, PauseScheduleMutationVariables>;
export const ResumeScheduleDocument = new TypedDocumentString(`
    mutation ResumeSchedule($id: ID!) {
  resumeSchedule(id: $id) {
    id
    paused
    nextFireAt
  }
}
    `) as unknown as TypedDocumentString<ResumeScheduleMutation, ResumeScheduleMutationVariables>;
export const UpdateScheduleDocument = new TypedDocumentString(`
    mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {
  updateSchedule(id: $id, input: $input) {
    id
    cron
    timezone
    nextFireAt
  }
}
    `) as unknown as TypedDocumentString<UpdateScheduleMutation, UpdateScheduleMutationVariables>;
export const ScheduleFormDocument = new TypedDocumentString(`
    query ScheduleForm {
  workflows(first: 100) {
    edges {
      node {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ScheduleFormQuery, ScheduleFormQueryVariables>;
export const CronPreviewDocument = new TypedDocumentString(`
    query CronPreview($cron: String!, $timezone: String, $n: Int) {
  cronPreview(cron: $cron, timezone: $timezone, n: $n) {
    cron
    timezone
    nextRuns
  }
}
    `) as unknown as TypedDocumentString<CronPreviewQuery, CronPreviewQueryVariables>;
export const CreateScheduleDocument = new TypedDocumentString(`
    mutation CreateSchedule($input: CreateScheduleInput!) {
  createSchedule(input: $input) {
    id
    cron
    timezone
    nextFireAt
  }
}
    `) as unknown as TypedDocumentString<CreateScheduleMutation, CreateScheduleMutationVariables>;
export const DeleteScheduleDocument = new TypedDocumentString(`
    mutation DeleteSchedule($id: ID!) {
  deleteSchedule(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<DeleteScheduleMutation, DeleteScheduleMutationVariables>;
export const ScheduleFiresDocument = new TypedDocumentString(`
    query ScheduleFires($id: ID!, $first: Int) {
  schedule(id: $id) {
    id
    fires(first: $first) {
      tickAt
      outcome
      reason
      firedAt
      run {
        id
        status
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ScheduleFiresQuery, ScheduleFiresQueryVariables>;
export const LoginDocument = new TypedDocumentString(`
    mutation Login($input: LoginInput!) {
  login(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<LoginMutation, LoginMutationVariables>;
export const SignUpDocument = new TypedDocumentString(`
    mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<SignUpMutation, SignUpMutationVariables>;
export const RefreshTokenDocument = new TypedDocumentString(`
    mutation RefreshToken($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<RefreshTokenMutation, RefreshTokenMutationVariables>;
export const LogoutDocument = new TypedDocumentString(`
    mutation Logout($refreshToken: String!) {
  logout(refreshToken: $refreshToken)
}
    `) as unknown as TypedDocumentString<LogoutMutation, LogoutMutationVariables>;
export const SwitchOrganizationDocument = new TypedDocumentString(`
    mutation SwitchOrganization($organizationId: ID!, $refreshToken: String) {
  switchOrganization(organizationId: $organizationId, refreshToken: $refreshToken) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<SwitchOrganizationMutation, SwitchOrganizationMutationVariables>;
export const AcceptInvitationDocument = new TypedDocumentString(`
    mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<AcceptInvitationMutation, AcceptInvitationMutationVariables>;
export const CreateOrganizationDocument = new TypedDocumentString(`
    mutation CreateOrganization($input: CreateOrganizationInput!) {
  createOrganization(input: $input) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<CreateOrganizationMutation, CreateOrganizationMutationVariables>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    role
    twoFactorEnrollmentRequired
    user {
      id
      email
      name
      emailVerified
      pendingEmail
      twoFactorEnabled
    }
    organization {
      id
      name
      requireTwoFactor
    }
    memberships {
      id
      role
      organization {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const MembersDocument = new TypedDocumentString(`
    query Members($first: Int, $after: String, $search: String, $withApiKeys: Boolean = false) {
  members(first: $first, after: $after, search: $search) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        role
        createdAt
        activeApiKeysCreated @include(if: $withApiKeys)
        user {
          id
          email
          name
          twoFactorEnabled @include(if: $withApiKeys)
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<MembersQuery, MembersQueryVariables>;
export const ChangeMemberRoleDocument = new TypedDocumentString(`
    mutation ChangeMemberRole($id: ID!, $role: Role!) {
  changeMemberRole(id: $id, role: $role) {
    id
    role
  }
}
    `) as unknown as TypedDocumentString<ChangeMemberRoleMutation, ChangeMemberRoleMutationVariables>;
export const RemoveMemberDocument = new TypedDocumentString(`
    mutation RemoveMember($id: ID!) {
  removeMember(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<RemoveMemberMutation, RemoveMemberMutationVariables>;
export const InvitationsDocument = new TypedDocumentString(`
    query Invitations($first: Int, $after: String, $includeClosed: Boolean) {
  invitations(first: $first, after: $after, includeClosed: $includeClosed) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        email
        role
        status
        createdAt
        expiresAt
        acceptedAt
        revokedAt
        invitedBy {
          email
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<InvitationsQuery, InvitationsQueryVariables>;
export const InviteMemberDocument = new TypedDocumentString(`
    mutation InviteMember($input: InviteMemberInput!) {
  inviteMember(input: $input) {
    token
    invitation {
      id
      email
      role
      expiresAt
    }
  }
}
    `) as unknown as TypedDocumentString<InviteMemberMutation, InviteMemberMutationVariables>;
export const RevokeInvitationDocument = new TypedDocumentString(`
    mutation RevokeInvitation($id: ID!) {
  revokeInvitation(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RevokeInvitationMutation, RevokeInvitationMutationVariables>;
export const ApiKeysDocument = new TypedDocumentString(`
    query ApiKeys($first: Int, $after: String, $includeRevoked: Boolean) {
  apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        name
        scopes
        status
        createdAt
        expiresAt
        lastUsedAt
        revokedAt
        createdBy {
          email
        }
      }
    }
  }
  apiKeyScopes {
    name
    description
  }
}
    `) as unknown as TypedDocumentString<ApiKeysQuery, ApiKeysQueryVariables>;
export const CreateApiKeyDocument = new TypedDocumentString(`
    mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    key
    apiKey {
      id
      name
      scopes
    }
  }
}
    `) as unknown as TypedDocumentString<CreateApiKeyMutation, CreateApiKeyMutationVariables>;
export const RevokeApiKeyDocument = new TypedDocumentString(`
    mutation RevokeApiKey($id: ID!) {
  revokeApiKey(id: $id) {
    id
    status
    revokedAt
  }
}
    `) as unknown as TypedDocumentString<RevokeApiKeyMutation, RevokeApiKeyMutationVariables>;
export const UpdateProfileDocument = new TypedDocumentString(`
    mutation UpdateProfile($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    id
    email
    name
  }
}
    `) as unknown as TypedDocumentString<UpdateProfileMutation, UpdateProfileMutationVariables>;
export const ChangePasswordDocument = new TypedDocumentString(`
    mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<ChangePasswordMutation, ChangePasswordMutationVariables>;
export const RequestPasswordResetDocument = new TypedDocumentString(`
    mutation RequestPasswordReset($email: String!) {
  requestPasswordReset(email: $email)
}
    `) as unknown as TypedDocumentString<RequestPasswordResetMutation, RequestPasswordResetMutationVariables>;
export const ResetPasswordDocument = new TypedDocumentString(`
    mutation ResetPassword($input: ResetPasswordInput!) {
  resetPassword(input: $input)
}
    `) as unknown as TypedDocumentString<ResetPasswordMutation, ResetPasswordMutationVariables>;
export const VerifyEmailDocument = new TypedDocumentString(`
    mutation VerifyEmail($token: String!) {
  verifyEmail(token: $token)
}
    `) as unknown as TypedDocumentString<VerifyEmailMutation, VerifyEmailMutationVariables>;
export const ResendVerificationEmailDocument = new TypedDocumentString(`
    mutation ResendVerificationEmail {
  resendVerificationEmail
}
    `) as unknown as TypedDocumentString<ResendVerificationEmailMutation, ResendVerificationEmailMutationVariables>;
export const ChangeEmailDocument = new TypedDocumentString(`
    mutation ChangeEmail($input: ChangeEmailInput!) {
  changeEmail(input: $input)
}
    `) as unknown as TypedDocumentString<ChangeEmailMutation, ChangeEmailMutationVariables>;
export const CompleteTwoFactorSignInDocument = new TypedDocumentString(`
    mutation CompleteTwoFactorSignIn($input: CompleteTwoFactorSignInInput!) {
  completeTwoFactorSignIn(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<CompleteTwoFactorSignInMutation, CompleteTwoFactorSignInMutationVariables>;
export const StartTwoFactorEnrollmentDocument = new TypedDocumentString(`
    mutation StartTwoFactorEnrollment {
  startTwoFactorEnrollment {
    secret
    otpauthUrl
  }
}
    `) as unknown as TypedDocumentString<StartTwoFactorEnrollmentMutation, StartTwoFactorEnrollmentMutationVariables>;
export const ConfirmTwoFactorEnrollmentDocument = new TypedDocumentString(`
    mutation ConfirmTwoFactorEnrollment($code: String!) {
  confirmTwoFactorEnrollment(code: $code) {
    recoveryCodes
  }
}
    `) as unknown as TypedDocumentString<ConfirmTwoFactorEnrollmentMutation, ConfirmTwoFactorEnrollmentMutationVariables>;
export const DisableTwoFactorDocument = new TypedDocumentString(`
    mutation DisableTwoFactor($currentPassword: String!) {
  disableTwoFactor(currentPassword: $currentPassword)
}
    `) as unknown as TypedDocumentString<DisableTwoFactorMutation, DisableTwoFactorMutationVariables>;
export const SetTwoFactorRequiredDocument = new TypedDocumentString(`
    mutation SetTwoFactorRequired($required: Boolean!) {
  setTwoFactorRequired(required: $required) {
    id
    requireTwoFactor
  }
}
    `) as unknown as TypedDocumentString<SetTwoFactorRequiredMutation, SetTwoFactorRequiredMutationVariables>;
export const ResetMemberTwoFactorDocument = new TypedDocumentString(`
    mutation ResetMemberTwoFactor($membershipId: ID!) {
  resetMemberTwoFactor(membershipId: $membershipId) {
    id
    user {
      id
      twoFactorEnabled
    }
  }
}
    `) as unknown as TypedDocumentString<ResetMemberTwoFactorMutation, ResetMemberTwoFactorMutationVariables>;
export const RateLimitsDocument = new TypedDocumentString(`
    query RateLimits {
  rateLimits {
    id
    name
    limit
    per
    used
    createdBy
    updatedAt
  }
}
    `) as unknown as TypedDocumentString<RateLimitsQuery, RateLimitsQueryVariables>;
export const CreateRateLimitDocument = new TypedDocumentString(`
    mutation CreateRateLimit($input: CreateRateLimitInput!) {
  createRateLimit(input: $input) {
    id
    name
    limit
    per
  }
}
    `) as unknown as TypedDocumentString<CreateRateLimitMutation, CreateRateLimitMutationVariables>;
export const UpdateRateLimitDocument = new TypedDocumentString(`
    mutation UpdateRateLimit($id: ID!, $input: UpdateRateLimitInput!) {
  updateRateLimit(id: $id, input: $input) {
    id
    name
    limit
    per
  }
}
    `) as unknown as TypedDocumentString<UpdateRateLimitMutation, UpdateRateLimitMutationVariables>;
export const DeleteRateLimitDocument = new TypedDocumentString(`
    mutation DeleteRateLimit($id: ID!) {
  deleteRateLimit(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<DeleteRateLimitMutation, DeleteRateLimitMutationVariables>;
export const OrganizationLimitsDocument = new TypedDocumentString(`
    query OrganizationLimits {
  organizationLimits {
    runningTasksPerPool
    runsStartedPerMinute
    queuedTasks
    weight
    pools
    usage {
      runsStartedLastMinute
      queuedTasks
      runningTasks {
        pool
        running
      }
    }
  }
}
    `) as unknown as TypedDocumentString<OrganizationLimitsQuery, OrganizationLimitsQueryVariables>;
export const RunMetricsDocument = new TypedDocumentString(`
    query RunMetrics($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID, $appId: ID, $workerId: ID) {
  runMetrics(
    from: $from
    to: $to
    bucket: $bucket
    workflowId: $workflowId
    appId: $appId
    workerId: $workerId
  ) {
    from
    to
    bucket
    buckets {
      start
      counts {
        total
        queued
        running
        succeeded
        failed
        cancelled
        scheduled
        failureRate
        p50DurationMs
        p95DurationMs
        p50QueueWaitMs
        p95QueueWaitMs
      }
    }
    totals {
      total
      queued
      running
      succeeded
      failed
      cancelled
      scheduled
      failureRate
      p50DurationMs
      p95DurationMs
      p50QueueWaitMs
      p95QueueWaitMs
    }
    failureCodes {
      code
      runs
      firstAt
      lastAt
      lastMessage
      lastRunId
    }
  }
}
    `) as unknown as TypedDocumentString<RunMetricsQuery, RunMetricsQueryVariables>;
export const PoolSlotUsageDocument = new TypedDocumentString(`
    query PoolSlotUsage($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {
  poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) {
    from
    to
    bucket
    pools {
      pool
      points {
        start
        busySlots
        peakBusySlots
        totalSlots
        utilization
      }
    }
  }
}
    `) as unknown as TypedDocumentString<PoolSlotUsageQuery, PoolSlotUsageQueryVariables>;
export const NotificationsDocument = new TypedDocumentString(`
    query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    nodes {
      ...NotificationFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment NotificationFields on Notification {
  id
  type
  title
  body
  link
  createdAt
  readAt
}`) as unknown as TypedDocumentString<NotificationsQuery, NotificationsQueryVariables>;
export const UnreadNotificationCountDocument = new TypedDocumentString(`
    query UnreadNotificationCount {
  unreadNotificationCount
}
    `) as unknown as TypedDocumentString<UnreadNotificationCountQuery, UnreadNotificationCountQueryVariables>;
export const MarkNotificationsReadDocument = new TypedDocumentString(`
    mutation MarkNotificationsRead($ids: [ID!]!) {
  markNotificationsRead(ids: $ids) {
    id
    readAt
  }
}
    `) as unknown as TypedDocumentString<MarkNotificationsReadMutation, MarkNotificationsReadMutationVariables>;
export const MarkAllNotificationsReadDocument = new TypedDocumentString(`
    mutation MarkAllNotificationsRead {
  markAllNotificationsRead
}
    `) as unknown as TypedDocumentString<MarkAllNotificationsReadMutation, MarkAllNotificationsReadMutationVariables>;
export const NotificationAddedDocument = new TypedDocumentString(`
    subscription NotificationAdded {
  notificationAdded {
    ...NotificationFields
  }
}
    fragment NotificationFields on Notification {
  id
  type
  title
  body
  link
  createdAt
  readAt
}`) as unknown as TypedDocumentString<NotificationAddedSubscription, NotificationAddedSubscriptionVariables>;
export const NotificationPreferencesDocument = new TypedDocumentString(`
    query NotificationPreferences {
  notificationPreferences {
    emailMode
    events {
      type
      label
      inApp
      email
      required
      custom
    }
  }
}
    `) as unknown as TypedDocumentString<NotificationPreferencesQuery, NotificationPreferencesQueryVariables>;
export const UpdateNotificationPreferencesDocument = new TypedDocumentString(`
    mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    emailMode
    events {
      type
      label
      inApp
      email
      required
      custom
    }
  }
}
    `) as unknown as TypedDocumentString<UpdateNotificationPreferencesMutation, UpdateNotificationPreferencesMutationVariables>;
export const RunAttemptsDocument = new TypedDocumentString(`
    query RunAttempts($id: ID!, $first: Int, $after: String) {
  run(id: $id) {
    id
    lastSeq
    attempts(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...TimelineAttemptFields
        }
      }
    }
  }
}
    fragment TimelineAttemptFields on TaskAttempt {
  id
  number
  taskId
  stepId
  itemIndex
  status
  workerId
  queuedAt
  startedAt
  finishedAt
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<RunAttemptsQuery, RunAttemptsQueryVariables>;
export const TaskAttemptsDocument = new TypedDocumentString(`
    query TaskAttempts($id: ID!) {
  task(id: $id) {
    id
    attemptHistory {
      ...TimelineAttemptFields
    }
  }
}
    fragment TimelineAttemptFields on TaskAttempt {
  id
  number
  taskId
  stepId
  itemIndex
  status
  workerId
  queuedAt
  startedAt
  finishedAt
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<TaskAttemptsQuery, TaskAttemptsQueryVariables>;
export const RunEventLogDocument = new TypedDocumentString(`
    query RunEventLog($id: ID!, $afterSeq: Int, $first: Int) {
  run(id: $id) {
    id
    lastSeq
    events(afterSeq: $afterSeq, first: $first) {
      ...EventLogFields
    }
  }
}
    fragment EventLogFields on RunEvent {
  seq
  kind
  at
  taskId
  stepId
  runStatus
  taskStatus
  attemptId
  attempt
  message
  level
  error {
    code
    message
  }
  outputDelta {
    text
  }
  waitReason {
    kind
    message
  }
}`) as unknown as TypedDocumentString<RunEventLogQuery, RunEventLogQueryVariables>;
export const RunEventLogLiveDocument = new TypedDocumentString(`
    subscription RunEventLogLive($runId: ID!, $afterSeq: Int!) {
  runEventBatches(runId: $runId, afterSeq: $afterSeq) {
    lastSeq
    events {
      ...EventLogFields
    }
  }
}
    fragment EventLogFields on RunEvent {
  seq
  kind
  at
  taskId
  stepId
  runStatus
  taskStatus
  attemptId
  attempt
  message
  level
  error {
    code
    message
  }
  outputDelta {
    text
  }
  waitReason {
    kind
    message
  }
}`) as unknown as TypedDocumentString<RunEventLogLiveSubscription, RunEventLogLiveSubscriptionVariables>;
export const RunsDocument = new TypedDocumentString(`
    query Runs($first: Int, $after: String, $filter: RunFilter) {
  runs(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        ...RunSummaryFields
        idempotencyKey
      }
    }
  }
}
    fragment RunSummaryFields on Run {
  id
  status
  workflowVersion
  workflow {
    id
    name
  }
  startedByName
  createdAt
  startedAt
  finishedAt
  durationMs
  error {
    code
    message
    stepId
  }
}`) as unknown as TypedDocumentString<RunsQuery, RunsQueryVariables>;
export const RunAgainSourceDocument = new TypedDocumentString(`
    query RunAgainSource($id: ID!) {
  run(id: $id) {
    id
    input
    workflowVersion
    workflow {
      id
      name
      versions {
        number
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RunAgainSourceQuery, RunAgainSourceQueryVariables>;
export const CancelRunsDocument = new TypedDocumentString(`
    mutation CancelRuns($ids: [ID!]!, $reason: String) {
  cancelRuns(ids: $ids, reason: $reason) {
    id
    run {
      id
      status
      cancelReason
    }
    error {
      code
      reason
      message
    }
  }
}
    `) as unknown as TypedDocumentString<CancelRunsMutation, CancelRunsMutationVariables>;
export const RetryRunsDocument = new TypedDocumentString(`
    mutation RetryRuns($ids: [ID!]!) {
  retryRuns(ids: $ids) {
    id
    run {
      id
      status
    }
    error {
      code
      reason
      message
    }
  }
}
    `) as unknown as TypedDocumentString<RetryRunsMutation, RetryRunsMutationVariables>;
export const RunDocument = new TypedDocumentString(`
    query Run($id: ID!) {
  run(id: $id) {
    ...RunSummaryFields
    input
    output
    idempotencyKey
    cancelReason
    lastSeq
    app {
      id
      name
    }
    tasks {
      ...TaskRowFields
    }
  }
}
    fragment RunSummaryFields on Run {
  id
  status
  workflowVersion
  workflow {
    id
    name
  }
  startedByName
  createdAt
  startedAt
  finishedAt
  durationMs
  error {
    code
    message
    stepId
  }
}
fragment TaskRowFields on Task {
  id
  stepId
  capability
  status
  dependsOn
  error {
    code
    message
    retryable
    stepId
  }
  attempts
  maxAttempts
  progress
  progressMessage
  pool
  workerId
  gpus {
    index
    model
    memoryMiB
  }
  waitReason {
    kind
    message
    since
  }
  queuedAt
  startedAt
  finishedAt
  durationMs
  attemptHistory {
    number
    queuedAt
  }
  itemCounts {
    ...ItemCountFields
  }
}
fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}`) as unknown as TypedDocumentString<RunQuery, RunQueryVariables>;
export const TaskDetailDocument = new TypedDocumentString(`
    query TaskDetail($id: ID!) {
  task(id: $id) {
    ...TaskFields
  }
}
    fragment TaskRowFields on Task {
  id
  stepId
  capability
  status
  dependsOn
  error {
    code
    message
    retryable
    stepId
  }
  attempts
  maxAttempts
  progress
  progressMessage
  pool
  workerId
  gpus {
    index
    model
    memoryMiB
  }
  waitReason {
    kind
    message
    since
  }
  queuedAt
  startedAt
  finishedAt
  durationMs
  attemptHistory {
    number
    queuedAt
  }
  itemCounts {
    ...ItemCountFields
  }
}
fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}
fragment TaskFields on Task {
  ...TaskRowFields
  itemIndex
  input
  output
  usage {
    calls
    failedCalls
    promptTokens
    completionTokens
    costUsd
    gpuSeconds
  }
  attemptHistory {
    id
    number
    status
    workerId
    queuedAt
    startedAt
    finishedAt
    durationMs
    error {
      code
      message
    }
  }
}`) as unknown as TypedDocumentString<TaskDetailQuery, TaskDetailQueryVariables>;
export const RunWaitsDocument = new TypedDocumentString(`
    query RunWaits($id: ID!) {
  run(id: $id) {
    id
    tasks {
      id
      status
      waitReason {
        kind
        message
        since
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RunWaitsQuery, RunWaitsQueryVariables>;
export const RunItemCountsDocument = new TypedDocumentString(`
    query RunItemCounts($id: ID!) {
  run(id: $id) {
    id
    lastSeq
    tasks {
      id
      itemCounts {
        ...ItemCountFields
      }
    }
  }
}
    fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}`) as unknown as TypedDocumentString<RunItemCountsQuery, RunItemCountsQueryVariables>;
export const TaskItemsDocument = new TypedDocumentString(`
    query TaskItems($id: ID!, $first: Int, $after: String, $status: TaskStatus) {
  task(id: $id) {
    id
    items(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...TaskRowFields
          itemIndex
        }
      }
    }
  }
}
    fragment TaskRowFields on Task {
  id
  stepId
  capability
  status
  dependsOn
  error {
    code
    message
    retryable
    stepId
  }
  attempts
  maxAttempts
  progress
  progressMessage
  pool
  workerId
  gpus {
    index
    model
    memoryMiB
  }
  waitReason {
    kind
    message
    since
  }
  queuedAt
  startedAt
  finishedAt
  durationMs
  attemptHistory {
    number
    queuedAt
  }
  itemCounts {
    ...ItemCountFields
  }
}
fragment ItemCountFields on TaskItemCounts {
  total
  pending
  queued
  running
  succeeded
  failed
  cancelled
}`) as unknown as TypedDocumentString<TaskItemsQuery, TaskItemsQueryVariables>;
export const TaskLogsDocument = new TypedDocumentString(`
    query TaskLogs($id: ID!, $afterSeq: Int, $first: Int) {
  task(id: $id) {
    id
    logs(afterSeq: $afterSeq, first: $first) {
      seq
      at
      level
      message
      attempt
    }
  }
}
    `) as unknown as TypedDocumentString<TaskLogsQuery, TaskLogsQueryVariables>;
export const CancelRunDocument = new TypedDocumentString(`
    mutation CancelRun($id: ID!, $reason: String) {
  cancelRun(id: $id, reason: $reason) {
    id
    status
    cancelReason
  }
}
    `) as unknown as TypedDocumentString<CancelRunMutation, CancelRunMutationVariables>;
export const RetryRunDocument = new TypedDocumentString(`
    mutation RetryRun($id: ID!) {
  retryRun(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RetryRunMutation, RetryRunMutationVariables>;
export const DeadLettersDocument = new TypedDocumentString(`
    query DeadLetters($first: Int, $after: String, $filter: DeadLetterFilter) {
  deadLetters(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        stepId
        attempts
        createdAt
        replayedAt
        replayedBy
        discardedAt
        discardedBy
        error {
          code
          message
          retryable
        }
        run {
          id
          status
          workflow {
            id
            name
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DeadLettersQuery, DeadLettersQueryVariables>;
export const DeadLetterGroupsDocument = new TypedDocumentString(`
    query DeadLetterGroups {
  deadLetterGroups {
    errorCode
    stepId
    count
    lastAt
    message
    workflow {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<DeadLetterGroupsQuery, DeadLetterGroupsQueryVariables>;
export const ReplayDeadLettersDocument = new TypedDocumentString(`
    mutation ReplayDeadLetters($ids: [ID!]!) {
  replayDeadLetters(ids: $ids) {
    id
    deadLetter {
      id
      replayedAt
      run {
        id
        status
      }
    }
    error {
      code
      reason
      message
    }
  }
}
    `) as unknown as TypedDocumentString<ReplayDeadLettersMutation, ReplayDeadLettersMutationVariables>;
export const DiscardDeadLettersDocument = new TypedDocumentString(`
    mutation DiscardDeadLetters($ids: [ID!]!) {
  discardDeadLetters(ids: $ids) {
    id
    deadLetter {
      id
      discardedAt
    }
    error {
      code
      reason
      message
    }
  }
}
    `) as unknown as TypedDocumentString<DiscardDeadLettersMutation, DiscardDeadLettersMutationVariables>;
export const ReplayDeadLetterDocument = new TypedDocumentString(`
    mutation ReplayDeadLetter($id: ID!) {
  replayDeadLetter(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ReplayDeadLetterMutation, ReplayDeadLetterMutationVariables>;
export const RunEventBatchesDocument = new TypedDocumentString(`
    subscription RunEventBatches($runId: ID!, $afterSeq: Int!, $withOutput: Boolean!, $progressOf: [ID!]) {
  runEventBatches(runId: $runId, afterSeq: $afterSeq, progressOf: $progressOf) {
    lastSeq
    events {
      seq
      kind
      at
      runStatus
      taskId
      stepId
      taskStatus
      attempt
      progress
      message
      level
      error {
        code
        message
        retryable
        stepId
      }
      attemptId @include(if: $withOutput)
      outputDelta @include(if: $withOutput) {
        seq
        offset
        text
        restart
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RunEventBatchesSubscription, RunEventBatchesSubscriptionVariables>;
export const TaskStreamedOutputDocument = new TypedDocumentString(`
    query TaskStreamedOutput($id: ID!) {
  task(id: $id) {
    id
    streamedOutput {
      attemptId
      text
      throughSeq
      deltaSeq
    }
  }
}
    `) as unknown as TypedDocumentString<TaskStreamedOutputQuery, TaskStreamedOutputQueryVariables>;
export const RunStatusChangedDocument = new TypedDocumentString(`
    subscription RunStatusChanged($workflowId: ID) {
  runStatusChanged(workflowId: $workflowId) {
    seq
    runId
    runStatus
    run {
      ...RunSummaryFields
    }
  }
}
    fragment RunSummaryFields on Run {
  id
  status
  workflowVersion
  workflow {
    id
    name
  }
  startedByName
  createdAt
  startedAt
  finishedAt
  durationMs
  error {
    code
    message
    stepId
  }
}`) as unknown as TypedDocumentString<RunStatusChangedSubscription, RunStatusChangedSubscriptionVariables>;
export const TaskArtifactsDocument = new TypedDocumentString(`
    query TaskArtifacts($id: ID!) {
  task(id: $id) {
    id
    attemptHistory {
      id
      number
      artifacts {
        id
        name
        contentType
        sizeBytes
        sha256
        createdAt
        downloadUrl
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TaskArtifactsQuery, TaskArtifactsQueryVariables>;
export const SecretsDocument = new TypedDocumentString(`
    query Secrets {
  secrets {
    id
    name
    version
    createdAt
    createdBy
    updatedAt
    updatedBy
    lastUsedAt
  }
}
    `) as unknown as TypedDocumentString<SecretsQuery, SecretsQueryVariables>;
export const CreateSecretDocument = new TypedDocumentString(`
    mutation CreateSecret($name: String!, $value: String!) {
  createSecret(name: $name, value: $value) {
    id
    name
    version
  }
}
    `) as unknown as TypedDocumentString<CreateSecretMutation, CreateSecretMutationVariables>;
export const RotateSecretDocument = new TypedDocumentString(`
    mutation RotateSecret($name: String!, $value: String!) {
  rotateSecret(name: $name, value: $value) {
    id
    name
    version
    updatedAt
  }
}
    `) as unknown as TypedDocumentString<RotateSecretMutation, RotateSecretMutationVariables>;
export const DeleteSecretDocument = new TypedDocumentString(`
    mutation DeleteSecret($name: String!) {
  deleteSecret(name: $name) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<DeleteSecretMutation, DeleteSecretMutationVariables>;
export const WebhookEndpointsDocument = new TypedDocumentString(`
    query WebhookEndpoints {
  webhookEndpoints {
    id
    url
    description
    events
    enabled
    disabledAt
    disabledReason
    createdAt
    secretRotatedAt
    previousSecretExpiresAt
  }
  notificationEventTypes {
    type
    label
  }
}
    `) as unknown as TypedDocumentString<WebhookEndpointsQuery, WebhookEndpointsQueryVariables>;
export const WebhookDeliveriesDocument = new TypedDocumentString(`
    query WebhookDeliveries($id: ID!, $first: Int, $after: String) {
  webhookEndpoint(id: $id) {
    id
    url
    deliveries(first: $first, after: $after) {
      nodes {
        id
        eventId
        eventType
        status
        attempts
        createdAt
        deliveredAt
        nextAttemptAt
        lastStatusCode
        lastLatencyMs
        lastResponseExcerpt
        lastError
        redeliveryOf
        attemptLog {
          attemptedAt
          statusCode
          latencyMs
          error
          succeeded
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
    `) as unknown as TypedDocumentString<WebhookDeliveriesQuery, WebhookDeliveriesQueryVariables>;
export const CreateWebhookEndpointDocument = new TypedDocumentString(`
    mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    secret
    endpoint {
      id
      url
      events
    }
  }
}
    `) as unknown as TypedDocumentString<CreateWebhookEndpointMutation, CreateWebhookEndpointMutationVariables>;
export const UpdateWebhookEndpointDocument = new TypedDocumentString(`
    mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) {
    id
    url
    description
    events
    enabled
    disabledAt
  }
}
    `) as unknown as TypedDocumentString<UpdateWebhookEndpointMutation, UpdateWebhookEndpointMutationVariables>;
export const DeleteWebhookEndpointDocument = new TypedDocumentString(`
    mutation DeleteWebhookEndpoint($id: ID!) {
  deleteWebhookEndpoint(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteWebhookEndpointMutation, DeleteWebhookEndpointMutationVariables>;
export const RotateWebhookSecretDocument = new TypedDocumentString(`
    mutation RotateWebhookSecret($id: ID!) {
  rotateWebhookSecret(id: $id) {
    secret
    endpoint {
      id
      secretRotatedAt
      previousSecretExpiresAt
    }
  }
}
    `) as unknown as TypedDocumentString<RotateWebhookSecretMutation, RotateWebhookSecretMutationVariables>;
export const RedeliverWebhookDocument = new TypedDocumentString(`
    mutation RedeliverWebhook($deliveryId: ID!) {
  redeliverWebhook(deliveryId: $deliveryId) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RedeliverWebhookMutation, RedeliverWebhookMutationVariables>;
export const SsoConnectionDocument = new TypedDocumentString(`
    query SsoConnection {
  ssoConnection {
    ...SsoConnectionFields
  }
}
    fragment SsoConnectionFields on SsoConnection {
  id
  slug
  issuer
  clientId
  clientSecretSet
  domains
  defaultRole
  requireSso
  redirectUri
  updatedAt
}`) as unknown as TypedDocumentString<SsoConnectionQuery, SsoConnectionQueryVariables>;
export const TestSsoConnectionDocument = new TypedDocumentString(`
    query TestSsoConnection($issuer: String!) {
  testSsoConnection(issuer: $issuer) {
    issuer
    authorizationEndpoint
    tokenEndpoint
    jwksUri
    userinfoEndpoint
    supportsPkce
  }
}
    `) as unknown as TypedDocumentString<TestSsoConnectionQuery, TestSsoConnectionQueryVariables>;
export const ConfigureSsoDocument = new TypedDocumentString(`
    mutation ConfigureSso($input: ConfigureSsoInput!) {
  configureSso(input: $input) {
    ...SsoConnectionFields
  }
}
    fragment SsoConnectionFields on SsoConnection {
  id
  slug
  issuer
  clientId
  clientSecretSet
  domains
  defaultRole
  requireSso
  redirectUri
  updatedAt
}`) as unknown as TypedDocumentString<ConfigureSsoMutation, ConfigureSsoMutationVariables>;
export const DeleteSsoConnectionDocument = new TypedDocumentString(`
    mutation DeleteSsoConnection {
  deleteSsoConnection
}
    `) as unknown as TypedDocumentString<DeleteSsoConnectionMutation, DeleteSsoConnectionMutationVariables>;
export const StartSsoSignInDocument = new TypedDocumentString(`
    mutation StartSsoSignIn($input: StartSsoSignInInput!) {
  startSsoSignIn(input: $input) {
    authorizationUrl
    binding
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<StartSsoSignInMutation, StartSsoSignInMutationVariables>;
export const CompleteSsoSignInDocument = new TypedDocumentString(`
    mutation CompleteSsoSignIn($input: CompleteSsoSignInInput!) {
  completeSsoSignIn(input: $input) {
    ...AuthPayloadFields
  }
}
    fragment AuthPayloadFields on AuthPayload {
  accessToken
  accessTokenExpiresAt
  refreshToken
  refreshTokenExpiresAt
  role
  user {
    id
    email
    name
  }
  organization {
    id
    name
  }
}`) as unknown as TypedDocumentString<CompleteSsoSignInMutation, CompleteSsoSignInMutationVariables>;
export const WorkflowsDocument = new TypedDocumentString(`
    query Workflows($first: Int, $after: String, $filter: WorkflowFilter) {
  workflows(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        name
        description
        updatedAt
        app {
          id
          name
        }
        latestVersion {
          number
          steps {
            id
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<WorkflowsQuery, WorkflowsQueryVariables>;
export const WorkflowDocument = new TypedDocumentString(`
    query Workflow($id: ID!) {
  workflow(id: $id) {
    id
    name
    description
    createdBy
    createdAt
    updatedAt
    app {
      id
      name
    }
    latestVersion {
      number
    }
    versions {
      number
      createdBy
      createdAt
      steps {
        ...StepFields
      }
    }
  }
}
    fragment StepFields on Step {
  id
  capability
  input
  dependsOn
  retry {
    maxAttempts
    initialDelayMs
    backoffFactor
    maxDelayMs
  }
  timeoutMs
  pool
  labels {
    key
    value
  }
}`) as unknown as TypedDocumentString<WorkflowQuery, WorkflowQueryVariables>;
export const CapabilitiesDocument = new TypedDocumentString(`
    query Capabilities {
  capabilities
}
    `) as unknown as TypedDocumentString<CapabilitiesQuery, CapabilitiesQueryVariables>;
export const CreateWorkflowDocument = new TypedDocumentString(`
    mutation CreateWorkflow($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) {
    id
    name
    latestVersion {
      number
    }
  }
}
    `) as unknown as TypedDocumentString<CreateWorkflowMutation, CreateWorkflowMutationVariables>;
export const PublishWorkflowVersionDocument = new TypedDocumentString(`
    mutation PublishWorkflowVersion($workflowId: ID!, $steps: [StepInput!]!) {
  publishWorkflowVersion(workflowId: $workflowId, steps: $steps) {
    workflowId
    number
  }
}
    `) as unknown as TypedDocumentString<PublishWorkflowVersionMutation, PublishWorkflowVersionMutationVariables>;
export const StartRunDocument = new TypedDocumentString(`
    mutation StartRun($input: StartRunInput!) {
  startRun(input: $input) {
    deduplicated
    run {
      id
      status
    }
  }
}
    `) as unknown as TypedDocumentString<StartRunMutation, StartRunMutationVariables>;