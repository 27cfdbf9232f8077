import { loadavg } from 'node:os';
import { createMemoryLogger, createRunEventHub } from '@orchestra/lib';
import WebSocket from 'ws';
import { censusGrowth, connectInspector, heapCensus, inspectorUrlIn, type HeapCensus, type Inspector } from './inspector';
import { fmt, rssMiB } from './load';
import { envInt, progressEvent, RUN_EVENTS_SCALAR, startInspectablePlatform, startWatchedRuns, SUBSCRIPTION_PLATFORM } from './platform-setup';

/**
 * Issue 11, "memory per open subscription ≤ 20 KiB and returned when they close": where the gateway's
 * memory per open subscription goes. Opens N graphql-transport-ws connections (one `runEvents`
 * subscription each, as the subscriptions bench does) and, through the gateway's inspector, collects
 * garbage and reads process.memoryUsage() and heap snapshots with none open, all open (after events
 * were delivered), and after all closed; reports the growth per connection by constructor.
 * Not timing-sensitive: it may run on a loaded machine.
 *
 *   npm run bench -- subscription-memory              (BENCH_SUBSCRIBERS=2000)
 */

interface Sample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** RSS of the process from /proc (MiB), as the subscriptions bench reads it. */
  procRss: number;
}

async function sample(inspector: Inspector, pid: number | undefined): Promise<Sample> {
  await inspector.collectGarbage();
  const usage = await inspector.memoryUsage();
  const mib = (n: number) => n / 1024 / 1024;
  return { rss: mib(usage.rss), heapUsed: mib(usage.heapUsed), heapTotal: mib(usage.heapTotal), external: mib(usage.external), arrayBuffers: mib(usage.arrayBuffers), procRss: await rssMiB(pid) };
}

