import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { startPlatform, type Platform } from '@orchestra/tests';
import { fmt, percentile } from './load';

/**
 * Issue 12, "Live updates": the run page in real Chromium (CPU throttled 4× through CDP
 * Emulation.setCPUThrottlingRate) following a live run of many tasks, for two builds of the web app
 * on the same platform in the same run: the baseline (the app as of BENCH_WEB_BASELINE_REF, built
 * from that commit's web/ sources) and the current web/ sources. Reports the p95 time between
 * animation frames, the long tasks, the bytes the page received (HTTP bodies as sent on the wire,
 * plus WebSocket frames) and how often the whole run was fetched (`query Run`).
 *
 *   npm run bench -- web-live          (a live run of 2,000 tasks, issue 12's target: one forEach of 2,000 sleep items)
 *   npm run bench -- web-live-10k      (a forEach of 10,000 items on 64 slots, its own section; BENCH_WEB_ITEMS=N for another size)
 *   BENCH_WEB_ITEMS=0 BENCH_WEB_STEPS=200 BENCH_WEB_SLEEP_MS=1500 BENCH_WEB_SLOTS=16 npm run bench -- web-live
 *     (a layered DAG of static steps instead; a workflow has at most 200 steps)
 *   BENCH_WEB_TRACE=1: where each page's main thread spent its time (a Chrome trace), printed
 *   BENCH_WEB_BASELINE_REF=<commit>[,<commit>...]   (default: 29c14ec, main before issue 12's run page work;
 *     more refs are measured in order, e.g. 29c14ec,main for the issue's baseline and main before a change)
 */

const ROOT = resolve(__dirname, '..');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const envInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

/**
 * Builds web/ as of `ref` (its sources extracted next to web/ so its node_modules resolve, removed
 * after the build) into a cached folder under the temp dir.
 */
