import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

/**
 * A minimal Chrome DevTools Protocol client for a child process started with `--inspect=127.0.0.1:0`
 * (ORCHESTRA_CHILD_NODE_ARGS): full garbage collections, process.memoryUsage() and heap snapshots of
 * the gateway, for the subscription memory bench.
 */
export interface Inspector {
  /** A full (compacting) garbage collection, twice, so that weakly held objects go too. */
  collectGarbage(): Promise<void>;
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  /** The heap snapshot's JSON (after a GC, which taking one forces). */
  heapSnapshot(): Promise<string>;
  /** Starts V8's sampling CPU profiler (every `intervalUs` µs). */
  startProfiling(intervalUs?: number): Promise<void>;
  /** Stops it: the profile as DevTools saves it (a .cpuprofile's JSON). */
  stopProfiling(): Promise<string>;
  close(): void;
}

/** The inspector URL a child printed to its log ("Debugger listening on ws://..."). */
export function inspectorUrlIn(logFile: string): string {
  const match = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'));
  if (!match) throw new Error(`bench: no "Debugger listening on" line in ${logFile}: start it with ORCHESTRA_CHILD_NODE_ARGS=--inspect=127.0.0.1:0`);
  return match[1]!;
}

export async function connectInspector(url: string): Promise<Inspector> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 2 ** 30 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve(result: any): void; reject(error: Error): void }>();
  let chunks: string[] = [];
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { chunk?: string } };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') {
      chunks.push(message.params!.chunk!);
      return;
    }
    if (message.id === undefined) return;
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) waiter?.reject(new Error(`inspector: ${message.error.message}`));
    else waiter?.resolve(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId;
      nextId += 1;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
    },
    async memoryUsage() {
      const { result } = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
      return JSON.parse(result.value) as NodeJS.MemoryUsage;
    },
    async heapSnapshot() {
      chunks = [];
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const text = chunks.join('');
      chunks = [];
      return text;
    },
    async startProfiling(intervalUs = 1_000) {
      await call('Profiler.enable');
      await call('Profiler.setSamplingInterval', { interval: intervalUs });
      await call('Profiler.start');
    },
    async stopProfiling() {
      const { profile } = (await call('Profiler.stop')) as { profile: unknown };
      await call('Profiler.disable');
      return JSON.stringify(profile);
    },
    close: () => socket.close(),
  };
}

/** Self time by function (name and file:line) of a .cpuprofile, largest first, with each one's share of the samples. */
export function profileSelfTimes(profileJson: string): Array<{ fn: string; ms: number; share: number }> {
  const profile = JSON.parse(profileJson) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!frame) return;
    const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^\/work\/(wt\/[^/]+|main)\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  });
  return [...totals].map(([fn, us]) => ({ fn, ms: us / 1000, share: all > 0 ? us / all : 0 })).sort((a, b) => b.ms - a.ms);
}

/** Self sizes and counts by what a heap node is: an object's constructor, or the node's type (string, closure name, native...). */
export type HeapCensus = Map<string, { count: number; bytes: number }>;

export function heapCensus(snapshotJson: string): HeapCensus {
  const snapshot = JSON.parse(snapshotJson) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const census: HeapCensus = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + typeAt]!]!;
    const name = strings[nodes[i + nameAt]!]!;
    const key =
      type === 'object' || type === 'native'
        ? `${type === 'native' ? 'native ' : ''}${name.length > 60 ? `${name.slice(0, 57)}...` : name}`
        : type === 'closure'
          ? `closure ${name || '(anonymous)'}`
          : type === 'string' || type === 'concatenated string' || type === 'sliced string'
            ? `(${type})`
            : type === 'array' || type === 'hidden' || type === 'code'
              ? `(${type}) ${name.length > 40 ? `${name.slice(0, 37)}...` : name}`
              : `(${type})`;
    const entry = census.get(key);
    if (entry) {
      entry.count += 1;
      entry.bytes += nodes[i + sizeAt]!;
    } else census.set(key, { count: 1, bytes: nodes[i + sizeAt]! });
  }
  return census;
}

/** What grew from `before` to `after`, largest first. */
export function censusGrowth(before: HeapCensus, after: HeapCensus): Array<{ key: string; count: number; bytes: number }> {
  const rows: Array<{ key: string; count: number; bytes: number }> = [];
  for (const [key, entry] of after) {
    const was = before.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, count: entry.count - was.count, bytes: entry.bytes - was.bytes });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}
