// Runs benchmarks and writes their sections of docs/benchmarks.md (with the machine, command and commit).
//   npm run bench                        (all)
//   npm run bench -- <name> [<name> ...]  (see BENCHES; e.g. gateway, one-step, fan-out)
// A run replaces only the sections of the benchmarks it ran: the others keep their last numbers.
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDispatch } from './dispatch';
import { benchFairness } from './fairness';
import { benchForEach } from './for-each';
import { benchGatewayOverhead } from './gateway-overhead';
import { benchGraphqlPath } from './graphql-path';
import { benchIdle } from './idle';
import { benchLean } from './lean';
import { benchLlmStream } from './llm-stream';
import { benchLlmStreams } from './llm-streams';
import { benchRunMetrics } from './run-metrics';
import { benchSchedules } from './schedules';
import { benchSubscriptionMemory } from './subscription-memory';
import { benchSubscriptions } from './subscriptions';
import { benchTaskPath, TASK_PATH_SCENARIOS, taskPathScenariosFromEnv } from './task-path';
import { benchWebLive } from './web-live';

const BENCHES: Record<string, () => Promise<string>> = {
  gateway: () => benchGatewayOverhead(),
  // The orchestration subgraph's GraphQL path in one process (no platform): CPU per startRun request against bare mercurius.
  'graphql-path': () => benchGraphqlPath(),
  dispatch: () => benchDispatch(),
  subscriptions: () => benchSubscriptions(),
  'subscription-memory': () => benchSubscriptionMemory(),
  lean: () => benchLean(),
  idle: () => benchIdle(),
  fairness: () => benchFairness(),
  schedules: () => benchSchedules(),
  'for-each': () => benchForEach(),
  'web-live': () => benchWebLive(),
  // Issue 12's forEach of 10,000 items, in a section of its own (the 2,000-task one keeps its numbers).
  'web-live-10k': () => benchWebLive({ items: 10_000, slots: 64 }),
  'llm-stream': () => benchLlmStream(),
  'llm-streams': () => benchLlmStreams(),
  'run-metrics': () => benchRunMetrics(),
  // The task path's scenarios share one platform when asked for together (task-path = all of them).
  // BENCH_TASK_PATH_SCENARIOS (comma-separated) picks some of them, e.g. fan-out,queue-latency.
  'task-path': () => benchTaskPath(taskPathScenariosFromEnv(), { command: 'task-path' }),
  ...Object.fromEntries(TASK_PATH_SCENARIOS.map((s) => [s, () => benchTaskPath([s])])),
};

const DOC = join(__dirname, '..', 'docs', 'benchmarks.md');
const HEADER = [
  '# Benchmarks',
  '',
  'Each benchmark measures Orchestra against a baseline taken in the same run on the same machine, and',
  'reports the ratio; absolute numbers move with the machine, ratios much less. Every service runs as',
  'its own process (the same `main.ts` as in production, started by the test harness), so numbers',
  'include real HTTP, gRPC, PostgreSQL and Redis round trips. They are not part of `npm test`.',
  '`npm run bench -- <name>` reruns one benchmark and replaces only its section below.',
  '',
].join('\n');

/** The sections of the current doc, by benchmark name (between `<!-- bench:name -->` markers), in order. */
function readSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(DOC)) return sections;
  const text = readFileSync(DOC, 'utf8');
  for (const m of text.matchAll(/<!-- bench:([\w-]+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g)) sections.set(m[1]!, m[2]!);
  return sections;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  const names = wanted.length > 0 ? wanted : ['gateway', 'dispatch', 'subscriptions', 'task-path'];
  const sha = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, PostgreSQL and Redis on 127.0.0.1`;
  const sections = readSections();
  for (const name of names) {
    process.stdout.write(`bench: ${name}...\n`);
    const body = await BENCHES[name]!();
    process.stdout.write(`${body}\n`);
    const stamp = `_\`npm run bench -- ${name}\` on commit ${sha}, ${new Date().toISOString().slice(0, 10)}; ${machine}._\n`;
    sections.set(name, `${body.trimEnd()}\n\n${stamp}`);
    const doc = [
      HEADER,
      ...[...sections].map(([n, text]) => `<!-- bench:${n} -->\n${text.trimEnd()}\n<!-- /bench:${n} -->\n`),
      // Earlier runs, kept by hand, so a change can be compared with what came before.
      ...(existsSync(join(__dirname, 'history.md')) ? [readFileSync(join(__dirname, 'history.md'), 'utf8').trimEnd()] : []),
    ].join('\n');
    writeFileSync(DOC, `${doc}\n`);
    process.stdout.write(`bench: wrote its section of docs/benchmarks.md\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
