import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useDagLayout } from '../hooks/use-dag-layout';
import type { DagStep } from '../lib/dag-layout';
import { formatCount } from '../lib/format';
import type { ItemCounts } from '../lib/item-counts';
import { bringIntoView, fitTransform, nodeInDirection, visibleArea, zoomAt, type Direction, type Size, type ViewTransform } from '../lib/dag-viewport';
import { DagMinimap } from './dag-minimap';
import { DagEdges, DagNodeView, NODE_HEIGHT, NODE_WIDTH } from './dag-node';

export interface DagViewStep extends DagStep {
  capability?: string;
  /** A task status, when the view shows a run. */
  status?: string;
  progress?: number | null;
  problem?: boolean;
  /** A forEach step's items by status (the step's box stands for them all). */
  items?: ItemCounts | null;
}

/** Graphs with more boxes than this draw only those in view (and the focused and selected ones). */
const CULL_MIN_NODES = 300;
const DETAIL_MIN_SCALE = 0.45;
const LAYOUT_OPTIONS = { nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT };
const KEY_DIRECTIONS: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

/** The steps' ids and dependencies as one string: the layout is redone only when it changes. */
const structureOf = (steps: readonly DagStep[]): string => steps.map((s) => `${s.id}<${(s.dependsOn ?? []).join(',')}`).join('|');

