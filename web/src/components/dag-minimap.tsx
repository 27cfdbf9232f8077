import { useMemo, type PointerEvent } from 'react';
import type { DagLayout } from '../lib/dag-layout';
import { statusPaths } from '../lib/dag-status-paths';
import type { Size, ViewTransform } from '../lib/dag-viewport';
import { DEFAULT_FILL, FILL, NODE_HEIGHT, NODE_WIDTH } from './dag-node';

const WIDTH = 180;
const HEIGHT = 120;

/**
 * The whole graph small, in a corner of the view: every box in its status colour and a frame where
 * the view is. Clicking or dragging on it moves the view there. The boxes are one path per status
 * (`statuses[i]` is the status of `layout.nodes[i]`), drawn again only when a status changes.
 */
export function DagMinimap({ layout, statuses, transform, view, onCentre }: { layout: DagLayout; statuses: ReadonlyArray<string | undefined>; transform: ViewTransform; view: Size; onCentre: (x: number, y: number) => void }) {
  const scale = Math.min(WIDTH / layout.width, HEIGHT / layout.height);
  const boxes = useMemo(() => statusPaths(layout.nodes, statuses, { width: NODE_WIDTH, height: NODE_HEIGHT }, scale, 1), [layout, statuses, scale]);
  const width = layout.width * scale;
  const height = layout.height * scale;
  const centreAt = (event: PointerEvent<SVGSVGElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    onCentre((event.clientX - box.left) / scale, (event.clientY - box.top) / scale);
  };
  return (
    <svg
      width={width}
      height={height}
      className="absolute bottom-2 right-2 cursor-pointer rounded-md bg-white/90 shadow ring-1 ring-slate-200"
      aria-hidden="true"
      data-testid="dag-minimap"
      onPointerDown={(event) => {
        event.stopPropagation();
        event.currentTarget.setPointerCapture(event.pointerId);
        centreAt(event);
      }}
      onPointerMove={(event) => {
        if (event.buttons === 1) centreAt(event);
      }}
    >
      {boxes.map((b) => (
        <path key={b.status} d={b.d} fill={(FILL[b.status] ?? DEFAULT_FILL).stroke} />
      ))}
      <rect
        x={(-transform.x / transform.k) * scale}
        y={(-transform.y / transform.k) * scale}
        width={(view.width / transform.k) * scale}
        height={(view.height / transform.k) * scale}
        fill="rgba(79,70,229,0.08)"
        stroke="var(--dag-selected)"
        strokeWidth={1.5}
      />
    </svg>
  );
}
