import { cpus, loadavg } from 'node:os';
import { createMemoryLogger, createRunEventHub, type RunEvent } from '@orchestra/lib';
import type { Platform } from '@orchestra/tests';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectInspector, inspectorUrlIn, profileSelfTimes, type Inspector } from './inspector';
import { cpuSeconds, fmt, percentile, rssMiB } from './load';
import { Clients, envInt, progressEvent, RUN_EVENTS_SCALAR, startInspectablePlatform, startWatchedRuns, SUBSCRIPTION_PLATFORM, type WatchedRun } from './platform-setup';

/**
 * Issue 11, "Live subscriptions at scale": N subscribers on one gateway process over R runs while
 * events are published at E per second (spread over the runs), from several client processes. Events
 * go into the runs' Redis streams the way orchestration publishes them (lib's run event hub) for runs
 * that really exist (started, no worker), so `run { status }` is resolved by the real orchestration
 * subgraph. Reports delivery (every event to every subscriber, in order), latency from publish to
 * receipt, connect time, the gateway's CPU and memory, and what idle subscribers cost.
 *
 *   npm run bench -- subscriptions
 *   BENCH_SUBSCRIBERS=2000 BENCH_SECONDS=15 npm run bench -- subscriptions   (a smaller run)
 *   BENCH_SUBSCRIPTION_PHASES=run npm run bench -- subscriptions   (only the `run { status }` row: ~2 min, not ~4)
 *   BENCH_CPU_PROFILE_DIR=/tmp/p npm run bench -- subscriptions     (CPU profiles of the gateway and orchestration over each load, and their top functions on stdout)
 */

const SCALAR = RUN_EVENTS_SCALAR;
const WITH_RUN = `subscription($runId: ID!, $after: Int!) { runEvents(runId: $runId, afterSeq: $after) { seq kind at progress run { status } } }`;

/** Where CPU profiles of the gateway and orchestration over each load go (unset: none taken). */
const PROFILE_DIR = process.env['BENCH_CPU_PROFILE_DIR'] || undefined;

/** Profiles `inspectors` over `during`; writes `<dir>/<label>-<name>.cpuprofile` and prints each one's top functions. */
async function profiled<T>(label: string, inspectors: Record<string, Inspector | undefined>, during: () => Promise<T>): Promise<T> {
  const live = Object.entries(inspectors).filter((e): e is [string, Inspector] => e[1] !== undefined);
  if (!PROFILE_DIR || live.length === 0) return during();
  await Promise.all(live.map(([, inspector]) => inspector.startProfiling()));
  try {
    return await during();
  } finally {
    for (const [name, inspector] of live) {
      const json = await inspector.stopProfiling();
      const file = join(PROFILE_DIR, `${label}-${name}.cpuprofile`);
      writeFileSync(file, json);
      const top = profileSelfTimes(json).slice(0, 25);
      process.stdout.write(`bench: ${file}, self time by function:\n${top.map((t) => `  ${t.ms.toFixed(0).padStart(7)} ms ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.fn}`).join('\n')}\n`);
    }
  }
}

/** The bench's phases: the scalar row, the `run { status }` row, the idle CPU lines. */
const PHASES = ['scalar', 'run', 'idle'] as const;
type Phase = (typeof PHASES)[number];

/** BENCH_SUBSCRIPTION_PHASES: a comma-separated subset of PHASES (default all), to rerun one row alone. */
function phasesWanted(raw: string | undefined): Set<Phase> {
  if (raw === undefined || raw.trim() === '') return new Set(PHASES);
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_SUBSCRIPTION_PHASES: unknown ${unknown.join(', ')} (have: ${PHASES.join(', ')})`);
  return new Set(names as Phase[]);
}

async function cpuPercentDuring(pids: Record<string, number | undefined>, ms: number): Promise<Record<string, number>> {
  const before = Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([k, pid]) => [k, await cpuSeconds(pid)] as const)));
  await new Promise((r) => setTimeout(r, ms));
  const after = Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([k, pid]) => [k, await cpuSeconds(pid)] as const)));
  return Object.fromEntries(Object.keys(pids).map((k) => [k, (100 * (after[k]! - before[k]!)) / (ms / 1000)]));
}

/** The gateway's Prometheus gauges by name (first sample). Reading resets the event-loop lag histogram. */
async function gatewayGauges(opsUrl: string | undefined): Promise<Map<string, number>> {
  const gauges = new Map<string, number>();
  if (!opsUrl) return gauges;
  try {
    const text = await (await fetch(`${opsUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (match && !gauges.has(match[1]!)) gauges.set(match[1]!, Number(match[3]));
    }
  } catch {
    // no metrics: the columns read n/a
  }
  return gauges;
}

