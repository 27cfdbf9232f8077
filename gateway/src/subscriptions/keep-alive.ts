/**
 * Keep-alive for many connections, spread over the keep-alive period: every connection is pinged once
 * per period and dropped at its next turn when it has not answered the previous ping, but the
 * connections are split into slices and one slice is swept per tick, so at 10,000 connections a tick
 * pings ~200 of them rather than all 10,000 at once.
 *
 * One sweep of every connection (what ws-transport did after graphql-ws's per-connection timers were
 * replaced, 59545c7) is a ping frame and a socket write per connection in one go: at 10,000
 * connections a stall of 150–300 ms every 12 s, which delayed every run event published meanwhile
 * (the subscription bench's p99 went from 105 to 157 ms, its max to 299 ms). graphql-ws's timers were
 * spread by each connection's start; the slices do the same with one timer and no per-connection one.
 */
export interface KeepAliveOptions<S> {
  /** Each connection is pinged once per period. */
  periodMs: number;
  /** Slices of the period (one swept per tick). Default: a tick every ~250 ms, at most 48 slices, at least 1. */
  slices?: number;
  /** Sends a ping (and anything else due once per period, e.g. freeing an idle zlib stream). */
  ping(socket: S): void;
  /** Drops a connection that did not answer its last ping. */
  terminate(socket: S): void;
  /** Whether the connection is open (one that is not is skipped; its close removes it). */
  isOpen(socket: S): boolean;
}

export class KeepAliveWheel<S> {
  /** Per slice: its connections and whether each answered its last ping. */
  private readonly slots: Array<Map<S, boolean>>;
  private readonly slotOf = new Map<S, number>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KeepAliveOptions<S>) {
    const slices = options.slices ?? Math.max(1, Math.min(48, Math.floor(options.periodMs / 250)));
    this.slots = Array.from({ length: slices }, () => new Map<S, boolean>());
  }

  /** Ticks every period / slices (unref'd). */
  start(): void {
    if (this.timer || !(this.options.periodMs > 0) || !Number.isFinite(this.options.periodMs)) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(this.options.periodMs / this.slots.length)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds a connection to the least full slice (its first ping comes within one period). */
  add(socket: S): void {
    if (this.slotOf.has(socket)) return;
    let best = 0;
    for (let i = 1; i < this.slots.length; i += 1) if (this.slots[i]!.size < this.slots[best]!.size) best = i;
    this.slots[best]!.set(socket, true);
    this.slotOf.set(socket, best);
  }

  /** The connection answered a ping. */
  answered(socket: S): void {
    const slot = this.slotOf.get(socket);
    if (slot !== undefined) this.slots[slot]!.set(socket, true);
  }

  delete(socket: S): void {
    const slot = this.slotOf.get(socket);
    if (slot === undefined) return;
    this.slotOf.delete(socket);
    this.slots[slot]!.delete(socket);
  }

  get size(): number {
    return this.slotOf.size;
  }

  keys(): IterableIterator<S> {
    return this.slotOf.keys();
  }

  /** Sweeps the next slice: drops who did not answer its last ping, pings the others. */
  tick(): void {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % this.slots.length;
    for (const [socket, answered] of slot) {
      if (!answered) {
        this.options.terminate(socket);
        continue;
      }
      if (!this.options.isOpen(socket)) continue;
      slot.set(socket, false);
      this.options.ping(socket);
    }
  }
}