export function buildWebAt(ref: string): string {
  const dist = join(tmpdir(), `orchestra-bench-web-${ref}`);
  if (existsSync(join(dist, 'index.html'))) return dist;
  const dir = join(ROOT, 'web', `.bench-baseline-${ref}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const archive = execFileSync('git', ['archive', ref, 'web/src', 'web/index.html', 'web/vite.config.mts'], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '--strip-components=1', '-C', dir], { input: archive });
    const script = `process.env.NODE_ENV='production'; const { build } = await import('vite'); await build({ root: ${JSON.stringify(dir)}, configFile: ${JSON.stringify(join(dir, 'vite.config.mts'))}, logLevel: 'warn' });`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(ROOT, 'web'), stdio: 'inherit' });
    cpSync(join(dir, 'dist'), dist, { recursive: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return dist;
}

function buildCurrentWeb(): string {
  execFileSync(process.execPath, [join(ROOT, 'web', 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
  return join(ROOT, 'web', 'dist');
}

/** Replaces what the gateway serves (it looks files up per request) with another build. */
function serve(servedDir: string, dist: string): void {
  for (const entry of readdirSync(servedDir)) rmSync(join(servedDir, entry), { recursive: true, force: true });
  cpSync(dist, servedDir, { recursive: true });
}

/** A layered DAG: `layers` columns of `width` sleep steps, each depending on two steps of the column before. */
function layeredSteps(count: number, sleepMs: number): unknown[] {
  const width = Math.max(1, Math.round(Math.sqrt(count * 2)));
  return Array.from({ length: count }, (_, i) => {
    const layer = Math.floor(i / width);
    const col = i % width;
    const dependsOn = layer === 0 ? [] : [...new Set([`s${(layer - 1) * width + col}`, `s${(layer - 1) * width + ((col + 1) % width)}`])].filter((d) => Number(d.slice(1)) < count);
    return { id: `s${i}`, capability: 'sleep', dependsOn, input: { ms: sleepMs, progressEveryMs: Math.max(100, Math.floor(sleepMs / 3)) } };
  });
}

/** One forEach step of sleep items (the items are the run's input), as many at once as there are slots. */
function forEachSteps(sleepMs: number, slots: number): unknown[] {
  return [{ id: 'each', capability: 'sleep', input: { ms: sleepMs, progressEveryMs: Math.max(100, Math.floor(sleepMs / 3)) }, forEach: { items: '{{ input.items }}', maxParallel: slots } }];
}

/**
 * A TCP proxy in front of the gateway counting the bytes sent to the browser: what crossed the wire,
 * compressed as it was (CDP reports WebSocket frames decompressed).
 */
async function startByteCounter(target: URL): Promise<{ origin: string; bytes: () => number; reset: () => void; close: () => Promise<void> }> {
  let bytes = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    upstream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    reset: () => {
      bytes = 0;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface PageMeasurement {
  seconds: number;
  frames: number;
  p50FrameMs: number;
  p95FrameMs: number;
  maxFrameMs: number;
  longTaskMs: number;
  httpBytes: number;
  wsBytes: number;
  /** Everything the browser received, as it crossed the wire (the byte-counting proxy). */
  wireBytes: number;
  runQueries: number;
  requests: number;
  /** The renderer's main thread while the page was measured (CDP Performance.getMetrics deltas), ms: all tasks, script, style, layout. */
  mainThread: { taskMs: number; scriptMs: number; styleMs: number; layoutMs: number };
  /** Whether the page showed the run's final status (false: it had not PAGE_GRACE_MS after the run ended). */
  pageShowedEnd: boolean;
}

/** How long a page may lag behind the run's end before it is measured anyway. */
const PAGE_GRACE_MS = 60_000;

/** Resolves once the API says the run ended (polled each second, for at most 15 minutes). */
async function waitForRunEnd(platform: Platform, token: string, runId: string): Promise<void> {
  const deadline = Date.now() + 900_000;
  while (Date.now() < deadline) {
    const res = await platform.graphql<{ run: { status: string } | null }>('query($id: ID!) { run(id: $id) { status } }', { id: runId }, { token });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(res.data?.run?.status ?? '')) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`run ${runId} did not end within 15 minutes`);
}

const METRICS = { taskMs: 'TaskDuration', scriptMs: 'ScriptDuration', styleMs: 'RecalcStyleDuration', layoutMs: 'LayoutDuration' } as const;
async function mainThreadMetrics(cdp: CDPSession): Promise<PageMeasurement['mainThread']> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name: string) => (metrics.find((m) => m.name === name)?.value ?? NaN) * 1000;
  return { taskMs: value(METRICS.taskMs), scriptMs: value(METRICS.scriptMs), styleMs: value(METRICS.styleMs), layoutMs: value(METRICS.layoutMs) };
}

const FRAME_PROBE = `(() => {
  const w = globalThis;
  w.__frames = []; w.__longTasks = 0;
  let last = performance.now();
  const tick = (now) => { w.__frames.push(now - last); last = now; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try { new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__longTasks += e.duration; }).observe({ type: 'longtask', buffered: true }); } catch {}
})();`;

async function signIn(page: Page, origin: string, admin: { email: string; password: string }): Promise<void> {
  await page.goto(`${origin}/sign-in`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'), { timeout: 60_000 });
}

type TraceEvent = { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: { name?: string; data?: { url?: string; functionName?: string; lineNumber?: number; columnNumber?: number; type?: string } } };

/** The renderer main threads of a trace (pid:tid). */
const mainThreads = (events: readonly TraceEvent[]): Set<string> => new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));

/** What a trace event is, with the script it ran where the trace says (function @ file:line:col, or the event type). */
function describeEvent(e: TraceEvent): string {
  const d = e.args?.data;
  if (!d) return e.name;
  if (e.name === 'EventDispatch' && d.type) return `EventDispatch ${d.type}`;
  if (d.url !== undefined || d.functionName !== undefined) return `${e.name} ${d.functionName || '(anonymous)'} @ ${(d.url ?? '').split('/').pop()}:${d.lineNumber ?? ''}:${d.columnNumber ?? ''}`;
  return e.name;
}

/**
 * Where the renderer's main thread spent its time (a Chrome trace, devtools.timeline): total ms per
 * event name on CrRendererMain, nested events counted in their parents too (Paint inside RunTask);
 * then every long task (a RunTask of 50 ms or more, throttled time) with when it ran (s after the
 * trace began) and the events inside it that took longest.
 */
export function summarizeTrace(events: readonly TraceEvent[]): string {
  const main = mainThreads(events);
  const totals = new Map<string, number>();
  const onMain = events.filter((e) => e.ph === 'X' && e.dur !== undefined && main.has(`${e.pid}:${e.tid}`)).sort((a, b) => a.ts - b.ts);
  for (const e of onMain) totals.set(e.name, (totals.get(e.name) ?? 0) + e.dur! / 1000);
  const lines = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`);
  const start = onMain[0]?.ts ?? 0;
  const long = onMain.filter((e) => e.name === 'RunTask' && e.dur! >= 50_000);
  lines.push(`long tasks (RunTask >= 50 ms): ${long.length}, ${(long.reduce((n, e) => n + e.dur!, 0) / 1000).toFixed(0)} ms`);
  // Inside each: the events nested in it (not RunTask), by what they are, longest first.
  let from = 0;
  for (const task of long) {
    const end = task.ts + task.dur!;
    while (from < onMain.length && onMain[from]!.ts < task.ts) from += 1;
    const inside = new Map<string, number>();
    for (let i = from; i < onMain.length && onMain[i]!.ts < end; i += 1) {
      const e = onMain[i]!;
      if (e.name === 'RunTask' || e.pid !== task.pid || e.tid !== task.tid) continue;
      const what = describeEvent(e);
      inside.set(what, (inside.get(what) ?? 0) + e.dur! / 1000);
    }
    const top = [...inside].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([what, ms]) => `${what} ${ms.toFixed(0)}`);
    lines.push(`  at ${((task.ts - start) / 1e6).toFixed(1)} s: ${(task.dur! / 1000).toFixed(0)} ms — ${top.join('; ')}`);
  }
  return lines.join('\n');
}

