import type { RunStatus } from './api/__generated__/graphql';

/**
 * The runs list's state in the URL: its filters and the page it is on, so that Back (from a run, or
 * after a filter change) returns to the same list, and a link shows someone else the same page.
 */

export const RUN_STATUSES: readonly RunStatus[] = ['SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
/** The longest search the API takes (a run id or an idempotency key). */
export const RUN_SEARCH_MAX = 200;
/** Pages remembered in the URL (the way back from page N is the cursors of pages 2..N). */
export const RUN_PAGES_MAX = 50;

export interface RunsSearch {
  status?: RunStatus[];
  workflowId?: string;
  appId?: string;
  /** A user id, and the name the picker showed for it. */
  startedBy?: string;
  startedByLabel?: string;
  /** A run id or an idempotency key. */
  q?: string;
  /** datetime-local values (the user's time zone). */
  from?: string;
  to?: string;
  /** The `after` cursor of each page past the first, in order: the last one is the page shown. */
  pages?: string[];
}

const isRunStatus = (value: unknown): value is RunStatus => typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
const text = (value: unknown, max = 200): string | undefined => (typeof value === 'string' && value.trim() !== '' && value.length <= max ? value : undefined);

export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  const raw = search['status'];
  const status = [...new Set((Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(isRunStatus))];
  const rawPages = search['pages'];
  const pages = (Array.isArray(rawPages) ? rawPages : []).filter((c): c is string => text(c) !== undefined).slice(0, RUN_PAGES_MAX);
  const out: RunsSearch = {};
  if (status.length > 0) out.status = status;
  for (const key of ['workflowId', 'appId', 'startedBy', 'startedByLabel', 'from', 'to'] as const) {
    const value = text(search[key]);
    if (value !== undefined) out[key] = value;
  }
  const q = text(search['q'], RUN_SEARCH_MAX);
  if (q !== undefined) out.q = q.trim();
  if (out.startedBy === undefined) delete out.startedByLabel;
  if (pages.length > 0) out.pages = pages;
  return out;
}

/** A filter change starts again at page one. */
export const withFilters = (current: RunsSearch, patch: Partial<RunsSearch>): RunsSearch => parseRunsSearch({ ...current, ...patch, pages: undefined });

const toIso = (local: string | undefined): string | undefined => {
  if (!local) return undefined;
  const time = Date.parse(local);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
};

/** The API's RunFilter for what the URL says. */
export function runFilterOf(search: RunsSearch) {
  const createdAfter = toIso(search.from);
  const createdBefore = toIso(search.to);
  return {
    ...(search.status ? { status: search.status } : {}),
    ...(search.workflowId ? { workflowId: search.workflowId } : {}),
    ...(search.appId ? { appId: search.appId } : {}),
    ...(search.startedBy ? { startedBy: search.startedBy } : {}),
    ...(search.q ? { search: search.q } : {}),
    ...(createdAfter ? { createdAfter } : {}),
    ...(createdBefore ? { createdBefore } : {}),
  };
}
