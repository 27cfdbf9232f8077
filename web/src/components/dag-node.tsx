import { memo, useMemo } from 'react';
import type { DagEdge, DagNode } from '../lib/dag-layout';
import { statusPaths } from '../lib/dag-status-paths';
import { formatCount } from '../lib/format';
import { itemsDone, type ItemCounts } from '../lib/item-counts';

/** A step of the DAG view as one box, and the edges: the drawing the viewport (dag-view.tsx) moves and scales. */

/** Box colours by status: CSS variables (styles.css), so the graph follows the light or dark theme. */
const status = (name: string, stroke: string) => ({ fill: `var(--dag-${name}-fill)`, stroke, text: `var(--dag-${name}-text)` });
export const FILL: Record<string, { fill: string; stroke: string; text: string }> = {
  PENDING: status('pending', '#cbd5e1'),
  QUEUED: status('queued', '#94a3b8'),
  RUNNING: status('running', '#0ea5e9'),
  SUCCEEDED: status('succeeded', '#10b981'),
  FAILED: status('failed', '#ef4444'),
  CANCELLED: status('cancelled', '#f59e0b'),
};
export const DEFAULT_FILL = status('default', '#cbd5e1');
const PROBLEM_FILL = status('failed', '#dc2626');

export const NODE_WIDTH = 176;
export const NODE_HEIGHT = 56;

/**
 * The edges, drawn once per layout. Without arrows (zoomed out) they are one path: thousands of
 * curves as one element cost the page far less to hold, style and paint than one element each.
 */
export const DagEdges = memo(function DagEdges({ edges, arrows }: { edges: readonly DagEdge[]; arrows: boolean }) {
  if (!arrows) return edges.length > 0 ? <path d={edges.map((e) => e.path).join(' ')} fill="none" stroke="var(--dag-edge)" strokeWidth={1.5} data-edges={edges.length} /> : null;
  return edges.map((edge) => <path key={`${edge.from}->${edge.to}`} d={edge.path} fill="none" stroke="var(--dag-edge)" strokeWidth={1.5} markerEnd="url(#dag-arrow)" />);
});

/**
 * Every box of a large graph zoomed out too far to read them, as one path per status
 * (`statuses[i]` is the status of `nodes[i]`): a live change redraws a few paths, not thousands of nodes.
 */
export const DagStatusBoxes = memo(function DagStatusBoxes({ nodes, statuses }: { nodes: readonly DagNode[]; statuses: ReadonlyArray<string | undefined> }) {
  const paths = useMemo(() => statusPaths(nodes, statuses, { width: NODE_WIDTH, height: NODE_HEIGHT }), [nodes, statuses]);
  return paths.map((p) => <path key={p.status} d={p.d} fill={(FILL[p.status] ?? DEFAULT_FILL).stroke} data-status-boxes={p.status} data-count={p.count} />);
});

interface NodeProps {
  id: string;
  x: number;
  y: number;
  status: string | undefined;
  capability: string | undefined;
  progress: number | null | undefined;
  problem: boolean | undefined;
  /** A forEach step's items by status: the box stands for all of them (a stack, with a bar of their statuses). */
  items?: ItemCounts | null | undefined;
  /**
   * A box standing for a closed fan-out (many sibling steps with the same dependencies and
   * dependents): `items` counts its steps, `label` names them, activating it opens the group.
   */
  fanOut?: { label: string; size: number } | undefined;
  selected: boolean;
  /** The graph's one tab stop (arrow keys move it). */
  active: boolean;
  /** With its labels (zoomed in far enough to read them). */
  detailed: boolean;
  onSelect: ((id: string) => void) | undefined;
}