/** Opens one connection with one subscription; resolves when the subscription's first event arrived. */
function subscribe(url: string, token: string, runId: string, afterSeq: number, compression: false | { threshold: number }, received: () => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: compression });
    let first = true;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: RUN_EVENTS_SCALAR, variables: { runId, after: afterSeq } } }));
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (message.type === 'next') {
        received();
        if (first) resolve(socket);
        first = false;
      } else if (message.type === 'error') reject(new Error(`bench: subscription refused: ${JSON.stringify(message.payload)}`));
    });
    socket.once('error', reject);
    socket.once('close', (code, reason) => reject(new Error(`bench: connection closed ${code} ${reason.toString()}`)));
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchSubscriptionMemory(): Promise<string> {
  const connections = envInt('BENCH_SUBSCRIBERS', 2_000);
  const runCount = envInt('BENCH_RUNS', 100);
  // As browsers: offer permessage-deflate and compress every message sent (BENCH_CLIENT_COMPRESS=large: only those of 1 KiB or more).
  const compression = process.env['BENCH_COMPRESSION'] === '0' ? false : { threshold: process.env['BENCH_CLIENT_COMPRESS'] === 'large' ? 1024 : 0 };
  const platform = await startInspectablePlatform(SUBSCRIPTION_PLATFORM);
  const pid = platform.gateway.process.pid;
  let inspector: Inspector | undefined;
  const hub = createRunEventHub({ redis: platform.redis, prefix: platform.redisPrefix, log: createMemoryLogger('bench') });
  const sockets: WebSocket[] = [];
  try {
    const { token, runs } = await startWatchedRuns(platform, { runCount, workflowName: 'bench-memory' });
    inspector = await connectInspector(inspectorUrlIn(platform.gateway.logFile));
    // Warm up: one subscriber per run, so the run feeds, documents and code exist before the baseline.
    let received = 0;
    const warm = await Promise.all(runs.map((run) => subscribe(platform.wsUrl, token, run.id, run.lastSeq - 1, compression, () => (received += 1))));
    await hub.publish(runs.map((run, i) => progressEvent(run, i)));
    await waitFor(() => received >= runs.length * 2, 'the warm-up events');
    /** Opens every connection, delivers 10 events to each (the steady state after deliveries, not only after subscribing). */
    const openAll = async () => {
      received = 0;
      for (let i = 0; i < connections; i += 50) {
        const batch = Array.from({ length: Math.min(50, connections - i) }, (_, j) => {
          const run = runs[(i + j) % runs.length]!;
          return subscribe(platform.wsUrl, token, run.id, run.lastSeq - 1, compression, () => (received += 1));
        });
        sockets.push(...(await Promise.all(batch)));
      }
      const target = received + (connections + runs.length) * 10;
      for (let round = 0; round < 10; round += 1) await hub.publish(runs.map((run, i) => progressEvent(run, round * runs.length + i)));
      await waitFor(() => received >= target, 'the events of every subscriber');
      await new Promise((r) => setTimeout(r, 1_000));
    };
    const closeAll = async () => {
      for (const socket of sockets) socket.close();
      await waitFor(() => sockets.every((s) => s.readyState === WebSocket.CLOSED), 'the connections to close');
      sockets.length = 0;
      await new Promise((r) => setTimeout(r, 2_000));
    };

    // First RSS and heap alone (a heap snapshot leaves the gateway's RSS hundreds of MiB higher), then
    // the same again with snapshots for where the heap goes.
    const before = await sample(inspector, pid);
    await openAll();
    const open = await sample(inspector, pid);
    await closeAll();
    const closed = await sample(inspector, pid);

    const censusBefore: HeapCensus = heapCensus(await inspector.heapSnapshot());
    await openAll();
    const censusOpen = heapCensus(await inspector.heapSnapshot());
    await closeAll();
    const censusClosed = heapCensus(await inspector.heapSnapshot());
    for (const socket of warm) socket.close();

    const perConnectionKiB = (a: number, b: number) => fmt(((b - a) * 1024) / connections, 2);
    const row = (name: string, s: Sample) => `| ${name} | ${fmt(s.procRss, 1)} | ${fmt(s.heapUsed, 1)} | ${fmt(s.heapTotal, 1)} | ${fmt(s.external, 1)} | ${fmt(s.arrayBuffers, 1)} |`;
    const growth = censusGrowth(censusBefore, censusOpen).slice(0, 25);
    const residual = censusGrowth(censusBefore, censusClosed).filter((r) => r.bytes > 0).slice(0, 10);
    const heapGrowth = growth.reduce((sum, r) => sum + r.bytes, 0);
    return [
      `### Memory per open subscription (${connections} connections, one \`runEvents\` subscription each, ${runCount} runs, clients ${compression ? `offer permessage-deflate and compress ${compression.threshold === 0 ? 'everything they send, as browsers do' : `what they send of ${compression.threshold} bytes or more`}` : 'do not offer permessage-deflate'})`,
      '',
      'The gateway after a full garbage collection (through its inspector), with one warm-up subscriber per run open, then with all connections open and 10 events delivered to each, then 2 s after they all closed. Heap snapshots were taken in a second round of the same, after these numbers (a snapshot leaves RSS higher).',
      '',
      '| phase | RSS MiB | V8 heap used MiB | V8 heap total MiB | external MiB | array buffers MiB |',
      '|---|---|---|---|---|---|',
      row('before', before),
      row(`${connections} open`, open),
      row('all closed', closed),
      '',
      `- Per open connection: **${perConnectionKiB(before.procRss, open.procRss)} KiB of RSS**, ${perConnectionKiB(before.heapUsed, open.heapUsed)} KiB of V8 heap, ${perConnectionKiB(before.external, open.external)} KiB external; RSS not in the heap: ${fmt((((open.procRss - open.heapTotal) - (before.procRss - before.heapTotal)) * 1024) / connections, 2)} KiB.`,
      `- After all closed: RSS ${fmt(closed.procRss - before.procRss, 1)} MiB over the start, V8 heap used ${fmt(closed.heapUsed - before.heapUsed, 1)} MiB over it.`,
      '',
      `Heap growth per connection by what it is (snapshot self sizes, all open − before; ${fmt(heapGrowth / connections / 1024, 2)} KiB in all):`,
      '',
      '| what | count per connection | bytes per connection |',
      '|---|---|---|',
      ...growth.map((r) => `| \`${r.key.replace(/\|/g, '\\|')}\` | ${fmt(r.count / connections, 2)} | ${fmt(r.bytes / connections, 0)} |`),
      '',
      `- Load average (1 min) of the machine at the end: ${fmt(loadavg()[0]!, 1)} (memory is not timing-sensitive).`,
      '',
      `Left after all closed (largest, bytes in all): ${residual.map((r) => `\`${r.key.replace(/\|/g, '\\|')}\` ${r.bytes}`).join(', ') || 'nothing'}.`,
      '',
    ].join('\n');
  } finally {
    for (const socket of sockets) socket.terminate();
    inspector?.close();
    await hub.stop();
    await platform.stop();
  }
}
