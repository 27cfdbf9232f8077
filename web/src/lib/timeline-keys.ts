import type { TimelineRow } from './timeline';

/**
 * Keyboard access to the timeline (issue 12): the Gantt is one tab stop and the arrow keys move a
 * cursor between its bars — left/right along a row (retries), up/down to the bar of the row above or
 * below nearest in time — skipping rows without bars. A forEach step's row is a bar of its own (its
 * items' span; Enter opens or closes its items). The cursor is kept as a target key, not a position,
 * so it stays on its bar when live updates add rows or bars around it.
 */

export type TimelineTarget =
  | { kind: 'attempt'; key: string; attemptId: string; taskId: string; stepId: string; itemTask: boolean; start: number }
  | { kind: 'group'; key: string; stepId: string; start: number };

export const attemptTargetKey = (attemptId: string): string => `a:${attemptId}`;
export const groupTargetKey = (stepId: string): string => `g:${stepId}`;

/** A row's bars in time order: a forEach step's group first, then its own attempts. */
export function rowTargets(row: TimelineRow): TimelineTarget[] {
  const targets: TimelineTarget[] = [];
  if (row.kind === 'step' && row.group) targets.push({ kind: 'group', key: groupTargetKey(row.stepId), stepId: row.stepId, start: row.group.start ?? Number.NEGATIVE_INFINITY });
  for (const a of row.attempts) {
    targets.push({ kind: 'attempt', key: attemptTargetKey(a.id), attemptId: a.id, taskId: a.taskId, stepId: a.stepId, itemTask: row.kind === 'item', start: Date.parse(a.queuedAt) });
  }
  return targets;
}

export interface TimelineCursor {
  row: number;
  target: TimelineTarget;
}

/** Where a target key is now (null: gone, e.g. its items were closed). */
export function findTarget(rows: readonly TimelineRow[], key: string | null): TimelineCursor | null {
  if (key === null) return null;
  for (let row = 0; row < rows.length; row += 1) {
    const target = rowTargets(rows[row]!).find((t) => t.key === key);
    if (target) return { row, target };
  }
  return null;
}

function firstIn(rows: readonly TimelineRow[], from: number, step: 1 | -1): TimelineCursor | null {
  for (let row = from; row >= 0 && row < rows.length; row += step) {
    const targets = rowTargets(rows[row]!);
    if (targets.length > 0) return { row, target: targets[0]! };
  }
  return null;
}

/** The bar of a row nearest in time to `start`. */
function nearest(targets: readonly TimelineTarget[], start: number): TimelineTarget {
  let best = targets[0]!;
  for (const t of targets) if (Math.abs(t.start - start) < Math.abs(best.start - start)) best = t;
  return best;
}

/** The row with bars `count` rows away (or the last one there is), and in it the bar nearest in time. */
function verticalMove(rows: readonly TimelineRow[], at: TimelineCursor, count: number): TimelineCursor {
  const step = count > 0 ? 1 : -1;
  let found: TimelineCursor | null = null;
  let moved = 0;
  for (let row = at.row + step; row >= 0 && row < rows.length && moved < Math.abs(count); row += step) {
    const targets = rowTargets(rows[row]!);
    if (targets.length === 0) continue;
    moved += 1;
    found = { row, target: nearest(targets, at.target.start) };
  }
  return found ?? at;
}

/**
 * The cursor after a key: ArrowLeft/ArrowRight (along the row), ArrowUp/ArrowDown (rows with bars),
 * PageUp/PageDown (`page` such rows), Home/End (the row's first/last bar; with ctrl, the first/last
 * row's). Null when the key does not move the cursor. Without a cursor any move starts at the first bar.
 */
export function moveTimelineCursor(rows: readonly TimelineRow[], current: TimelineCursor | null, key: string, ctrlKey = false, page = 10): TimelineCursor | null {
  const moves = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End']);
  if (!moves.has(key)) return null;
  if (!current) return firstIn(rows, 0, 1);
  const targets = rowTargets(rows[current.row]!);
  const index = targets.findIndex((t) => t.key === current.target.key);
  switch (key) {
    case 'ArrowLeft':
      return index > 0 ? { row: current.row, target: targets[index - 1]! } : current;
    case 'ArrowRight':
      return index >= 0 && index < targets.length - 1 ? { row: current.row, target: targets[index + 1]! } : current;
    case 'ArrowUp':
      return verticalMove(rows, current, -1);
    case 'ArrowDown':
      return verticalMove(rows, current, 1);
    case 'PageUp':
      return verticalMove(rows, current, -page);
    case 'PageDown':
      return verticalMove(rows, current, page);
    case 'Home':
      return ctrlKey ? (firstIn(rows, 0, 1) ?? current) : { row: current.row, target: targets[0] ?? current.target };
    case 'End': {
      if (!ctrlKey) return { row: current.row, target: targets[targets.length - 1] ?? current.target };
      const last = firstIn(rows, rows.length - 1, -1);
      return last ? { row: last.row, target: rowTargets(rows[last.row]!).at(-1)! } : current;
    }
    default:
      return null;
  }
}

/** Zoom levels: 1 is the whole run in view; each step doubles. */
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 256;
export const clampZoom = (zoom: number): number => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));

/**
 * The horizontal scroll that keeps the time under `anchorX` (px from the chart area's visible left
 * edge) where it is when the chart area's width goes from `width` to `nextWidth`.
 */
export function anchoredScroll(scrollLeft: number, anchorX: number, width: number, nextWidth: number): number {
  const fraction = width > 0 ? (scrollLeft + anchorX) / width : 0;
  return Math.max(0, fraction * nextWidth - anchorX);
}
