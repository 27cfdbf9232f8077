/** A closed-loop load generator: `concurrency` callers, each sending its next request when the last one answered. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

export async function closedLoop(call: () => Promise<boolean>, { concurrency, durationMs, warmupMs = 1_000 }: { concurrency: number; durationMs: number; warmupMs?: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const warmupEnd = Date.now() + warmupMs;
  const end = warmupEnd + durationMs;
  let measuredStart = 0;
  const caller = async () => {
    while (Date.now() < end) {
      const started = process.hrtime.bigint();
      let ok = false;
      try {
        ok = await call();
      } catch {
        ok = false;
      }
      const now = Date.now();
      if (now < warmupEnd) continue;
      measuredStart ||= now;
      if (ok) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (Date.now() - (measuredStart || warmupEnd)) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
  };
}

/** Resident memory of a process in MiB, from /proc. */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** CPU seconds (user + system) a process has used, from /proc. */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A bench setting from the environment: `fallback` when unset or empty. */
export const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

/** The median of `xs` (NaN when empty). */
export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
