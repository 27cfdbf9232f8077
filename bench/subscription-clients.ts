// One client process of the subscription benchmark (bench/subscriptions.ts forks several, so the
// clients are not what is measured). It speaks graphql-transport-ws over plain `ws` (no client
// library in the way), and reports when its subscriptions are open, the delivery latency of every
// event (receive time − the event's `at`, set when it was published) and what each subscription got.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

/**
 * BENCH_CLIENT_DIAG_DIR: each report also writes <dir>/client-<pid>-<n>.json with this process's
 * event-loop delay over the window and every delivery slower than 50 ms (when it arrived, its latency,
 * run and seq), to tell a stall in the gateway (every client, same moments) from one in a client.
 */
const DIAG_DIR = process.env['BENCH_CLIENT_DIAG_DIR'] || undefined;
const loopDelay = DIAG_DIR ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
loopDelay?.enable();
let slow: Array<[number, number, string, number]> = [];
let reports = 0;

interface Plan {
  url: string;
  token: string;
  query: string;
  field: string;
  subscriptions: Array<{ runId: string; afterSeq: number }>;
  /** Connections opening at once. */
  parallel: number;
  /** Offer permessage-deflate, as browsers do. */
  compression: boolean;
  /** With compression: compress every message sent, as browsers do (the default; false: only those of 1 KiB or more, ws's default). */
  compressAll?: boolean;
}

type FromParent = { type: 'open'; plan: Plan } | { type: 'report' } | { type: 'close' };

interface Subscription {
  runId: string;
  afterSeq: number;
  socket: WebSocket | undefined;
  lastSeq: number;
  received: number;
  outOfOrder: number;
  errors: string[];
}

const send = (message: unknown) => process.send?.(message);
const subscriptions: Subscription[] = [];
let latencies: number[] = [];

function open(plan: Plan, sub: Subscription): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(plan.url, 'graphql-transport-ws', { perMessageDeflate: plan.compression ? (plan.compressAll === false ? true : { threshold: 0 }) : false });
    sub.socket = socket;
    let settled = false;
    const done = () => {
      if (!settled) resolve();
      settled = true;
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${plan.token}` } })));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { data?: Record<string, { seq: number; at: string }>; errors?: unknown } | unknown[] };
      switch (message.type) {
        case 'connection_ack':
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: plan.query, variables: { runId: sub.runId, after: sub.afterSeq } } }));
          done();
          return;
        case 'next': {
          const event = (message.payload as { data?: Record<string, { seq: number; at: string }> }).data?.[plan.field];
          if (!event) {
            sub.errors.push(JSON.stringify(message.payload).slice(0, 200));
            return;
          }
          const now = Date.now();
          const latency = now - Date.parse(event.at);
          latencies.push(latency);
          if (DIAG_DIR && latency >= 50) slow.push([now, latency, sub.runId, event.seq]);
          if (event.seq !== sub.lastSeq + 1 && sub.lastSeq !== 0) sub.outOfOrder += 1;
          sub.lastSeq = event.seq;
          sub.received += 1;
          return;
        }
        case 'error':
          sub.errors.push(JSON.stringify(message.payload).slice(0, 200));
          return;
        case 'ping':
          socket.send(JSON.stringify({ type: 'pong' }));
          return;
        default:
          return;
      }
    });
    socket.on('error', (error) => {
      sub.errors.push(error.message);
      done();
    });
    socket.on('close', () => done());
  });
}

async function openAll(plan: Plan): Promise<void> {
  const started = Date.now();
  for (const s of plan.subscriptions) subscriptions.push({ ...s, socket: undefined, lastSeq: s.afterSeq, received: 0, outOfOrder: 0, errors: [] });
  let next = 0;
  const worker = async () => {
    while (next < subscriptions.length) {
      const sub = subscriptions[next]!;
      next += 1;
      await open(plan, sub);
    }
  };
  await Promise.all(Array.from({ length: plan.parallel }, worker));
  send({ type: 'opened', count: subscriptions.filter((s) => s.socket?.readyState === WebSocket.OPEN).length, ms: Date.now() - started });
}

process.on('message', (message: FromParent) => {
  switch (message.type) {
    case 'open':
      void openAll(message.plan);
      return;
    case 'report': {
      const sample = latencies;
      latencies = [];
      if (DIAG_DIR && loopDelay) {
        const ms = (ns: number) => ns / 1e6;
        reports += 1;
        writeFileSync(
          join(DIAG_DIR, `client-${process.pid}-${reports}.json`),
          JSON.stringify({ at: Date.now(), loop: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) }, deliveries: sample.length, slow }),
        );
        loopDelay.reset();
        slow = [];
      }
      send({
        type: 'report',
        latencies: sample,
        subscriptions: subscriptions.map((s) => ({ runId: s.runId, afterSeq: s.afterSeq, lastSeq: s.lastSeq, received: s.received, outOfOrder: s.outOfOrder, errors: s.errors.slice(0, 3) })),
      });
      return;
    }
    case 'close': {
      for (const s of subscriptions) s.socket?.close();
      const waitClosed = () => (subscriptions.every((s) => !s.socket || s.socket.readyState === WebSocket.CLOSED) ? send({ type: 'closed' }) : setTimeout(waitClosed, 50));
      waitClosed();
      return;
    }
  }
});
send({ type: 'ready' });
