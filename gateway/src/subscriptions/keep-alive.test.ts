import { KeepAliveWheel } from './keep-alive';

/**
 * The keep-alive wheel with stand-in connections and its ticks driven by hand: every connection is
 * pinged once per period, a slice per tick (never all at once), and one that did not answer its last
 * ping is dropped at its next turn. (ws-transport.test.ts covers it over real WebSockets.)
 */

interface FakeSocket {
  name: string;
  open: boolean;
}

function wheelOf(slices: number) {
  const pinged: string[] = [];
  const terminated: string[] = [];
  const wheel = new KeepAliveWheel<FakeSocket>({
    periodMs: 12_000,
    slices,
    ping: (s) => pinged.push(s.name),
    terminate: (s) => terminated.push(s.name),
    isOpen: (s) => s.open,
  });
  return { wheel, pinged, terminated };
}

const sockets = (n: number): FakeSocket[] => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, open: true }));

describe('keep-alive wheel', () => {
  it('pings every connection once per period, a slice per tick', () => {
    const { wheel, pinged } = wheelOf(4);
    const all = sockets(1_000);
    for (const s of all) wheel.add(s);
    const perTick: number[] = [];
    for (let tick = 0; tick < 4; tick += 1) {
      const before = pinged.length;
      wheel.tick();
      perTick.push(pinged.length - before);
      for (const s of all) wheel.answered(s);
    }
    expect(perTick).toEqual([250, 250, 250, 250]);
    expect(new Set(pinged).size).toBe(1_000);
    expect(pinged).toHaveLength(1_000);
    // The next period pings each again.
    for (let tick = 0; tick < 4; tick += 1) wheel.tick();
    expect(pinged).toHaveLength(2_000);
  });

  it('drops a connection that did not answer its last ping at its next turn, and only it', () => {
    const { wheel, pinged, terminated } = wheelOf(2);
    const [a, b, c, d] = sockets(4) as [FakeSocket, FakeSocket, FakeSocket, FakeSocket];
    for (const s of [a, b, c, d]) wheel.add(s);
    wheel.tick();
    wheel.tick();
    expect(pinged.sort()).toEqual(['s0', 's1', 's2', 's3']);
    // All but c answer.
    for (const s of [a, b, d]) wheel.answered(s);
    wheel.tick();
    wheel.tick();
    expect(terminated).toEqual(['s2']);
    expect(pinged.filter((n) => n === 's2')).toHaveLength(1);
    expect(pinged.filter((n) => n === 's0')).toHaveLength(2);
  });

  it('keeps slices even as connections come and go, and forgets a closed connection', () => {
    const { wheel, pinged } = wheelOf(3);
    const all = sockets(9);
    for (const s of all) wheel.add(s);
    // s0, s3, s6 share the first slice (least full, ties to the first); they leave, and the newcomers all fill that slice.
    for (const s of [all[0]!, all[3]!, all[6]!]) wheel.delete(s);
    const newcomers = sockets(3).map((s) => ({ ...s, name: `n${s.name}` }));
    for (const s of newcomers) wheel.add(s);
    expect(wheel.size).toBe(9);
    const perTick: number[] = [];
    for (let tick = 0; tick < 3; tick += 1) {
      const before = pinged.length;
      wheel.tick();
      perTick.push(pinged.length - before);
    }
    expect(perTick).toEqual([3, 3, 3]);
    expect(pinged.slice(0, 3).sort()).toEqual(['ns0', 'ns1', 'ns2']);
    expect(pinged).not.toContain('s0');
    expect([...wheel.keys()].map((s) => s.name).sort()).toEqual(['ns0', 'ns1', 'ns2', 's1', 's2', 's4', 's5', 's7', 's8']);
  });

  it('does not ping a connection that is closing', () => {
    const { wheel, pinged, terminated } = wheelOf(1);
    const [a, b] = sockets(2) as [FakeSocket, FakeSocket];
    wheel.add(a);
    wheel.add(b);
    b.open = false;
    wheel.tick();
    expect(pinged).toEqual(['s0']);
    expect(terminated).toEqual([]);
  });
});
