import type { DagNode } from './dag-layout';

/**
 * A large graph zoomed out (or its minimap) drawn as one SVG path per status, each holding every box
 * of that status: a handful of elements instead of thousands, so a live status change costs the page
 * a few path strings rather than styling, laying out and painting thousands of nodes.
 */

export interface StatusPath {
  /** The status (`''` for boxes without one). */
  status: string;
  d: string;
  count: number;
}

/**
 * The boxes of `nodes` by status (`statuses[i]` is the status of `nodes[i]`), in layout
 * coordinates times `scale`, each at least `minSize` pixels.
 */
export function statusPaths(nodes: readonly DagNode[], statuses: ReadonlyArray<string | undefined>, box: { width: number; height: number }, scale = 1, minSize = 0): StatusPath[] {
  const width = Math.max(minSize, box.width * scale);
  const height = Math.max(minSize, box.height * scale);
  const round = (v: number) => Math.round(v * 100) / 100;
  const parts = new Map<string, string[]>();
  nodes.forEach((node, i) => {
    const status = statuses[i] ?? '';
    const rect = `M${round(node.x * scale)} ${round(node.y * scale)}h${round(width)}v${round(height)}h${round(-width)}z`;
    const list = parts.get(status);
    if (list) list.push(rect);
    else parts.set(status, [rect]);
  });
  return [...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([status, rects]) => ({ status, d: rects.join(''), count: rects.length }));
}
