import { useMemo } from 'react';
import { layoutDag, type DagStep } from '../lib/dag-layout';

export interface DagViewStep extends DagStep {
  capability?: string;
  /** A task status, when the view shows a run. */
  status?: string;
  progress?: number | null;
  problem?: boolean;
}

const FILL: Record<string, { fill: string; stroke: string; text: string }> = {
  PENDING: { fill: '#f8fafc', stroke: '#cbd5e1', text: '#475569' },
  QUEUED: { fill: '#f1f5f9', stroke: '#94a3b8', text: '#334155' },
  RUNNING: { fill: '#f0f9ff', stroke: '#0ea5e9', text: '#075985' },
  SUCCEEDED: { fill: '#ecfdf5', stroke: '#10b981', text: '#065f46' },
  FAILED: { fill: '#fef2f2', stroke: '#ef4444', text: '#991b1b' },
  CANCELLED: { fill: '#fffbeb', stroke: '#f59e0b', text: '#92400e' },
};
const DEFAULT_FILL = { fill: '#ffffff', stroke: '#cbd5e1', text: '#1e293b' };
const PROBLEM_FILL = { fill: '#fef2f2', stroke: '#dc2626', text: '#991b1b' };

const NODE_WIDTH = 176;
const NODE_HEIGHT = 56;

/**
 * The DAG of a workflow version or a run: steps as boxes in dependency order, left to right. With
 * `onSelect`, each box is a button (Tab to it, Enter to select).
 */
export function DagView({ steps, selected, onSelect, label }: { steps: readonly DagViewStep[]; selected?: string | undefined; onSelect?: (id: string) => void; label: string }) {
  const layout = useMemo(() => layoutDag(steps, { nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT }), [steps]);
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  if (layout.nodes.length === 0) return <p className="text-sm text-slate-400">No steps.</p>;
  return (
    <div className="overflow-x-auto rounded-lg bg-slate-50/70 ring-1 ring-slate-100">
      {/* Scales down to fit narrow places (to 60%), and scrolls sideways beyond that. */}
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        style={{ width: '100%', maxWidth: layout.width, minWidth: Math.min(layout.width, layout.width * 0.6) }}
        role="group"
        aria-label={label}
        className="block h-auto"
      >
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8" />
          </marker>
        </defs>
        {layout.edges.map((edge) => (
          <path key={`${edge.from}->${edge.to}`} d={edge.path} fill="none" stroke="#94a3b8" strokeWidth={1.5} markerEnd="url(#dag-arrow)" />
        ))}
        {layout.nodes.map((node) => {
          const step = byId.get(node.id);
          const colours = step?.problem ? PROBLEM_FILL : step?.status ? (FILL[step.status] ?? DEFAULT_FILL) : DEFAULT_FILL;
          const isSelected = selected === node.id;
          const interactive = onSelect !== undefined;
          const progress = step?.status === 'RUNNING' && typeof step.progress === 'number' ? Math.max(0, Math.min(1, step.progress)) : undefined;
          return (
            <g
              key={node.id}
              transform={`translate(${node.x}, ${node.y})`}
              {...(interactive
                ? {
                    role: 'button',
                    tabIndex: 0,
                    'aria-pressed': isSelected,
                    'aria-label': `Step ${node.id}${step?.status ? `, ${step.status.toLowerCase()}` : ''}`,
                    onClick: () => onSelect(node.id),
                    onKeyDown: (event: React.KeyboardEvent) => {
                      if (event.key === 'Enter' || event.key === ' ') {
                        event.preventDefault();
                        onSelect(node.id);
                      }
                    },
                    className: 'cursor-pointer outline-none [&:focus-visible>rect:first-child]:stroke-indigo-500',
                  }
                : {})}
              data-step={node.id}
              data-status={step?.status}
            >
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={10} fill={colours.fill} stroke={isSelected ? '#4f46e5' : colours.stroke} strokeWidth={isSelected ? 2.5 : 1.5} />
              {progress !== undefined && <rect x={1} y={NODE_HEIGHT - 5} width={(NODE_WIDTH - 2) * progress} height={4} rx={2} fill="#0ea5e9" />}
              <text x={12} y={23} fontSize={13} fontWeight={600} fill={colours.text} fontFamily="var(--font-sans)">
                {node.id.length > 20 ? `${node.id.slice(0, 19)}…` : node.id}
              </text>
              <text x={12} y={41} fontSize={11} fill="#64748b" fontFamily="var(--font-mono)">
                {[step?.capability, step?.status?.toLowerCase()].filter(Boolean).join(' · ')}
              </text>
            </g>
          );
        })}
      </svg>
      {(layout.cyclic.length > 0 || layout.missing.length > 0) && (
        <p className="border-t border-slate-100 px-3 py-2 text-xs text-red-700">
          {layout.cyclic.length > 0 && <>Cycle through: {layout.cyclic.join(', ')}. </>}
          {layout.missing.map((m) => `${m.step} depends on unknown "${m.dependency}"`).join('; ')}
        </p>
      )}
    </div>
  );
}