/** The gateway's count of federated queries for subscription entity fields (its only field here: run). */
const federatedQueriesIn = (gauges: Map<string, number>) => gauges.get('orchestra_gateway_subscription_federated_queries_total') ?? 0;

const heapMiB = (gauges: Map<string, number>) => (gauges.get('orchestra_nodejs_heap_size_used_bytes') ?? NaN) / 1024 / 1024;

interface Setup {
  platform: Platform;
  /** The gateway's inspector (it runs with --inspect on a port of its own): full GCs for the memory columns. */
  inspector: Inspector | undefined;
  /** Orchestration's inspector, when CPU profiles are asked for (BENCH_CPU_PROFILE_DIR). */
  orchestrationInspector: Inspector | undefined;
  token: string;
  runs: WatchedRun[];
}

async function setUp(runCount: number): Promise<Setup> {
  // Every child gets an (idle) inspector on a port of its own; the bench uses the gateway's for full GCs.
  const platform = await startInspectablePlatform(SUBSCRIPTION_PLATFORM);
  try {
    const inspector = await connectInspector(inspectorUrlIn(platform.gateway.logFile)).catch(() => undefined);
    const orchestrationLog = platform.services.orchestration?.logFile;
    const orchestrationInspector = PROFILE_DIR && orchestrationLog ? await connectInspector(inspectorUrlIn(orchestrationLog)).catch(() => undefined) : undefined;
    const { token, runs } = await startWatchedRuns(platform, { runCount, workflowName: 'bench-watched' });
    return { platform, inspector, orchestrationInspector, token, runs };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}

interface LoadOutcome {
  subscribers: number;
  opened: number;
  connectMs: number;
  published: number;
  delivered: number;
  expected: number;
  missing: number;
  outOfOrder: number;
  errors: string[];
  p50: number;
  p99: number;
  max: number;
  gatewayCpu: number;
  orchestrationCpu: number;
  /** The busiest client process, and all of them together (% of a core). */
  clientCpuMax: number;
  clientCpuSum: number;
  /** The gateway's event-loop delay p99 over the load (ms). */
  loopLagP99: number;
  /** Federated queries the gateway made for entity fields (run { status }) from the load's start to 3 s after its end. */
  federatedQueries: number;
  heapBefore: number;
  heapOpen: number;
  heapClosed: number;
  rssBefore: number;
  rssOpen: number;
  rssAfterLoad: number;
  rssClosed: number;
  /** After a full GC (through the inspector), once the above were read: V8 heap used all open, and heap used / RSS after all closed. */
  gcHeapOpen: number;
  gcHeapClosed: number;
  gcRssClosed: number;
}

/** V8 heap used and RSS (MiB) after a full garbage collection of the gateway. */
async function afterGc(inspector: Inspector | undefined): Promise<{ heap: number; rss: number }> {
  if (!inspector) return { heap: NaN, rss: NaN };
  await inspector.collectGarbage();
  const usage = await inspector.memoryUsage();
  return { heap: usage.heapUsed / 1024 / 1024, rss: usage.rss / 1024 / 1024 };
}

async function underLoad(
  setup: Setup,
  { query, subscribers, eventsPerSecond, seconds, clientCount, compression, compressAll }: { query: string; subscribers: number; eventsPerSecond: number; seconds: number; clientCount: number; compression: boolean; compressAll: boolean },
): Promise<LoadOutcome> {
  const { platform, runs } = setup;
  const gatewayPid = platform.gateway.process.pid;
  const orchestrationPid = platform.services.orchestration?.process.pid;
  const clients = await Clients.start(clientCount);
  const log = createMemoryLogger('bench');
  const hub = createRunEventHub({ redis: platform.redis, prefix: platform.redisPrefix, log });
  try {
    const opsUrl = platform.gateway.opsUrl;
    const rssBefore = await rssMiB(gatewayPid);
    const heapBefore = heapMiB(await gatewayGauges(opsUrl));
    const plan = runs.length === 0 ? [] : Array.from({ length: subscribers }, (_, i) => ({ runId: runs[i % runs.length]!.id, afterSeq: runs[i % runs.length]!.lastSeq }));
    const label = query === SCALAR ? 'scalar' : 'run-status';
    const { opened, ms: connectMs } = await profiled(`${label}-connect`, { gateway: setup.inspector }, () =>
      clients.open({ url: platform.wsUrl, token: setup.token, query, field: 'runEvents', compression, compressAll, subscriptions: plan }),
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const rssOpen = await rssMiB(gatewayPid);
    const gaugesOpen = await gatewayGauges(opsUrl); // also starts the event-loop lag window
    const heapOpen = heapMiB(gaugesOpen);
    const gcOpen = await afterGc(setup.inspector);
    await clients.report(); // drop anything before the measured window

    let published = 0;
    const started = Date.now();
    const publishing = (async () => {
      while (Date.now() - started < seconds * 1000) {
        const due = Math.floor(((Date.now() - started) / 1000) * eventsPerSecond);
        const batch: RunEvent[] = [];
        while (published < due) {
          batch.push(progressEvent(runs[published % runs.length]!, published));
          published += 1;
        }
        if (batch.length > 0) await hub.publish(batch);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const cpu = await profiled(label, { gateway: setup.inspector, orchestration: setup.orchestrationInspector }, () =>
      cpuPercentDuring({ gateway: gatewayPid, orchestration: orchestrationPid, ...clients.pids() }, Math.max(1_000, seconds * 1000 - 2_000)),
    );
    const loopLagP99 = (await gatewayGauges(opsUrl)).get('orchestra_nodejs_eventloop_lag_p99_seconds') ?? NaN;
    const clientCpu = Object.entries(cpu)
      .filter(([k]) => k.startsWith('client'))
      .map(([, v]) => v);
    await publishing;
    await new Promise((r) => setTimeout(r, 3_000));
    const rssAfterLoad = await rssMiB(gatewayPid);
    const federatedQueries = federatedQueriesIn(await gatewayGauges(opsUrl)) - federatedQueriesIn(gaugesOpen);
    const report = await clients.report();
    const lastSeq = new Map(runs.map((r) => [r.id, r.lastSeq]));
    let expected = 0;
    let missing = 0;
    let outOfOrder = 0;
    let delivered = 0;
    const errors: string[] = [];
    for (const s of report.subscriptions) {
      const want = lastSeq.get(s.runId)! - s.afterSeq;
      expected += want;
      delivered += s.received;
      missing += Math.max(0, want - s.received);
      outOfOrder += s.outOfOrder;
      errors.push(...s.errors);
    }
    const sorted = report.latencies.sort((a, b) => a - b);
    await clients.close();
    await new Promise((r) => setTimeout(r, 5_000));
    const rssClosed = await rssMiB(gatewayPid);
    const heapClosed = heapMiB(await gatewayGauges(opsUrl));
    const gcClosed = await afterGc(setup.inspector);
    return {
      subscribers,
      opened,
      connectMs,
      published,
      delivered,
      expected,
      missing,
      outOfOrder,
      errors: [...new Set(errors)].slice(0, 5),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? NaN,
      gatewayCpu: cpu['gateway']!,
      orchestrationCpu: cpu['orchestration']!,
      clientCpuMax: Math.max(...clientCpu),
      clientCpuSum: clientCpu.reduce((a, b) => a + b, 0),
      loopLagP99: loopLagP99 * 1000,
      federatedQueries,
      heapBefore,
      heapOpen,
      heapClosed,
      rssBefore,
      rssOpen,
      rssAfterLoad,
      rssClosed,
      gcHeapOpen: gcOpen.heap,
      gcHeapClosed: gcClosed.heap,
      gcRssClosed: gcClosed.rss,
    };
  } finally {
    clients.stop();
    await hub.stop();
  }
}

/** CPU of the gateway, orchestration and identity over `seconds` with no subscriber, then with `subscribers` idle ones. */
async function idle(setup: Setup, { subscribers, seconds, clientCount, compression, compressAll }: { subscribers: number; seconds: number; clientCount: number; compression: boolean; compressAll: boolean }): Promise<{ none: Record<string, number>; idle: Record<string, number> }> {
  const { platform, runs } = setup;
  const pids = { gateway: platform.gateway.process.pid, orchestration: platform.services.orchestration?.process.pid, identity: platform.services.identity?.process.pid };
  // The feeds of the load phases have closed (they linger 15 s without subscribers).
  await new Promise((r) => setTimeout(r, 16_000));
  const none = await cpuPercentDuring(pids, seconds * 1000);
  const clients = await Clients.start(clientCount);
  try {
    const plan = Array.from({ length: subscribers }, (_, i) => ({ runId: runs[i % runs.length]!.id, afterSeq: runs[i % runs.length]!.lastSeq }));
    await clients.open({ url: platform.wsUrl, token: setup.token, query: SCALAR, field: 'runEvents', compression, compressAll, subscriptions: plan });
    await new Promise((r) => setTimeout(r, 3_000));
    const cpu = await cpuPercentDuring(pids, seconds * 1000);
    await clients.close();
    return { none, idle: cpu };
  } finally {
    clients.stop();
  }
}

export async function benchSubscriptions(): Promise<string> {
  const subscribers = envInt('BENCH_SUBSCRIBERS', 10_000);
  const runCount = envInt('BENCH_RUNS', 100);
  const eventsPerSecond = envInt('BENCH_EVENTS_PER_SECOND', 100);
  const seconds = envInt('BENCH_SECONDS', 30);
  const clientCount = envInt('BENCH_CLIENTS', 4);
  const idleSubscribers = envInt('BENCH_IDLE_SUBSCRIBERS', 1_000);
  // Clients offer permessage-deflate and compress every message they send, as browsers do;
  // BENCH_COMPRESSION=0 to compare without, BENCH_CLIENT_COMPRESS=large to compress only messages of 1 KiB or more (ws's default).
  const compression = process.env['BENCH_COMPRESSION'] !== '0';
  const compressAll = process.env['BENCH_CLIENT_COMPRESS'] !== 'large';
  const idleSeconds = Math.min(seconds, 20);
  const phases = phasesWanted(process.env['BENCH_SUBSCRIPTION_PHASES']);
  const loadAtStart = loadavg()[0]!;
  const setup = await setUp(runCount);
  try {
    const scalar = phases.has('scalar') ? await underLoad(setup, { query: SCALAR, subscribers, eventsPerSecond, seconds, clientCount, compression, compressAll }) : undefined;
    const withRun = phases.has('run') ? await underLoad(setup, { query: WITH_RUN, subscribers, eventsPerSecond, seconds, clientCount, compression, compressAll }) : undefined;
    const idleCpu = phases.has('idle') ? await idle(setup, { subscribers: idleSubscribers, seconds: idleSeconds, clientCount: 2, compression, compressAll }) : undefined;
    const row = (name: string, o: LoadOutcome) =>
      `| ${name} | ${o.opened}/${o.subscribers} | ${fmt(o.connectMs / 1000, 1)} s | ${o.published} | ${o.delivered}/${o.expected}${o.missing > 0 ? ` (**${o.missing} missing**)` : ''}${o.outOfOrder > 0 ? `, ${o.outOfOrder} out of order` : ''} | ${fmt(o.p50, 0)} | ${fmt(o.p99, 0)} | ${fmt(o.max, 0)} | ${fmt(o.gatewayCpu, 0)}% | ${fmt(o.loopLagP99, 0)} | ${fmt(o.clientCpuMax, 0)}% / ${fmt(o.clientCpuSum, 0)}% | ${fmt(o.orchestrationCpu, 0)}% | ${fmt(o.rssBefore, 0)} → ${fmt(o.rssOpen, 0)} → ${fmt(o.rssAfterLoad, 0)} → ${fmt(o.rssClosed, 0)} | ${fmt(o.heapBefore, 0)} → ${fmt(o.heapOpen, 0)} → ${fmt(o.heapClosed, 0)} | ${fmt(((o.rssOpen - o.rssBefore) * 1024) / Math.max(1, o.opened), 1)} | ${fmt(o.gcHeapOpen, 0)} → ${fmt(o.gcHeapClosed, 0)}, ${fmt(o.gcRssClosed, 0)} |`;
    const errors = [...(scalar?.errors ?? []), ...(withRun?.errors ?? [])];
    const cpuLine = (cpu: Record<string, number>) => `gateway ${fmt(cpu['gateway']!, 1)}%, orchestration ${fmt(cpu['orchestration']!, 1)}%, identity ${fmt(cpu['identity']!, 1)}%`;
    return [
      `### Live subscriptions (${subscribers} subscribers on one gateway, ${runCount} runs, ${eventsPerSecond} events/s for ${seconds} s, ${clientCount} client processes, clients ${compression ? `offer permessage-deflate and compress ${compressAll ? 'every message they send, as browsers do' : 'what they send of 1 KiB or more'}` : 'do not offer permessage-deflate'})`,
      '',
      'Delivery latency is from publishing an event into the run\'s Redis stream (as orchestration does) to a client process parsing it. RSS and V8 heap used of the gateway: before connecting → all open → after the load → 5 s after all closed; then, after a full garbage collection through the gateway\'s inspector, its heap used with all open and after all closed, and its RSS after all closed. CPU: % of one core over the load (this machine has ' +
        `${cpus().length} cores, shared with the clients, PostgreSQL and Redis); clients: the busiest client process / all together. Loop lag: the gateway's event-loop delay p99 over the load.`,
      '',
      '| selection | open | connect all | events published | delivered / expected | p50 ms | p99 ms | max ms | gateway CPU | loop lag p99 ms | clients CPU | orchestration CPU | gateway RSS MiB | gateway heap MiB | KiB per subscription (RSS) | after a full GC: heap MiB all open → all closed, RSS all closed |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...(scalar ? [row('`runEvents { seq kind at progress message }`', scalar)] : []),
      ...(withRun ? [row('`… run { status }`', withRun)] : []),
      '',
      ...(scalar && withRun
        ? [`- With \`run { status }\` (one federated look-up per event, shared by every subscriber of the run): p99 **${fmt(withRun.p99 / scalar.p99, 2)}×** the scalar selection's, gateway CPU **${fmt(withRun.gatewayCpu / scalar.gatewayCpu, 2)}×**.`]
        : []),
      ...(withRun ? [`- \`run { status }\`: ${withRun.federatedQueries} federated queries for ${withRun.published} events published (${fmt(withRun.federatedQueries / Math.max(1, withRun.published), 2)} per event).`] : []),
      ...(idleCpu ? [`- Idle for ${idleSeconds} s, no subscriber (baseline): ${cpuLine(idleCpu.none)} of a core; with ${idleSubscribers} idle subscribers: ${cpuLine(idleCpu.idle)}.`] : []),
      ...(phases.size < PHASES.length ? [`- Phases run: ${[...phases].join(', ')} (BENCH_SUBSCRIPTION_PHASES).`] : []),
      ...(errors.length > 0 ? [`- Errors seen by clients: ${errors.map((e) => `\`${e}\``).join(', ')}`] : []),
      `- Load average (1 min) of the machine: ${fmt(loadAtStart, 1)} at the start, ${fmt(loadavg()[0]!, 1)} at the end.`,
      '',
    ].join('\n');
  } finally {
    setup.inspector?.close();
    setup.orchestrationInspector?.close();
    await setup.platform.stop();
  }
}
