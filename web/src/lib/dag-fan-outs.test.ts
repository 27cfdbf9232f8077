import { collapseFanOuts, countMembers, findFanOuts, groupStatus, isFanOutId } from './dag-fan-outs';
import { layoutDag } from './dag-layout';

const fanOut = (width: number, prefix = 'b') => [
  { id: 'start' },
  ...Array.from({ length: width }, (_, i) => ({ id: `${prefix}${i}`, dependsOn: ['start'] })),
  { id: 'join', dependsOn: Array.from({ length: width }, (_, i) => `${prefix}${i}`) },
];

describe('static fan-outs in the graph', () => {
  it('groups many siblings with the same dependencies and dependents, in definition order', () => {
    const groups = findFanOuts(fanOut(50));
    expect(groups).toHaveLength(1);
    expect(groups[0]!.members).toEqual(Array.from({ length: 50 }, (_, i) => `b${i}`));
    expect(groups[0]!.dependsOn).toEqual(['start']);
    expect(isFanOutId(groups[0]!.id)).toBe(true);
    // A group's id can never be a step's (step ids hold only letters, digits, _ and -).
    expect(groups[0]!.id).toContain(':');
  });

  it('leaves fewer siblings than the minimum alone, and siblings whose dependents differ', () => {
    expect(findFanOuts(fanOut(7))).toEqual([]);
    const steps = fanOut(10);
    // b3 also feeds an extra step: it is not like its siblings any more.
    steps.push({ id: 'extra', dependsOn: ['b3'] });
    const groups = findFanOuts(steps);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.members).not.toContain('b3');
    expect(groups[0]!.members).toHaveLength(9);
  });

  it('never groups a step with an unknown dependency, a self-dependency or a duplicated id (the layout reports those)', () => {
    const steps = Array.from({ length: 10 }, (_, i) => ({ id: `x${i}`, dependsOn: ['missing'] }));
    expect(findFanOuts(steps)).toEqual([]);
    const dup = [...fanOut(8), { id: 'b0', dependsOn: ['start'] }];
    expect(findFanOuts(dup)).toEqual([]);
  });

  it('draws a closed group as one step in place of its members, and dependencies on them as one on the group', () => {
    const steps = fanOut(50);
    const groups = findFanOuts(steps);
    const collapsed = collapseFanOuts(steps, groups, new Set());
    const id = groups[0]!.id;
    expect(collapsed.steps).toEqual([
      { id: 'start', dependsOn: [] },
      { id, dependsOn: ['start'] },
      { id: 'join', dependsOn: [id] },
    ]);
    expect(collapsed.groupOf.get('b17')?.id).toBe(id);
    const layout = layoutDag(collapsed.steps);
    expect(layout.nodes).toHaveLength(3);
    expect(layout.edges).toHaveLength(2);
    expect(layout.missing).toEqual([]);
  });

  it('maps a group that depends on another group to that group', () => {
    const a = Array.from({ length: 8 }, (_, i) => ({ id: `a${i}`, dependsOn: ['start'] }));
    const b = Array.from({ length: 8 }, (_, i) => ({ id: `b${i}`, dependsOn: a.map((s) => s.id) }));
    const steps = [{ id: 'start' }, ...a, ...b];
    const groups = findFanOuts(steps);
    expect(groups.map((g) => g.members.length)).toEqual([8, 8]);
    const collapsed = collapseFanOuts(steps, groups, new Set());
    expect(collapsed.steps).toEqual([
      { id: 'start', dependsOn: [] },
      { id: groups[0]!.id, dependsOn: ['start'] },
      { id: groups[1]!.id, dependsOn: [groups[0]!.id] },
    ]);
  });

  it('draws an open group as its steps', () => {
    const steps = fanOut(20);
    const groups = findFanOuts(steps);
    const collapsed = collapseFanOuts(steps, groups, new Set([groups[0]!.id]));
    expect(collapsed.steps.map((s) => s.id)).toEqual(steps.map((s) => s.id));
    expect(collapsed.groupOf.size).toBe(0);
    expect(collapsed.closed.size).toBe(0);
  });

  it('counts a group by its steps statuses and colours it by the one that matters most', () => {
    const [group] = findFanOuts(fanOut(10));
    const statuses: Record<string, string> = { b0: 'SUCCEEDED', b1: 'SUCCEEDED', b2: 'RUNNING', b3: 'QUEUED', b4: 'FAILED' };
    const counts = countMembers(group!, (id) => statuses[id]);
    expect(counts).toEqual({ total: 10, pending: 5, queued: 1, running: 1, succeeded: 2, failed: 1, cancelled: 0 });
    expect(groupStatus(counts)).toBe('FAILED');
    expect(groupStatus({ ...counts, failed: 0 })).toBe('RUNNING');
    expect(groupStatus({ total: 3, pending: 0, queued: 0, running: 0, succeeded: 3, failed: 0, cancelled: 0 })).toBe('SUCCEEDED');
    expect(groupStatus({ total: 3, pending: 3, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 })).toBe('PENDING');
    expect(groupStatus({ total: 3, pending: 1, queued: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0 })).toBe('QUEUED');
    expect(groupStatus({ total: 3, pending: 0, queued: 0, running: 0, succeeded: 1, failed: 0, cancelled: 2 })).toBe('CANCELLED');
  });
});