/** The element's size, followed as it changes; `ref` is a callback ref (the element may come later). */
function useElementSize(): [Size, (el: HTMLDivElement | null) => void, React.RefObject<HTMLDivElement | null>] {
  const [size, setSize] = useState<Size>({ width: 0, height: 0 });
  const element = useRef<HTMLDivElement | null>(null);
  const observer = useRef<ResizeObserver | undefined>(undefined);
  const ref = useCallback((el: HTMLDivElement | null) => {
    observer.current?.disconnect();
    element.current = el;
    if (!el) return;
    observer.current = new ResizeObserver(([entry]) => {
      if (entry) setSize({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    observer.current.observe(el);
  }, []);
  return [size, ref, element];
}

/**
 * The DAG of a workflow version or a run in a viewport: fitted to the view at first, zoomed with the
 * buttons or Ctrl + wheel (pinch), panned by dragging, with a minimap when the graph is larger than
 * the view. With `onSelect` the boxes are buttons behind one tab stop: arrow keys move between them,
 * Enter selects. Live status changes redraw only the boxes that changed; the layout (in a worker
 * when large) is redone only when steps or dependencies change.
 */
export function DagView({ steps, selected, onSelect, label, maxHeight = 480 }: { steps: readonly DagViewStep[]; selected?: string | undefined; onSelect?: (id: string) => void; label: string; maxHeight?: number }) {
  const structure = structureOf(steps);
  const shape = useMemo(() => steps.map((s) => ({ id: s.id, dependsOn: s.dependsOn })), [structure]); // eslint-disable-line react-hooks/exhaustive-deps -- laid out again only when the structure changes
  const layout = useDagLayout(shape, LAYOUT_OPTIONS);
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  const [view, frameRef, frame] = useElementSize();
  const svg = useRef<SVGSVGElement>(null);
  const [transform, setTransform] = useState<ViewTransform | undefined>();
  const [active, setActive] = useState<string | undefined>();
  const fittedFor = useRef<unknown>(undefined);
  const drag = useRef<{ x: number; y: number; moved: boolean; pointerId: number } | undefined>(undefined);

  const fit = useCallback(() => {
    if (layout && view.width > 0) setTransform(fitTransform(layout, view));
  }, [layout, view]);
  // Fitted when the graph is first drawn and whenever its structure changes.
  useEffect(() => {
    if (!layout || view.width === 0 || fittedFor.current === layout) return;
    fittedFor.current = layout;
    setTransform(fitTransform(layout, view));
  }, [layout, view]);

  const boxOf = useCallback((id: string) => layout?.nodes.find((n) => n.id === id), [layout]);
  // A step selected elsewhere (the table) is brought into view.
  useEffect(() => {
    const node = selected ? boxOf(selected) : undefined;
    if (node && view.width > 0) setTransform((t) => (t ? bringIntoView(t, view, { x: node.x, y: node.y, width: NODE_WIDTH, height: NODE_HEIGHT }) : t));
  }, [selected, boxOf, view]);

  // Ctrl + wheel (and a trackpad's pinch) zooms about the pointer; the plain wheel scrolls the page.
  const hasFrame = view.width > 0;
  useEffect(() => {
    const el = frame.current;
    if (!el || !hasFrame) return;
    const onWheel = (event: WheelEvent) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      const box = el.getBoundingClientRect();
      setTransform((t) => (t ? zoomAt(t, Math.exp(-event.deltaY / 300), event.clientX - box.left, event.clientY - box.top) : t));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [frame, hasFrame]);

  const focusNode = useCallback(
    (id: string) => {
      setActive(id);
      const node = boxOf(id);
      if (node) setTransform((t) => (t ? bringIntoView(t, view, { x: node.x, y: node.y, width: NODE_WIDTH, height: NODE_HEIGHT }) : t));
      // After the render that made it the tab stop (and drew it, if it was out of view).
      requestAnimationFrame(() => svg.current?.querySelector<SVGGElement>(`g[data-step="${CSS.escape(id)}"]`)?.focus());
    },
    [boxOf, view],
  );

  const visible = useMemo(() => {
    if (!layout || !transform || layout.nodes.length <= CULL_MIN_NODES) return layout?.nodes;
    const area = visibleArea(transform, view);
    const margin = 200 / transform.k;
    return layout.nodes.filter(
      (n) => n.id === selected || n.id === active || (n.x + NODE_WIDTH >= area.x - margin && n.x <= area.x + area.width + margin && n.y + NODE_HEIGHT >= area.y - margin && n.y <= area.y + area.height + margin),
    );
  }, [layout, transform, view, selected, active]);
  const visibleIds = useMemo(() => (visible && layout && visible.length < layout.nodes.length ? new Set(visible.map((n) => n.id)) : undefined), [visible, layout]);
  const edges = useMemo(() => (layout ? (visibleIds ? layout.edges.filter((e) => visibleIds.has(e.from) || visibleIds.has(e.to)) : layout.edges) : []), [layout, visibleIds]);

  if (steps.length === 0) return <p className="text-sm text-slate-400">No steps.</p>;
  const height = layout ? Math.max(120, Math.min(maxHeight, layout.height + 8)) : Math.min(maxHeight, 240);
  const tabStop = active ?? selected ?? layout?.nodes[0]?.id;
  // Zoomed far out, labels would be a few pixels high: boxes are drawn in their colours only (cheaper to paint).
  const detailed = (transform?.k ?? 1) >= DETAIL_MIN_SCALE;
  const zoomBy = (factor: number) => setTransform((t) => (t ? zoomAt(t, factor, view.width / 2, view.height / 2) : t));
  const larger = layout && transform ? layout.width * transform.k > view.width + 1 || layout.height * transform.k > view.height + 1 : false;

  const onKeyDown = (event: KeyboardEvent<SVGSVGElement>) => {
    const direction = KEY_DIRECTIONS[event.key];
    if (direction && layout && onSelect) {
      event.preventDefault();
      const next = nodeInDirection(layout.nodes, tabStop ?? '', direction);
      if (next) focusNode(next);
    } else if (event.key === '+' || event.key === '=') zoomBy(1.25);
    else if (event.key === '-') zoomBy(0.8);
    else if (event.key === '0') fit();
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    drag.current = { x: event.clientX, y: event.clientY, moved: false, pointerId: event.pointerId };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || event.buttons !== 1) return;
    const dx = event.clientX - d.x;
    const dy = event.clientY - d.y;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!d.moved) event.currentTarget.setPointerCapture(d.pointerId);
    d.moved = true;
    d.x = event.clientX;
    d.y = event.clientY;
    setTransform((t) => (t ? { ...t, x: t.x + dx, y: t.y + dy } : t));
  };
  const onPointerUp = () => {
    drag.current = undefined;
  };

  return (
    <div className="rounded-lg bg-slate-50/70 ring-1 ring-slate-100">
      <div className="flex items-center justify-end gap-1 border-b border-slate-100 px-2 py-1">
        <span className="mr-auto text-xs text-slate-500">{transform ? `${Math.round(transform.k * 100)}%` : ''}</span>
        <ViewButton label="Zoom in" onClick={() => zoomBy(1.25)}>+</ViewButton>
        <ViewButton label="Zoom out" onClick={() => zoomBy(0.8)}>−</ViewButton>
        <ViewButton label="Fit to screen" onClick={fit}>Fit</ViewButton>
      </div>
      <div ref={frameRef} className="relative touch-none select-none overflow-hidden active:cursor-grabbing" style={{ height }} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp} data-testid="dag-viewport" data-scale={transform?.k.toFixed(3)}>
        {!layout && <p className="p-4 text-sm text-slate-500">Laying out {formatCount(steps.length)} steps…</p>}
        {layout && transform && (
          <svg ref={svg} width="100%" height="100%" role="group" aria-label={label} className="block" onKeyDown={onKeyDown}>
            <defs>
              <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8" />
              </marker>
            </defs>
            <g transform={`translate(${transform.x}, ${transform.y}) scale(${transform.k})`}>
              <DagEdges edges={edges} arrows={detailed} />
              {visible?.map((node) => {
                const step = byId.get(node.id);
                return (
                  <DagNodeView
                    key={node.id}
                    id={node.id}
                    x={node.x}
                    y={node.y}
                    status={step?.status}
                    capability={step?.capability}
                    progress={step?.progress}
                    problem={step?.problem}
                    items={step?.items}
                    selected={selected === node.id}
                    active={tabStop === node.id}
                    detailed={detailed}
                    onSelect={onSelect}
                  />
                );
              })}
            </g>
          </svg>
        )}
        {layout && transform && larger && (
          <DagMinimap layout={layout} statusOf={(id) => byId.get(id)?.status} transform={transform} view={view} onCentre={(x, y) => setTransform((t) => (t ? { ...t, x: view.width / 2 - x * t.k, y: view.height / 2 - y * t.k } : t))} />
        )}
      </div>
      {layout && (layout.cyclic.length > 0 || layout.missing.length > 0) && (
        <p className="border-t border-slate-100 px-3 py-2 text-xs text-red-700">
          {layout.cyclic.length > 0 && <>Cycle through: {layout.cyclic.join(', ')}. </>}
          {layout.missing.map((m) => `${m.step} depends on unknown "${m.dependency}"`).join('; ')}
        </p>
      )}
    </div>
  );
}

function ViewButton({ label, onClick, children }: { label: string; onClick: () => void; children: string }) {
  return (
    <button type="button" aria-label={label} title={label} onClick={onClick} className="min-w-7 rounded-md bg-white px-2 py-0.5 text-sm font-medium text-slate-700 shadow-xs ring-1 ring-slate-200 hover:bg-slate-50">
      {children}
    </button>
  );
}
