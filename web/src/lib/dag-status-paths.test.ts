import { statusPaths } from './dag-status-paths';

const node = (id: string, x: number, y: number) => ({ id, column: 0, row: 0, x, y });

describe('a graph drawn as one path per status', () => {
  it('puts every box in the path of its status, one subpath each', () => {
    const nodes = [node('a', 0, 0), node('b', 10, 0), node('c', 20, 5), node('d', 30, 5)];
    const paths = statusPaths(nodes, ['SUCCEEDED', 'RUNNING', 'SUCCEEDED', undefined], { width: 4, height: 2 });
    expect(paths).toEqual([
      { status: '', d: 'M30 5h4v2h-4z', count: 1 },
      { status: 'RUNNING', d: 'M10 0h4v2h-4z', count: 1 },
      { status: 'SUCCEEDED', d: 'M0 0h4v2h-4zM20 5h4v2h-4z', count: 2 },
    ]);
  });

  it('scales the boxes and keeps them at least the minimum size', () => {
    const [path] = statusPaths([node('a', 100, 50)], ['QUEUED'], { width: 176, height: 56 }, 0.01, 1);
    expect(path!.d).toBe('M1 0.5h1.76v1h-1.76z');
  });
});
