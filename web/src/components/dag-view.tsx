import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent, type UIEvent } from 'react';
import { useDagLayout } from '../hooks/use-dag-layout';
import { collapseFanOuts, countMembers, findFanOuts, groupStatus, isFanOutId, type FanOut } from '../lib/dag-fan-outs';
import type { DagStep } from '../lib/dag-layout';
import { formatCount } from '../lib/format';
import type { ItemCounts } from '../lib/item-counts';
import { bringIntoView, fitTransform, nodeInDirection, visibleArea, zoomAt, type Direction, type Size, type ViewTransform } from '../lib/dag-viewport';
import { DagMinimap } from './dag-minimap';
import { DagEdges, DagNodeView, DagStatusBoxes, NODE_HEIGHT, NODE_WIDTH } from './dag-node';

export interface DagViewStep extends DagStep {
  capability?: string;
  /** A task status, when the view shows a run. */
  status?: string;
  progress?: number | null;
  problem?: boolean;
  /** A forEach step's items by status (the step's box stands for them all). */
  items?: ItemCounts | null;
}

/**
 * Graphs with more boxes than this draw only those in view (and the focused and selected ones) when
 * zoomed in, and zoomed out all of them as one path per status (`DagStatusBoxes`).
 */
const CULL_MIN_NODES = 300;
const NO_FAN_OUTS: readonly FanOut[] = [];
const NONE_OPEN: ReadonlySet<string> = new Set();
const DETAIL_MIN_SCALE = 0.45;
const LAYOUT_OPTIONS = { nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT };
const KEY_DIRECTIONS: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

/** Whether two lists of steps have the same ids and dependencies (live status changes keep each step's `dependsOn` array, so this is mostly identity checks). */
function sameStructure(a: readonly DagStep[], b: readonly DagStep[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id) return false;
    if (x.dependsOn === y.dependsOn) continue;
    const dx = x.dependsOn ?? [];
    const dy = y.dependsOn ?? [];
    if (dx.length !== dy.length || dx.some((d, j) => d !== dy[j])) return false;
  }
  return true;
}

/**
 * The steps' ids and dependencies, as the same object for as long as they do not change: the layout
 * (and the grouping of fan-outs) is redone only when it does. Checked per render without building
 * anything, since a live run renders the graph once per batch of events.
 */
function useShape(steps: readonly DagStep[]): readonly DagStep[] {
  const last = useRef<{ steps: readonly DagStep[]; shape: readonly DagStep[] } | undefined>(undefined);
  const previous = last.current;
  if (previous && (previous.steps === steps || sameStructure(previous.steps, steps))) {
    previous.steps = steps;
    return previous.shape;
  }
  const shape = steps.map((s) => ({ id: s.id, dependsOn: s.dependsOn }));
  last.current = { steps, shape };
  return shape;
}

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
 * when large) is redone only when steps or dependencies change. With `groupFanOuts`, many sibling
 * steps with the same dependencies and dependents are one box counting them by status (like a
 * forEach step), which opens into its steps when activated.
 */
