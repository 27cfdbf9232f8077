import { execSync } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type pg from 'pg';

/**
 * What a benchmark phase cost: CPU time per process (each service, its PostgreSQL backends, this
 * client, the shared Redis) from /proc, and SQL statements from each service's /metrics
 * (orchestra_db_statements_total). Snapshot before and after a phase; `costOf` gives the deltas.
 */

const CLOCK_TICKS = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process used so far, in ms (user + system), or undefined when it is gone. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Local ports of the TCP connections `pids` hold to port `remotePort` (their PostgreSQL connections). */
async function connectionPorts(pids: readonly number[], remotePort: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]!);
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = Number.parseInt(cols[1]!.split(':').pop()!, 16);
      const remote = Number.parseInt(cols[2]!.split(':').pop()!, 16);
      if (remote === remotePort && inodes.has(cols[9]!)) ports.push(local);
    }
  }
  return ports;
}

/** The PostgreSQL backend pids serving the connections of `pids`. */
export async function postgresBackends(pool: pg.Pool, pids: readonly number[]): Promise<number[]> {
  const ports = await connectionPorts(pids, 5432);
  if (ports.length === 0) return [];
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
  return rows.map((r) => r.pid);
}

/** Pids whose command name is `comm` (e.g. the machine's redis-server). */
export async function pidsNamed(comm: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const name = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (name.trim() === comm) found.push(Number(entry));
  }
  return found;
}

/** Sum of a counter over the /metrics of several processes. */
export async function counterTotal(metricsUrls: readonly string[], name: string): Promise<number> {
  let total = 0;
  for (const url of metricsUrls) {
    const text = await fetch(url)
      .then((r) => r.text())
      .catch(() => '');
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return total;
}

export interface ProcessGroup {
  /** How the report names it. */
  label: string;
  pids: number[];
}

export interface ProbeTargets {
  /** The platform's processes, by label (gateway, identity, orchestration, worker ...). */
  processes: ProcessGroup[];
  /** For the PostgreSQL backends of those processes. */
  pool: pg.Pool;
  /** /metrics URLs of the processes that count their statements. */
  metricsUrls: string[];
}

export interface Snapshot {
  at: number;
  cpu: Map<string, Map<number, number>>;
  statements: number;
}

const BACKENDS = 'PostgreSQL backends';
const CLIENT = 'bench client';
const REDIS = 'Redis (shared machine)';

export async function snapshot(targets: ProbeTargets): Promise<Snapshot> {
  const cpu = new Map<string, Map<number, number>>();
  const add = async (label: string, pids: readonly number[]) => {
    const m = cpu.get(label) ?? new Map<number, number>();
    for (const pid of pids) {
      const ms = await cpuMs(pid);
      if (ms !== undefined) m.set(pid, ms);
    }
    cpu.set(label, m);
  };
  for (const p of targets.processes) await add(p.label, p.pids);
  await add(BACKENDS, await postgresBackends(targets.pool, targets.processes.flatMap((p) => p.pids)));
  await add(REDIS, await pidsNamed('redis-server'));
  const usage = process.cpuUsage();
  cpu.set(CLIENT, new Map([[process.pid, (usage.user + usage.system) / 1000]]));
  return { at: Date.now(), cpu, statements: await counterTotal(targets.metricsUrls, 'orchestra_db_statements_total') };
}

export interface Cost {
  seconds: number;
  /** CPU ms used in the phase, per label. */
  cpuMs: Map<string, number>;
  statements: number;
}

/** What happened between two snapshots (a backend that appeared in between counts from zero). */
export function costOf(before: Snapshot, after: Snapshot): Cost {
  const cpu = new Map<string, number>();
  for (const [label, pids] of after.cpu) {
    let sum = 0;
    for (const [pid, ms] of pids) sum += ms - (before.cpu.get(label)?.get(pid) ?? (label === BACKENDS ? 0 : ms));
    cpu.set(label, sum);
  }
  return { seconds: (after.at - before.at) / 1000, cpuMs: cpu, statements: after.statements - before.statements };
}

/** A markdown table of CPU ms per task per process and SQL statements per task, for several phases. */
export function costTable(phases: ReadonlyArray<{ name: string; tasks: number; cost: Cost }>): string[] {
  const labels = [...new Set(phases.flatMap((p) => [...p.cost.cpuMs.keys()]))];
  const ordered = [...labels.filter((l) => l !== BACKENDS && l !== CLIENT && l !== REDIS), BACKENDS, REDIS, CLIENT].filter((l) => labels.includes(l));
  const per = (p: { tasks: number; cost: Cost }, label: string) => (p.cost.cpuMs.get(label) ?? 0) / p.tasks;
  const platformTotal = (p: { tasks: number; cost: Cost }) => ordered.filter((l) => l !== CLIENT).reduce((sum, l) => sum + per(p, l), 0);
  return [
    `| phase | ${ordered.map((l) => `${l} CPU ms/task`).join(' | ')} | platform CPU ms/task (without the client) | SQL statements/task |`,
    `|---|${ordered.map(() => '---').join('|')}|---|---|`,
    ...phases.map((p) => `| ${p.name} | ${ordered.map((l) => per(p, l).toFixed(2)).join(' | ')} | ${platformTotal(p).toFixed(2)} | ${(p.cost.statements / p.tasks).toFixed(2)} |`),
  ];
}