async function measureOnce(platform: Platform, workflowId: string, runInput: unknown, throttle: number, wire: Awaited<ReturnType<typeof startByteCounter>>, profilePath?: string): Promise<PageMeasurement> {
  const admin = platform.firstAdmin!;
  const origin = wire.origin;
  const profile = mkdtempSync(join(tmpdir(), 'orchestra-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1440, height: 900 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await signIn(page, origin, admin);
    await page.addInitScript(FRAME_PROBE);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let httpBytes = 0;
    let wsBytes = 0;
    let requests = 0;
    let runQueries = 0;
    cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
      httpBytes += e.encodedDataLength;
      requests += 1;
    });
    cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
      wsBytes += Buffer.byteLength(e.response.payloadData);
    });
    page.on('request', (request) => {
      if (/query Run\b|"operationName":"Run"/.test(request.postData() ?? '')) runQueries += 1;
    });
    const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: admin.email, password: admin.password } });
    const token = login.data!.login.accessToken;
    const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId, ...(runInput === undefined ? {} : { input: runInput }) } }, { token });
    if (!started.data) throw new Error(`startRun failed: ${JSON.stringify(started.errors)}`);
    const runId = started.data.startRun.run.id;
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    if (profilePath) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    // BENCH_WEB_TRACE=1: where the main thread's time went (style, layout, paint, script), printed.
    const traced: TraceEvent[] = [];
    const tracing = process.env['BENCH_WEB_TRACE'] === '1';
    if (tracing) {
      cdp.on('Tracing.dataCollected', (e) => void traced.push(...(e.value as unknown as typeof traced)));
      await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
    }
    await cdp.send('Performance.enable');
    const metricsBefore = await mainThreadMetrics(cdp);
    wire.reset();
    const t0 = Date.now();
    await page.goto(`${origin}/runs/${runId}`);
    // Until the page shows the run's final status, or (a page that cannot keep up: the baseline at 4×
    // throttling never got there) PAGE_GRACE_MS after the API says the run ended.
    const shown = page.locator('h1 [data-status="SUCCEEDED"], h1 [data-status="FAILED"]').first().waitFor({ timeout: 900_000 }).then(() => true, () => false);
    const ended = waitForRunEnd(platform, token, runId).then(() => new Promise<false>((r) => void setTimeout(() => r(false), PAGE_GRACE_MS).unref()));
    const pageShowedEnd = await Promise.race([shown, ended]);
    const seconds = (Date.now() - t0) / 1000;
    const wireBytes = wire.bytes();
    const metricsAfter = await mainThreadMetrics(cdp);
    const mainThread = { taskMs: metricsAfter.taskMs - metricsBefore.taskMs, scriptMs: metricsAfter.scriptMs - metricsBefore.scriptMs, styleMs: metricsAfter.styleMs - metricsBefore.styleMs, layoutMs: metricsAfter.layoutMs - metricsBefore.layoutMs };
    if (tracing) {
      const complete = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
      await cdp.send('Tracing.end');
      await complete;
      // Kept for a closer look (e.g. script positions mapped through web/dist's hidden source maps).
      const file = join(tmpdir(), `orchestra-bench-web-trace-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify(traced));
      process.stdout.write(`bench web-live: main thread by trace event (ms, nested counted in parents), trace in ${file}:\n${summarizeTrace(traced)}\n`);
    }
    if (profilePath) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
      writeFileSync(profilePath, JSON.stringify(profile));
      process.stdout.write(`bench web-live: CPU profile in ${profilePath}\n`);
    }
    const probe = await page.evaluate(() => ({ frames: (globalThis as any).__frames as number[], longTasks: (globalThis as any).__longTasks as number }));
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    // The first frames are the page loading; the live phase is what follows.
    const frames = probe.frames.slice(5).sort((a, b) => a - b);
    return {
      seconds,
      frames: frames.length,
      p50FrameMs: percentile(frames, 50),
      p95FrameMs: percentile(frames, 95),
      maxFrameMs: frames[frames.length - 1] ?? NaN,
      longTaskMs: probe.longTasks,
      httpBytes,
      wsBytes,
      wireBytes,
      runQueries,
      requests,
      mainThread,
      pageShowedEnd,
    };
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The scenario's defaults (each still overridden by its BENCH_WEB_* variable): web-live-10k is a forEach of 10,000 items. */
export interface WebLiveDefaults {
  items?: number;
  slots?: number;
}

export async function benchWebLive(defaults: WebLiveDefaults = {}): Promise<string> {
  const steps = envInt('BENCH_WEB_STEPS', 200);
  const sleepMs = envInt('BENCH_WEB_SLEEP_MS', 1500);
  const slots = envInt('BENCH_WEB_SLOTS', defaults.slots ?? 32);
  const throttle = envInt('BENCH_WEB_THROTTLE', 4);
  const items = envInt('BENCH_WEB_ITEMS', defaults.items ?? 2_000);
  // Several refs (comma-separated) are measured in order; ratios are given against the first (the
  // issue's baseline) and against the last of them (e.g. main before a change).
  const baselineRefs = (process.env['BENCH_WEB_BASELINE_REF'] ?? '29c14ec').split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  // BENCH_WEB_ONLY=baseline measures the baseline alone (e.g. before the current sources build).
  const only = process.env['BENCH_WEB_ONLY'];
  const builds: Array<[string, string]> = [
    ...(only === 'current' ? [] : baselineRefs.map((ref): [string, string] => [`baseline (web/ at ${ref})`, buildWebAt(ref)])),
    ...(only === 'baseline' ? [] : ([['current web/', buildCurrentWeb()]] as Array<[string, string]>)),
  ];
  const served = mkdtempSync(join(tmpdir(), 'orchestra-bench-web-'));
  serve(served, builds[0]![1]);
  const platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR: served },
      worker: { WORKER_SLOTS: String(slots) },
    },
  });
  let closeWire: (() => Promise<void>) | undefined;
  try {
    const admin = platform.firstAdmin;
    if (!admin) throw new Error('the platform created no first admin');
    const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: admin.email, password: admin.password } });
    if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.errors)}`);
    const token = login.data.login.accessToken;
    const created = await platform.graphql<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: `bench-web-live-${Date.now()}`, steps: items > 0 ? forEachSteps(sleepMs, slots) : layeredSteps(steps, sleepMs) } }, { token });
    const runInput = items > 0 ? { items: Array.from({ length: items }, (_, n) => ({ n })) } : undefined;
    if (!created.data) throw new Error(`createWorkflow failed: ${JSON.stringify(created.errors)}`);
    const results: Array<[string, PageMeasurement]> = [];
    // The machine is shared: its load, next to the numbers, says how much they can be trusted.
    const loads: string[] = [];
    const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
    const wire = await startByteCounter(new URL(platform.gatewayUrl));
    closeWire = wire.close;
    for (const [name, dist] of builds) {
      serve(served, dist);
      process.stdout.write(`bench web-live: ${name}...\n`);
      const profile = process.env['BENCH_WEB_PROFILE'] ? `${process.env['BENCH_WEB_PROFILE']}.${results.length}.cpuprofile` : undefined;
      const loadBefore = load();
      const m = await measureOnce(platform, created.data.createWorkflow.id, runInput, throttle, wire, profile);
      loads.push(`${name}: ${loadBefore} → ${load()}`);
      process.stdout.write(`bench web-live: ${name}: ${JSON.stringify(m)}\n`);
      results.push([name, m]);
    }
    const [, before] = results[0]!;
    const [, after] = results[results.length - 1]!;
    const kib = (b: number) => fmt(b / 1024, 0);
    // With more than one baseline: the current sources against the last of them too.
    const [againstName, against] = results.length > 2 ? results[results.length - 2]! : [undefined, undefined];
    return [
      `### Run page, live (${items > 0 ? `a forEach of ${items} sleep items` : `${steps} sleep tasks in a layered DAG`} of ${sleepMs} ms, 1 worker × ${slots} slots, Chromium 1440×900 at ${throttle}× CPU throttling)`,
      '',
      '| web app | page s | showed the end | frames | p50 frame ms | p95 frame ms | max frame ms | long tasks ms | main thread busy ms (script / style / layout) | HTTP KiB (CDP) | WebSocket KiB (decompressed) | on the wire KiB | `query Run` fetches |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...results.map(
        ([name, m]) =>
          `| ${name} | ${fmt(m.seconds, 1)} | ${m.pageShowedEnd ? 'yes' : `no (${PAGE_GRACE_MS / 1000} s after the run ended)`} | ${m.frames} | ${fmt(m.p50FrameMs, 1)} | ${fmt(m.p95FrameMs, 1)} | ${fmt(m.maxFrameMs, 0)} | ${fmt(m.longTaskMs, 0)} | ${fmt(m.mainThread.taskMs, 0)} (${fmt(m.mainThread.scriptMs, 0)} / ${fmt(m.mainThread.styleMs, 0)} / ${fmt(m.mainThread.layoutMs, 0)}) | ${kib(m.httpBytes)} | ${kib(m.wsBytes)} | ${kib(m.wireBytes)} | ${m.runQueries} |`,
      ),
      '',
      `- Bytes on the wire: **${fmt(after.wireBytes / before.wireBytes, 3)}×** the baseline's; p95 frame time **${fmt(after.p95FrameMs / before.p95FrameMs, 2)}×**; long tasks **${fmt(after.longTaskMs / before.longTaskMs, 3)}×** (target: under 10% of the bytes, p95 under 50 ms).`,
      ...(against
        ? [`- Against ${againstName}: long tasks **${fmt(after.longTaskMs / against.longTaskMs, 3)}×**, main thread busy ${fmt(after.mainThread.taskMs / against.mainThread.taskMs, 2)}×, p95 frame ${fmt(after.p95FrameMs / against.p95FrameMs, 2)}×, max frame ${fmt(after.maxFrameMs / against.maxFrameMs, 2)}×, bytes on the wire ${fmt(after.wireBytes / against.wireBytes, 2)}×.`]
        : []),
      `- Load average (1/5/15 min) before → after each page: ${loads.join('; ')} (2 cores, shared with other sessions' builds and tests).`,
      '- Frames are measured in the page (time between requestAnimationFrame callbacks, first 5 dropped) from opening the run page until it shows the run\'s final status (a page that has not 60 s after the run ended is measured to there: "showed the end: no"); bytes on the wire are everything the gateway sent the browser after sign-in (HTTP and WebSocket, compressed as sent), counted by a TCP proxy in front of the gateway; CDP\'s HTTP body sizes and decompressed WebSocket frames are shown beside them.',
    ].join('\n');
  } finally {
    await closeWire?.();
    await platform.stop();
    rmSync(served, { recursive: true, force: true });
  }
}