export function DagView({ steps, selected, onSelect, label, maxHeight = 480, groupFanOuts = false }: { steps: readonly DagViewStep[]; selected?: string | undefined; onSelect?: (id: string) => void; label: string; maxHeight?: number; groupFanOuts?: boolean }) {
  const shape = useShape(steps);
  const fanOuts = useMemo(() => (groupFanOuts ? findFanOuts(shape) : NO_FAN_OUTS), [groupFanOuts, shape]);
  const [open, setOpen] = useState<ReadonlySet<string>>(NONE_OPEN);
  const collapsed = useMemo(() => collapseFanOuts(shape, fanOuts, open), [shape, fanOuts, open]);
  const layout = useDagLayout(collapsed.steps, LAYOUT_OPTIONS);
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  // What a closed fan-out's box says about its steps (the label is made once per grouping, the counts as statuses change).
  const fanOutLabels = useMemo(
    () => new Map([...collapsed.closed.values()].map((g) => [g.id, { label: `${g.members[0]!} … ${g.members[g.members.length - 1]!}`, size: g.members.length }])),
    [collapsed],
  );
  const fanOutCounts = useMemo(() => {
    const counts = new Map<string, { items: ItemCounts; status: string }>();
    for (const group of collapsed.closed.values()) {
      const items = countMembers(group, (id) => byId.get(id)?.status);
      counts.set(group.id, { items, status: groupStatus(items) });
    }
    return counts;
  }, [collapsed, byId]);
  const nodeById = useMemo(() => new Map((layout?.nodes ?? []).map((n) => [n.id, n])), [layout]);
  // A step in a closed fan-out is shown (selected, brought into view) as its group's box.
  const shownSelected = selected === undefined ? undefined : (collapsed.groupOf.get(selected)?.id ?? selected);
  const [view, frameRef, frame] = useElementSize();
  const svg = useRef<SVGSVGElement>(null);
  const [transform, setTransform] = useState<ViewTransform | undefined>();
  const [active, setActive] = useState<string | undefined>();
  const fittedFor = useRef<{ layout: unknown; height: number } | undefined>(undefined);
  const drag = useRef<{ x: number; y: number; moved: boolean; pointerId: number } | undefined>(undefined);

  const fit = useCallback(() => {
    if (layout && view.width > 0) setTransform(fitTransform(layout, view));
  }, [layout, view]);
  // Fitted when the graph is first drawn and whenever its structure changes, and again once the
  // frame has taken the height the new layout gives it (the frame's height follows the graph's).
  useEffect(() => {
    if (!layout || view.width === 0) return;
    const last = fittedFor.current;
    if (last && last.layout === layout && last.height === view.height) return;
    fittedFor.current = { layout, height: view.height };
    setTransform(fitTransform(layout, view));
  }, [layout, view]);

  const boxOf = useCallback((id: string) => nodeById.get(id), [nodeById]);
  // A step selected elsewhere (the table) is brought into view.
  useEffect(() => {
    const node = shownSelected ? boxOf(shownSelected) : undefined;
    if (node && view.width > 0) setTransform((t) => (t ? bringIntoView(t, view, { x: node.x, y: node.y, width: NODE_WIDTH, height: NODE_HEIGHT }) : t));
  }, [shownSelected, boxOf, view]);

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
      requestAnimationFrame(() => svg.current?.querySelector<SVGGElement>(`g[data-step="${CSS.escape(id)}"]`)?.focus({ preventScroll: true }));
    },
    [boxOf, view],
  );

  // A fan-out opened: its first step takes the tab stop (and the focus, once laid out).
  const focusAfterLayout = useRef<string | undefined>(undefined);
  const openFanOut = useCallback(
    (id: string) => {
      const first = collapsed.closed.get(id)?.members[0];
      setOpen((current) => new Set([...current, id]));
      if (first) {
        setActive(first);
        focusAfterLayout.current = first;
      }
    },
    [collapsed],
  );
  useEffect(() => {
    const id = focusAfterLayout.current;
    if (!id || !nodeById.has(id)) return;
    focusAfterLayout.current = undefined;
    requestAnimationFrame(() => svg.current?.querySelector<SVGGElement>(`g[data-step="${CSS.escape(id)}"]`)?.focus({ preventScroll: true }));
  }, [nodeById]);
  const onNode = useCallback((id: string) => (isFanOutId(id) ? openFanOut(id) : onSelect?.(id)), [openFanOut, onSelect]);

  // Zoomed far out, labels would be a few pixels high: boxes are drawn in their colours only (cheaper to paint),
  // and a large graph's boxes as one path per status.
  const detailed = (transform?.k ?? 1) >= DETAIL_MIN_SCALE;
  const compact = layout !== undefined && layout.nodes.length > CULL_MIN_NODES && !detailed;
  const tabStop = [active, shownSelected].find((id) => id !== undefined && nodeById.has(id)) ?? layout?.nodes[0]?.id;
  const visible = useMemo(() => {
    if (!layout || !transform || layout.nodes.length <= CULL_MIN_NODES) return layout?.nodes;
    // Drawn as nodes of their own on top of the status paths: the selected box and the tab stop.
    if (compact) return layout.nodes.filter((n) => n.id === shownSelected || n.id === tabStop);
    const area = visibleArea(transform, view);
    const margin = 200 / transform.k;
    return layout.nodes.filter(
      (n) => n.id === shownSelected || n.id === tabStop || (n.x + NODE_WIDTH >= area.x - margin && n.x <= area.x + area.width + margin && n.y + NODE_HEIGHT >= area.y - margin && n.y <= area.y + area.height + margin),
    );
  }, [layout, transform, view, shownSelected, tabStop, compact]);
  const visibleIds = useMemo(() => (!compact && visible && layout && visible.length < layout.nodes.length ? new Set(visible.map((n) => n.id)) : undefined), [compact, visible, layout]);
  const edges = useMemo(() => (layout ? (visibleIds ? layout.edges.filter((e) => visibleIds.has(e.from) || visibleIds.has(e.to)) : layout.edges) : []), [layout, visibleIds]);
  // The status of each laid-out box, in layout order (the status paths and the minimap are drawn from it).
  const statuses = useMemo(() => (layout ? layout.nodes.map((n) => fanOutCounts.get(n.id)?.status ?? byId.get(n.id)?.status) : []), [layout, fanOutCounts, byId]);
  const dragged = useRef(false);

  if (steps.length === 0) return <p className="text-sm text-slate-400">No steps.</p>;
  const height = layout ? Math.max(120, Math.min(maxHeight, layout.height + 8)) : Math.min(maxHeight, 240);
  const anyOpen = fanOuts.some((g) => open.has(g.id));
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
    dragged.current = false;
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
    dragged.current = true;
    d.x = event.clientX;
    d.y = event.clientY;
    setTransform((t) => (t ? { ...t, x: t.x + dx, y: t.y + dy } : t));
  };
  const onPointerUp = () => {
    drag.current = undefined;
  };
  // The view moves by its transform only: focusing a box must not scroll the frame under it.
  const keepUnscrolled = (event: UIEvent<HTMLDivElement>) => {
    event.currentTarget.scrollTop = 0;
    event.currentTarget.scrollLeft = 0;
  };
  // Drawn as status paths, a box is found from where the click landed (a drawn node handles its own).
  const onCompactClick = (event: MouseEvent<SVGSVGElement>) => {
    if (!compact || !layout || !transform || !onSelect || dragged.current) return;
    if (event.target instanceof Element && event.target.closest('g[data-step]')) return;
    const box = event.currentTarget.getBoundingClientRect();
    const x = (event.clientX - box.left - transform.x) / transform.k;
    const y = (event.clientY - box.top - transform.y) / transform.k;
    const hit = layout.nodes.find((n) => x >= n.x && x <= n.x + NODE_WIDTH && y >= n.y && y <= n.y + NODE_HEIGHT);
    if (hit) onNode(hit.id);
  };

  return (
    <div className="rounded-lg bg-slate-50/70 ring-1 ring-slate-100">
      <div className="flex items-center justify-end gap-1 border-b border-slate-100 px-2 py-1">
        <span className="mr-auto text-xs text-slate-500">{transform ? `${Math.round(transform.k * 100)}%` : ''}</span>
        {anyOpen && (
          <ViewButton label="Collapse fan-outs" onClick={() => setOpen(NONE_OPEN)}>
            Collapse fan-outs
          </ViewButton>
        )}
        <ViewButton label="Zoom in" onClick={() => zoomBy(1.25)}>+</ViewButton>
        <ViewButton label="Zoom out" onClick={() => zoomBy(0.8)}>−</ViewButton>
        <ViewButton label="Fit to screen" onClick={fit}>Fit</ViewButton>
      </div>
      <div ref={frameRef} className="relative touch-none select-none overflow-hidden active:cursor-grabbing" style={{ height }} onScroll={keepUnscrolled} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp} data-testid="dag-viewport" data-scale={transform?.k.toFixed(3)}>
        {!layout && <p className="p-4 text-sm text-slate-500">Laying out {formatCount(steps.length)} steps…</p>}
        {layout && transform && (
          <svg ref={svg} width="100%" height="100%" role="group" aria-label={label} className="block" onKeyDown={onKeyDown} onClick={onCompactClick} data-compact={compact || undefined}>
            <defs>
              <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--dag-edge)" />
              </marker>
            </defs>
            <g transform={`translate(${transform.x}, ${transform.y}) scale(${transform.k})`}>
              <DagEdges edges={edges} arrows={detailed} />
              {compact && <DagStatusBoxes nodes={layout.nodes} statuses={statuses} />}
              {visible?.map((node) => {
                const step = byId.get(node.id);
                const group = fanOutCounts.get(node.id);
                return (
                  <DagNodeView
                    key={node.id}
                    id={node.id}
                    x={node.x}
                    y={node.y}
                    status={group?.status ?? step?.status}
                    capability={step?.capability}
                    progress={step?.progress}
                    problem={step?.problem}
                    items={group?.items ?? step?.items}
                    fanOut={fanOutLabels.get(node.id)}
                    selected={shownSelected === node.id}
                    active={tabStop === node.id}
                    detailed={detailed}
                    onSelect={onSelect ? onNode : undefined}
                  />
                );
              })}
            </g>
          </svg>
        )}
        {layout && transform && larger && (
          <DagMinimap layout={layout} statuses={statuses} transform={transform} view={view} onCentre={(x, y) => setTransform((t) => (t ? { ...t, x: view.width / 2 - x * t.k, y: view.height / 2 - y * t.k } : t))} />
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
