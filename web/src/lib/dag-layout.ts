/**
 * Lays a workflow's steps out left to right for the DAG view: a step's column is the length of the
 * longest dependency chain before it, rows within a column follow the average row of the step's
 * dependencies (so edges cross less), and every edge runs from a dependency's right side to the
 * dependent's left side. Drafts in the editor may be broken, so unknown dependencies and cycles do
 * not throw: they are reported, and the steps of a cycle are placed after everything else.
 */

export interface DagStep {
  id: string;
  dependsOn?: readonly string[] | null | undefined;
}

export interface DagNode {
  id: string;
  column: number;
  row: number;
  x: number;
  y: number;
}

export interface DagEdge {
  from: string;
  to: string;
  /** SVG path (a smooth curve) from the dependency to the dependent. */
  path: string;
}

export interface DagLayout {
  nodes: DagNode[];
  edges: DagEdge[];
  width: number;
  height: number;
  /** Steps that are part of (or downstream of) a dependency cycle. */
  cyclic: string[];
  /** `step → dependency` pairs whose dependency is not a step. */
  missing: Array<{ step: string; dependency: string }>;
  /** Steps whose id appears more than once (only the first is laid out). */
  duplicates: string[];
}

export interface DagLayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  columnGap?: number;
  rowGap?: number;
  padding?: number;
}

export function layoutDag(steps: readonly DagStep[], options: DagLayoutOptions = {}): DagLayout {
  const nodeWidth = options.nodeWidth ?? 176;
  const nodeHeight = options.nodeHeight ?? 56;
  const columnGap = options.columnGap ?? 64;
  const rowGap = options.rowGap ?? 20;
  const padding = options.padding ?? 16;

  const duplicates: string[] = [];
  const byId = new Map<string, DagStep>();
  for (const step of steps) {
    if (byId.has(step.id)) duplicates.push(step.id);
    else byId.set(step.id, step);
  }
  const missing: DagLayout['missing'] = [];
  const deps = new Map<string, string[]>();
  for (const step of byId.values()) {
    const known: string[] = [];
    for (const dep of new Set(step.dependsOn ?? [])) {
      if (byId.has(dep) && dep !== step.id) known.push(dep);
      else if (!byId.has(dep)) missing.push({ step: step.id, dependency: dep });
      else known.push(dep); // a self-dependency: a cycle of one
    }
    deps.set(step.id, known);
  }

  // Kahn's algorithm, column = longest path from a root.
  const column = new Map<string, number>();
  const indegree = new Map<string, number>([...byId.keys()].map((id) => [id, deps.get(id)!.length]));
  const dependents = new Map<string, string[]>([...byId.keys()].map((id) => [id, []]));
  for (const [id, list] of deps) for (const dep of list) dependents.get(dep)!.push(id);
  const queue = [...byId.keys()].filter((id) => indegree.get(id) === 0);
  for (const id of queue) column.set(id, 0);
  for (let i = 0; i < queue.length; i += 1) {
    const id = queue[i]!;
    for (const next of dependents.get(id)!) {
      column.set(next, Math.max(column.get(next) ?? 0, column.get(id)! + 1));
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  const cyclic = [...byId.keys()].filter((id) => !queue.includes(id));
  const lastColumn = Math.max(-1, ...column.values());
  for (const id of cyclic) column.set(id, lastColumn + 1);

  // Rows: each column ordered by the average row of its dependencies, ties by definition order.
  const order = new Map([...byId.keys()].map((id, i) => [id, i]));
  const columns: string[][] = [];
  for (const [id, c] of column) (columns[c] ??= []).push(id);
  const row = new Map<string, number>();
  columns.forEach((ids) => {
    const weight = (id: string) => {
      const placed = deps.get(id)!.filter((d) => row.has(d));
      return placed.length === 0 ? Number.POSITIVE_INFINITY : placed.reduce((sum, d) => sum + row.get(d)!, 0) / placed.length;
    };
    ids.sort((a, b) => {
      const wa = weight(a);
      const wb = weight(b);
      if (wa !== wb) return wa === Number.POSITIVE_INFINITY ? 1 : wb === Number.POSITIVE_INFINITY ? -1 : wa - wb;
      return order.get(a)! - order.get(b)!;
    });
    ids.forEach((id, i) => row.set(id, i));
  });

  const tallest = Math.max(0, ...columns.map((ids) => ids?.length ?? 0));
  const columnHeight = (count: number) => count * nodeHeight + Math.max(0, count - 1) * rowGap;
  const fullHeight = columnHeight(tallest);
  const nodes: DagNode[] = [];
  const position = new Map<string, DagNode>();
  columns.forEach((ids, c) => {
    // Short columns are centred against the tallest.
    const offset = (fullHeight - columnHeight(ids.length)) / 2;
    ids.forEach((id, r) => {
      const node = { id, column: c, row: r, x: padding + c * (nodeWidth + columnGap), y: padding + offset + r * (nodeHeight + rowGap) };
      nodes.push(node);
      position.set(id, node);
    });
  });
  nodes.sort((a, b) => order.get(a.id)! - order.get(b.id)!);

  const edges: DagEdge[] = [];
  for (const [id, list] of deps) {
    const to = position.get(id)!;
    for (const dep of list) {
      const from = position.get(dep)!;
      const x1 = from.x + nodeWidth;
      const y1 = from.y + nodeHeight / 2;
      const x2 = to.x;
      const y2 = to.y + nodeHeight / 2;
      const bend = Math.max(24, Math.abs(x2 - x1) / 2);
      edges.push({ from: dep, to: id, path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}` });
    }
  }

  const columnCount = columns.length;
  return {
    nodes,
    edges,
    width: columnCount === 0 ? 0 : padding * 2 + columnCount * nodeWidth + (columnCount - 1) * columnGap,
    height: tallest === 0 ? 0 : padding * 2 + fullHeight,
    cyclic,
    missing,
    duplicates,
  };
}
