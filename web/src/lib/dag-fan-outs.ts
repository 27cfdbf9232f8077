import type { DagStep } from './dag-layout';
import { EMPTY_ITEM_COUNTS, type ItemCounts } from './item-counts';

/**
 * Static fan-outs in a run's graph: many sibling steps with the same dependencies and the same
 * dependents (`fetch → a1 … a50 → join`) drawn as one box with their counts by status, the way a
 * forEach step's items are, and expanded into their steps on request. Pure functions: the view keeps
 * which groups are open.
 */

/** Fewer siblings than this are drawn one by one (a handful of boxes reads better than a group). */
export const FAN_OUT_MIN_SIZE = 8;

/** A group's id in the graph: `:` cannot occur in a step id (^[A-Za-z_][A-Za-z0-9_-]*$), so it never names a step. */
const GROUP_PREFIX = 'fan-out:';

export interface FanOut {
  id: string;
  /** Its steps, in definition order. */
  members: string[];
  /** The dependencies its steps share. */
  dependsOn: string[];
}

export const isFanOutId = (id: string): boolean => id.startsWith(GROUP_PREFIX);

/**
 * The fan-outs of a graph: steps sharing both their (known) dependencies and their dependents, at
 * least `minSize` of them. Steps with neither (independent steps) group too. Unknown dependencies
 * and duplicates are left to the layout to report: a step naming one is never grouped.
 */
export function findFanOuts(steps: readonly DagStep[], minSize = FAN_OUT_MIN_SIZE): FanOut[] {
  const ids = new Set<string>();
  const duplicated = new Set<string>();
  for (const step of steps) (ids.has(step.id) ? duplicated : ids).add(step.id);
  const dependents = new Map<string, string[]>();
  for (const step of steps) {
    for (const dep of new Set(step.dependsOn ?? [])) {
      const list = dependents.get(dep);
      if (list) list.push(step.id);
      else dependents.set(dep, [step.id]);
    }
  }
  const bySignature = new Map<string, { members: string[]; dependsOn: string[] }>();
  for (const step of steps) {
    const deps = [...new Set(step.dependsOn ?? [])];
    if (duplicated.has(step.id) || deps.some((d) => !ids.has(d) || d === step.id)) continue;
    const parents = [...deps].sort();
    const children = [...new Set(dependents.get(step.id) ?? [])].sort();
    const signature = `${parents.join(',')}>${children.join(',')}`;
    const group = bySignature.get(signature);
    if (group) group.members.push(step.id);
    else bySignature.set(signature, { members: [step.id], dependsOn: deps });
  }
  const fanOuts: FanOut[] = [];
  for (const { members, dependsOn } of bySignature.values()) {
    if (members.length >= minSize) fanOuts.push({ id: `${GROUP_PREFIX}${members[0]!}`, members, dependsOn });
  }
  return fanOuts;
}

export interface CollapsedDag {
  /** The steps to lay out: a closed group is one step (its id) standing for its members. */
  steps: DagStep[];
  /** The closed group each grouped step is drawn in. */
  groupOf: ReadonlyMap<string, FanOut>;
  /** Closed groups by id. */
  closed: ReadonlyMap<string, FanOut>;
}

/**
 * The graph with every fan-out not in `open` drawn as one step, placed where its first member was;
 * dependencies on a closed group's members become one dependency on the group.
 */
export function collapseFanOuts(steps: readonly DagStep[], fanOuts: readonly FanOut[], open: ReadonlySet<string>): CollapsedDag {
  const groupOf = new Map<string, FanOut>();
  const closed = new Map<string, FanOut>();
  for (const group of fanOuts) {
    if (open.has(group.id)) continue;
    closed.set(group.id, group);
    for (const member of group.members) groupOf.set(member, group);
  }
  if (closed.size === 0) return { steps: [...steps], groupOf, closed };
  const drawnAs = (id: string) => groupOf.get(id)?.id ?? id;
  const mapDeps = (deps: readonly string[] | null | undefined) => [...new Set((deps ?? []).map(drawnAs))];
  const shown: DagStep[] = [];
  for (const step of steps) {
    const group = groupOf.get(step.id);
    if (!group) shown.push({ id: step.id, dependsOn: mapDeps(step.dependsOn) });
    else if (group.members[0] === step.id) shown.push({ id: group.id, dependsOn: mapDeps(group.dependsOn) });
  }
  return { steps: shown, groupOf, closed };
}

const COUNT_KEY: Readonly<Record<string, Exclude<keyof ItemCounts, 'total'>>> = { QUEUED: 'queued', RUNNING: 'running', SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELLED: 'cancelled' };

/** A group's steps counted by status (the counts its box shows, like a forEach step's items); a step without a status counts as pending. */
export function countMembers(group: FanOut, statusOf: (id: string) => string | undefined): ItemCounts {
  const counts: ItemCounts = { ...EMPTY_ITEM_COUNTS, total: group.members.length };
  for (const id of group.members) counts[COUNT_KEY[statusOf(id) ?? ''] ?? 'pending'] += 1;
  return counts;
}

/**
 * The one status a group's box is coloured by: failed when any step failed, running while any runs,
 * succeeded when all did; else queued when any is queued, cancelled when all that ended were, pending.
 */
export function groupStatus(counts: ItemCounts): string {
  if (counts.failed > 0) return 'FAILED';
  if (counts.running > 0) return 'RUNNING';
  if (counts.succeeded === counts.total) return 'SUCCEEDED';
  if (counts.queued > 0) return 'QUEUED';
  if (counts.cancelled > 0 && counts.pending === 0) return 'CANCELLED';
  if (counts.succeeded > 0) return 'RUNNING';
  return 'PENDING';
}