/** One step's box: drawn again only when its own status, progress or selection changes. */
export const DagNodeView = memo(function DagNodeView({ id, x, y, status, capability, progress: rawProgress, problem, items, fanOut, selected, active, detailed, onSelect }: NodeProps) {
  const colours = problem ? PROBLEM_FILL : status ? (FILL[status] ?? DEFAULT_FILL) : DEFAULT_FILL;
  const progress = !items && status === 'RUNNING' && typeof rawProgress === 'number' ? Math.max(0, Math.min(1, rawProgress)) : undefined;
  const subtitle = items ? describeItems(items) : [capability, status?.toLowerCase()].filter(Boolean).join(' · ');
  const label = fanOut?.label ?? id;
  const spoken = fanOut
    ? `Fan-out of ${formatCount(fanOut.size)} steps, ${fanOut.label}${items ? `: ${describeItems(items)}` : ''}; press to show its steps`
    : `Step ${id}${status ? `, ${status.toLowerCase()}` : ''}${items ? `, forEach: ${describeItems(items)}` : ''}`;
  const groupData = fanOut
    ? { 'data-group': 'fan-out', 'data-members': fanOut.size }
    : items
      ? { 'data-group': 'forEach' }
      : {};
  return (
    <g
      transform={`translate(${x}, ${y})`}
      {...(onSelect
        ? {
            role: 'button',
            tabIndex: active ? 0 : -1,
            ...(fanOut ? { 'aria-expanded': false } : { 'aria-pressed': selected }),
            'aria-label': spoken,
            onClick: () => onSelect(id),
            onKeyDown: (event: React.KeyboardEvent) => {
              if (event.key === 'Enter' || event.key === ' ') {
                event.preventDefault();
                onSelect(id);
              }
            },
            className: 'cursor-pointer outline-none [&:focus-visible>rect:first-child]:stroke-indigo-500',
          }
        : {})}
      data-step={id}
      data-status={status}
      {...groupData}
      {...(items ? { 'data-items-total': items.total, 'data-items-succeeded': items.succeeded, 'data-items-failed': items.failed, 'data-items-running': items.running, 'data-items-queued': items.queued } : {})}
    >
      {!detailed && <title>{`${label}${status ? ` · ${status.toLowerCase()}` : ''}${items ? ` · ${describeItems(items)}` : ''}`}</title>}
      {items && <rect x={5} y={-5} width={NODE_WIDTH} height={NODE_HEIGHT} rx={10} fill={colours.fill} stroke={colours.stroke} strokeWidth={1} />}
      <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={10} fill={detailed ? colours.fill : colours.stroke} stroke={selected ? 'var(--dag-selected)' : colours.stroke} strokeWidth={selected ? 6 : 1.5} />
      {progress !== undefined && <rect x={1} y={NODE_HEIGHT - 5} width={(NODE_WIDTH - 2) * progress} height={4} rx={2} fill="var(--dag-progress)" />}
      {items && <ItemBar counts={items} />}
      {detailed && (
        <>
          <text x={12} y={23} fontSize={13} fontWeight={600} fill={colours.text} fontFamily="var(--font-sans)">
            {label.length > 20 ? `${label.slice(0, 19)}…` : label}
          </text>
          <text x={12} y={41} fontSize={11} fill="var(--dag-label)" fontFamily="var(--font-mono)">
            {subtitle}
          </text>
        </>
      )}
    </g>
  );
});


/** "1,200/2,000 · 3 failed · 16 running": a forEach step's items, short enough for its box. */
export function describeItems(items: ItemCounts): string {
  const parts = [`${formatCount(itemsDone(items))}/${formatCount(items.total)}`];
  if (items.failed > 0) parts.push(`${formatCount(items.failed)} failed`);
  if (items.running > 0) parts.push(`${formatCount(items.running)} running`);
  else if (items.queued > 0) parts.push(`${formatCount(items.queued)} queued`);
  return parts.join(' · ');
}

const BAR_SEGMENTS: ReadonlyArray<[keyof ItemCounts, string]> = [
  ['succeeded', FILL['SUCCEEDED']!.stroke],
  ['failed', FILL['FAILED']!.stroke],
  ['cancelled', FILL['CANCELLED']!.stroke],
  ['running', FILL['RUNNING']!.stroke],
  ['queued', FILL['QUEUED']!.stroke],
];

/** The items' statuses as one bar along the bottom of the box, a segment per status. */
function ItemBar({ counts }: { counts: ItemCounts }) {
  if (counts.total <= 0) return null;
  const width = NODE_WIDTH - 2;
  let x = 1;
  return BAR_SEGMENTS.map(([key, fill]) => {
    const w = (width * counts[key]) / counts.total;
    const at = x;
    x += w;
    return w > 0 ? <rect key={key} x={at} y={NODE_HEIGHT - 6} width={w} height={5} fill={fill} /> : null;
  });
}
