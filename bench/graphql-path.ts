import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { envNumber, fmt, median } from './load';

/**
 * The orchestration subgraph's GraphQL path in one process (issue 11): CPU per startRun-shaped request
 * through createSubgraphHttp (the real schema, resolvers, @access/@audit wrappers, a gateway-signed
 * identity header verified, Fastify hooks; a stand-in RunStarts, no database), against a baseline of
 * Fastify + mercurius alone on the same schema and resolvers. Each is its own process
 * (graphql-path-cpu.ts; separate processes so neither shapes V8's feedback for the other), alternating
 * ABBA over `pairs` pairs, each process the median of its rounds; the reported value is the median of
 * the processes, and the ratio Orchestra / bare. Both the in-process injection (app.inject: no socket)
 * and loopback HTTP (undici, whose client CPU is included).
 *   BENCH_GRAPHQL_PATH_PAIRS=3 BENCH_GRAPHQL_PATH_REQUESTS=3000 npm run bench -- graphql-path
 */
const run = promisify(execFile);

async function oneProcess(mode: string, variant: string, requests: number, rounds: number): Promise<number> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, 'graphql-path-cpu.ts'), '--mode', mode, '--requests', String(requests), '--rounds', String(rounds), '--variants', variant], {
    cwd: __dirname,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').pop()!;
  return (JSON.parse(line) as { median: number }).median;
}

export async function benchGraphqlPath({ pairs = envNumber('BENCH_GRAPHQL_PATH_PAIRS', 3), requests = envNumber('BENCH_GRAPHQL_PATH_REQUESTS', 3000), rounds = 5 } = {}): Promise<string> {
  const load: number[] = [loadavg()[0]!];
  const rows: string[] = [];
  for (const mode of ['inject', 'http']) {
    const ours: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const);
      for (const which of order) {
        if (which === 'bare') bare.push(await oneProcess(mode, '{"bare":true}', requests, rounds));
        else ours.push(await oneProcess(mode, '{}', requests, rounds));
      }
    }
    const how = mode === 'inject' ? 'app.inject (no socket)' : 'loopback HTTP, undici client (its CPU included)';
    rows.push(`| ${how} | ${bare.map((v) => fmt(v, 0)).join(', ')} | ${ours.map((v) => fmt(v, 0)).join(', ')} | **${fmt(median(ours) - median(bare), 0)}** | ${fmt(median(ours) / median(bare), 2)}× |`);
    load.push(loadavg()[0]!);
  }
  return [
    '### The orchestration subgraph\'s GraphQL path in one process (startRun, no database)',
    '',
    `- Command: \`npm run bench -- graphql-path\`: ${pairs} pairs of processes per row, order alternating; each process ${rounds} rounds of ${requests} requests (16 at a time) after a warm-up, its median; µs of process CPU per request.`,
    '- Orchestra: `createSubgraphHttp` with orchestration\'s schema, resolvers, @access and @audit wrappers, a gateway-signed identity header verified per request, spans and metrics; a stand-in RunStarts answers at once. Bare: Fastify + mercurius alone on the same schema and resolvers (the caller put in the context as is).',
    '',
    '| request | bare mercurius µs/request (each process) | Orchestra µs/request (each process) | Orchestra − bare, µs (medians) | Orchestra / bare |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `- Load average (1 min) of this 2-core machine at the start and after each row: ${load.map((l) => fmt(l, 1)).join(', ')}.`,
    '',
  ].join('\n');
}
