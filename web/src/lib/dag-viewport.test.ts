import { layoutDag } from './dag-layout';
import { bringIntoView, fitTransform, MAX_SCALE, MIN_SCALE, nodeInDirection, visibleArea, zoomAt } from './dag-viewport';

describe('the graph viewport', () => {
  it('fits a large graph into the view, centred, and never enlarges a small one', () => {
    const big = fitTransform({ width: 4000, height: 1000 }, { width: 1032, height: 532 }, 16);
    expect(big.k).toBeCloseTo(0.25);
    expect(big.x).toBeCloseTo(16);
    expect(big.y).toBeCloseTo((532 - 250) / 2);
    expect(fitTransform({ width: 300, height: 100 }, { width: 1000, height: 500 })).toEqual({ k: 1, x: 350, y: 200 });
    expect(fitTransform({ width: 10 ** 7, height: 10 }, { width: 100, height: 100 }).k).toBe(MIN_SCALE);
  });

  it('zooms about a point, which stays where it is, within the scale limits', () => {
    const t = zoomAt({ k: 1, x: 10, y: 20 }, 2, 110, 70);
    // The layout point under (110, 70) was (100, 50); it is still under it.
    expect(100 * t.k + t.x).toBeCloseTo(110);
    expect(50 * t.k + t.y).toBeCloseTo(70);
    expect(zoomAt({ k: 1, x: 0, y: 0 }, 100, 0, 0).k).toBe(MAX_SCALE);
    expect(visibleArea({ k: 0.5, x: -100, y: -10 }, { width: 400, height: 300 })).toEqual({ x: 200, y: 20, width: 800, height: 600 });
  });

  it('moves the least to bring a box into view, and not at all when it is in view', () => {
    const view = { width: 500, height: 300 };
    const t = { k: 1, x: 0, y: 0 };
    expect(bringIntoView(t, view, { x: 10, y: 10, width: 50, height: 50 }, 0)).toBe(t);
    expect(bringIntoView(t, view, { x: 600, y: 40, width: 100, height: 50 }, 20)).toEqual({ k: 1, x: -220, y: 0 });
    expect(bringIntoView(t, view, { x: 30, y: -100, width: 100, height: 50 }, 20)).toEqual({ k: 1, x: 0, y: 120 });
  });

  it('moves between nodes with the arrow keys: along a column, and to the nearest node of the next column', () => {
    const { nodes } = layoutDag([{ id: 'a' }, { id: 'b1', dependsOn: ['a'] }, { id: 'b2', dependsOn: ['a'] }, { id: 'b3', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b1', 'b2', 'b3'] }]);
    expect(nodeInDirection(nodes, 'a', 'right')).toBe('b2');
    expect(nodeInDirection(nodes, 'b2', 'down')).toBe('b3');
    expect(nodeInDirection(nodes, 'b3', 'down')).toBeUndefined();
    expect(nodeInDirection(nodes, 'b1', 'up')).toBeUndefined();
    expect(nodeInDirection(nodes, 'b1', 'right')).toBe('c');
    expect(nodeInDirection(nodes, 'c', 'right')).toBeUndefined();
    expect(nodeInDirection(nodes, 'b3', 'left')).toBe('a');
    expect(nodeInDirection(nodes, 'unknown', 'left')).toBe('a');
  });
});
