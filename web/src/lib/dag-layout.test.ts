import { layoutDag } from './dag-layout';

const opts = { nodeWidth: 100, nodeHeight: 40, columnGap: 50, rowGap: 10, padding: 0 };

describe('DAG layout', () => {
  it('puts each step one column after its deepest dependency', () => {
    const layout = layoutDag(
      [
        { id: 'fetch' },
        { id: 'a', dependsOn: ['fetch'] },
        { id: 'b', dependsOn: ['fetch'] },
        { id: 'c', dependsOn: ['a'] },
        { id: 'join', dependsOn: ['b', 'c'] },
      ],
      opts,
    );
    const column = Object.fromEntries(layout.nodes.map((n) => [n.id, n.column]));
    expect(column).toEqual({ fetch: 0, a: 1, b: 1, c: 2, join: 3 });
    expect(layout.nodes.map((n) => n.x)).toEqual([0, 150, 150, 300, 450]);
    expect(layout.width).toBe(4 * 100 + 3 * 50);
    expect(layout.height).toBe(2 * 40 + 10);
    expect(layout.edges).toHaveLength(5);
    expect(layout.cyclic).toEqual([]);
    expect(layout.missing).toEqual([]);
  });

  it('never puts two steps in the same place', () => {
    const steps = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, dependsOn: i === 0 ? [] : [`s${Math.floor((i - 1) / 3)}`] }));
    const layout = layoutDag(steps, opts);
    const places = new Set(layout.nodes.map((n) => `${n.x},${n.y}`));
    expect(places.size).toBe(steps.length);
  });

  it('orders a column by the rows of its dependencies, so edges do not cross needlessly', () => {
    const layout = layoutDag(
      [
        { id: 'top' },
        { id: 'bottom' },
        // Defined in the "wrong" order: the child of bottom first.
        { id: 'after-bottom', dependsOn: ['bottom'] },
        { id: 'after-top', dependsOn: ['top'] },
      ],
      opts,
    );
    const row = Object.fromEntries(layout.nodes.map((n) => [n.id, n.row]));
    expect(row['after-top']).toBeLessThan(row['after-bottom']!);
  });

  it('centres a short column against the tallest', () => {
    const layout = layoutDag([{ id: 'root' }, { id: 'a', dependsOn: ['root'] }, { id: 'b', dependsOn: ['root'] }, { id: 'c', dependsOn: ['root'] }], opts);
    const root = layout.nodes.find((n) => n.id === 'root')!;
    const middle = layout.nodes.find((n) => n.id === 'b')!;
    expect(root.y).toBe(middle.y);
  });

  it('reports cycles, unknown dependencies and duplicate ids of a draft instead of failing', () => {
    const layout = layoutDag(
      [
        { id: 'a', dependsOn: ['c'] },
        { id: 'b', dependsOn: ['a'] },
        { id: 'c', dependsOn: ['b'] },
        { id: 'ok' },
        { id: 'd', dependsOn: ['ghost'] },
        { id: 'ok' },
        { id: 'self', dependsOn: ['self'] },
      ],
      opts,
    );
    expect(layout.cyclic.sort()).toEqual(['a', 'b', 'c', 'self']);
    expect(layout.missing).toEqual([{ step: 'd', dependency: 'ghost' }]);
    expect(layout.duplicates).toEqual(['ok']);
    expect(layout.nodes).toHaveLength(6);
    // Cyclic steps come after everything that could be placed.
    const maxPlaced = Math.max(...layout.nodes.filter((n) => !layout.cyclic.includes(n.id)).map((n) => n.column));
    for (const id of layout.cyclic) expect(layout.nodes.find((n) => n.id === id)!.column).toBeGreaterThan(maxPlaced);
  });

  it('lays out nothing for no steps', () => {
    expect(layoutDag([], opts)).toMatchObject({ nodes: [], edges: [], width: 0, height: 0 });
  });
});
