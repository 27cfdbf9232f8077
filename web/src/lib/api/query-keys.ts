/**
 * Every query key of the app, in one place, so invalidation after a mutation or a live event always
 * names the same keys the pages read. Keys are arrays that start with their domain: invalidating
 * `queryKeys.runs.all` reaches every runs list and every run.
 *
 * The cache is cleared when the session moves to another organization, so keys need not carry the org.
 */

export interface RunListParams {
  status?: readonly string[] | undefined;
  workflowId?: string | undefined;
  appId?: string | undefined;
  startedBy?: string | undefined;
  search?: string | undefined;
  createdAfter?: string | undefined;
  createdBefore?: string | undefined;
  after?: string | undefined;
  first?: number | undefined;
}

export interface AuditListParams {
  actorId?: string | undefined;
  /** What the actor picker showed for actorId (not sent to the API). */
  actorLabel?: string | undefined;
  action?: string | undefined;
  /** Sign-in and token refresh events are shown too. */
  noise?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  after?: string | undefined;
}

/** Drops undefined and empty values so that `{}` and `{ status: undefined }` are the same key. */
export function normalizeParams<T extends object>(params: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(params).sort()) {
    const value = (params as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      out[key] = [...(value as unknown[])].sort();
      continue;
    }
    out[key] = value;
  }
  return out as Partial<T>;
}

export const queryKeys = {
  me: ['me'] as const,
  workflows: {
    all: ['workflows'] as const,
    list: (params: { search?: string | undefined; after?: string | undefined }) => ['workflows', 'list', normalizeParams(params)] as const,
    detail: (id: string) => ['workflows', 'detail', id] as const,
    capabilities: ['workflows', 'capabilities'] as const,
  },
  runs: {
    all: ['runs'] as const,
    lists: ['runs', 'list'] as const,
    list: (params: RunListParams) => ['runs', 'list', normalizeParams(params)] as const,
    detail: (id: string) => ['runs', 'detail', id] as const,
    task: (id: string) => ['runs', 'task', id] as const,
    waits: (runId: string) => ['runs', 'waits', runId] as const,
    itemCounts: (runId: string) => ['runs', 'item-counts', runId] as const,
    /** A forEach step's items, a page at a time (optionally of one status). */
    taskItems: (taskId: string, status: string | undefined) => ['runs', 'task-items', taskId, status ?? ''] as const,
    allTaskLogs: ['runs', 'task-logs'] as const,
    taskLogs: (taskId: string) => ['runs', 'task-logs', taskId] as const,
    /** A task's artifacts per attempt (their download URLs are short-lived: refetched, not kept). */
    taskArtifacts: (taskId: string) => ['runs', 'task-artifacts', taskId] as const,
    streamedOutput: (taskId: string) => ['runs', 'streamed-output', taskId] as const,
  },
  approvals: {
    all: ['approvals'] as const,
    list: (params: { after?: string | undefined }) => ['approvals', 'list', normalizeParams(params)] as const,
    count: ['approvals', 'count'] as const,
    ofTask: (taskId: string) => ['approvals', 'task', taskId] as const,
  },
  deadLetters: {
    all: ['dead-letters'] as const,
    list: (params: { includeReplayed?: boolean | undefined; after?: string | undefined; errorCode?: string | undefined; stepId?: string | undefined; workflowId?: string | undefined }) =>
      ['dead-letters', 'list', normalizeParams(params)] as const,
    groups: ['dead-letters', 'groups'] as const,
  },
  workers: {
    all: ['workers'] as const,
    list: (params: { status?: readonly string[] | undefined; pool?: string | undefined; capability?: string | undefined }) => ['workers', 'list', normalizeParams(params)] as const,
  },
  apps: {
    all: ['apps'] as const,
    list: (params: { search?: string | undefined; status?: readonly string[] | undefined; after?: string | undefined }) => ['apps', 'list', normalizeParams(params)] as const,
    detail: (id: string) => ['apps', 'detail', id] as const,
    /** The apps a workflow may belong to. */
    choices: ['apps', 'choices'] as const,
    /** The dashboard's health of every app. */
    health: ['apps', 'health'] as const,
  },
  members: {
    all: ['members'] as const,
    list: (params: { search?: string | undefined; after?: string | undefined }) => ['members', 'list', normalizeParams(params)] as const,
    invitations: (params: { includeClosed?: boolean | undefined }) => ['members', 'invitations', normalizeParams(params)] as const,
    /** Everyone an app's owner may be chosen from. */
    choices: ['members', 'choices'] as const,
    /** Members matching what was typed in a member picker. */
    picker: (search: string) => ['members', 'picker', search] as const,
  },
  apiKeys: {
    all: ['api-keys'] as const,
    list: (params: { includeRevoked?: boolean | undefined }) => ['api-keys', 'list', normalizeParams(params)] as const,
  },
  secrets: {
    all: ['secrets'] as const,
  },
  triggers: {
    all: ['triggers'] as const,
    deliveries: (triggerId: string) => ['triggers', 'deliveries', triggerId] as const,
  },
  schedules: {
    all: ['schedules'] as const,
    form: ['schedules', 'form'] as const,
    fires: (scheduleId: string) => ['schedules', 'fires', scheduleId] as const,
    /** A cron read before it is saved (not under `all`: no mutation changes it). */
    cronPreview: (cron: string, timezone: string) => ['cron-preview', cron, timezone] as const,
  },
  rateLimits: {
    all: ['rate-limits'] as const,
  },
  organizationLimits: {
    all: ['organization-limits'] as const,
  },
  webhooks: {
    all: ['webhooks'] as const,
    endpoints: ['webhooks', 'endpoints'] as const,
    deliveries: (endpointId: string) => ['webhooks', 'deliveries', endpointId] as const,
  },
  notifications: {
    all: ['notifications'] as const,
    lists: ['notifications', 'list'] as const,
    list: (params: { unreadOnly?: boolean | undefined }) => ['notifications', 'list', normalizeParams(params)] as const,
    unreadCount: ['notifications', 'unread-count'] as const,
    preferences: ['notifications', 'preferences'] as const,
  },
  sso: {
    connection: ['sso', 'connection'] as const,
  },
  usage: {
    all: ['usage'] as const,
    series: (params: { from: string; to: string; splitBy: string }) => ['usage', 'series', normalizeParams(params)] as const,
  },
  llmProviders: {
    all: ['llm-providers'] as const,
    secretChoices: ['llm-providers', 'secret-choices'] as const,
  },
  metrics: {
    all: ['metrics'] as const,
    runs: (params: { from: string; to: string; bucket: string; workflowId?: string | undefined; appId?: string | undefined; workerId?: string | undefined }) => ['metrics', 'runs', normalizeParams(params)] as const,
    slots: (params: { from: string; to: string; bucket: string; pool?: string | undefined }) => ['metrics', 'slots', normalizeParams(params)] as const,
  },
  audit: {
    all: ['audit'] as const,
    list: (params: AuditListParams) => ['audit', 'list', normalizeParams(params)] as const,
    /** `check` counts the operator's clicks: each asks for a fresh verification. */
    verification: (range: { from?: string | undefined; to?: string | undefined; check: number }) => ['audit', 'verify', normalizeParams(range)] as const,
  },
} as const;
