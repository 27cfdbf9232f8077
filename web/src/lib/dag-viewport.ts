import type { DagNode } from './dag-layout';

/**
 * The graph's viewport: a scale and a translation from layout coordinates to the view's pixels
 * (view = layout × k + (x, y)), with zooming about a point, fitting, and arrow-key moves between
 * nodes. Pure functions, so the component only keeps the state.
 */

export interface ViewTransform {
  k: number;
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 2;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The whole graph in view, centred, never enlarged past 100%. */
export function fitTransform(content: Size, view: Size, margin = 16): ViewTransform {
  if (content.width <= 0 || content.height <= 0 || view.width <= 0 || view.height <= 0) return { k: 1, x: 0, y: 0 };
  const k = clamp(Math.min((view.width - margin * 2) / content.width, (view.height - margin * 2) / content.height, 1), MIN_SCALE, MAX_SCALE);
  return { k, x: (view.width - content.width * k) / 2, y: (view.height - content.height * k) / 2 };
}

/** Zoomed by `factor` keeping the point (px, py) of the view where it is. */
export function zoomAt(t: ViewTransform, factor: number, px: number, py: number): ViewTransform {
  const k = clamp(t.k * factor, MIN_SCALE, MAX_SCALE);
  const ratio = k / t.k;
  return { k, x: px - (px - t.x) * ratio, y: py - (py - t.y) * ratio };
}

/** The part of the layout in view (layout coordinates). */
export function visibleArea(t: ViewTransform, view: Size): { x: number; y: number; width: number; height: number } {
  return { x: -t.x / t.k, y: -t.y / t.k, width: view.width / t.k, height: view.height / t.k };
}

/** Moved the least so that a box (layout coordinates) is in view with a margin; unchanged when it already is. */
export function bringIntoView(t: ViewTransform, view: Size, box: { x: number; y: number; width: number; height: number }, margin = 24): ViewTransform {
  const left = box.x * t.k + t.x;
  const top = box.y * t.k + t.y;
  const right = left + box.width * t.k;
  const bottom = top + box.height * t.k;
  let { x, y } = t;
  if (left < margin) x += margin - left;
  else if (right > view.width - margin) x -= Math.min(right - (view.width - margin), left - margin);
  if (top < margin) y += margin - top;
  else if (bottom > view.height - margin) y -= Math.min(bottom - (view.height - margin), top - margin);
  return x === t.x && y === t.y ? t : { ...t, x, y };
}

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * The node an arrow key moves to: up/down the column, or into the next/previous column at the row
 * nearest on screen. Undefined at an edge.
 */
export function nodeInDirection(nodes: readonly DagNode[], fromId: string, direction: Direction): string | undefined {
  const from = nodes.find((n) => n.id === fromId);
  if (!from) return nodes[0]?.id;
  if (direction === 'up' || direction === 'down') {
    const row = from.row + (direction === 'down' ? 1 : -1);
    return nodes.find((n) => n.column === from.column && n.row === row)?.id;
  }
  const columns = [...new Set(nodes.map((n) => n.column))].sort((a, b) => a - b);
  const at = columns.indexOf(from.column) + (direction === 'right' ? 1 : -1);
  const column = columns[at];
  if (column === undefined) return undefined;
  let best: DagNode | undefined;
  for (const n of nodes) if (n.column === column && (!best || Math.abs(n.y - from.y) < Math.abs(best.y - from.y))) best = n;
  return best?.id;
}
