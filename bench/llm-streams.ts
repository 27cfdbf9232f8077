import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { delaysOf, subscribe, TOKENS_PER_SECOND, WIDTH, type Subscriber } from './llm-stream';
import { fmt, percentile } from './load';
import { envInt, startLlmStreamPlatform } from './platform-setup';
import { costOf, snapshot, type ProbeTargets } from './probe';

/**
 * Issue 14, "delta rows on a hot path": many models streaming at once. K runs (K = 1, 10, 40:
 * BENCH_LLM_STREAMS) each stream their own answer of BENCH_LLM_STREAM_TOKENS tokens at 200 tokens/s
 * from a stand-in provider (an HTTP server on 127.0.0.1 speaking the OpenAI wire protocol: no model
 * runs here) to their own graphql-ws subscriber, through worker → Execute stream → dispatcher
 * (coalesced TASK_OUTPUT_DELTA events, written to PostgreSQL, published to Redis) → gateway. Per
 * phase: the provider → subscriber delay of every token (p50/p99), and what the phase cost
 * orchestration and its PostgreSQL backends (CPU from /proc) and in SQL statements (orchestration's
 * orchestra_db_statements_total, BEGIN and COMMIT included) per delta written. The baseline is K = 1
 * in the same run: what one stream costs per delta.
 *
 *   npm run bench -- llm-streams
 *   BENCH_LLM_STREAMS=1,10,40 BENCH_LLM_STREAM_TOKENS=600 npm run bench -- llm-streams
 */

const STREAMS = (process.env['BENCH_LLM_STREAMS'] ?? '1,10,40').split(',').map(Number).filter((n) => n > 0);
const STREAM_TOKENS = Math.min(1_000, envInt('BENCH_LLM_STREAM_TOKENS', 600));

/** The text a subscriber's deltas make (each applied at its offset). */
const receivedText = (sub: Subscriber): string => sub.received.reduce((text, d) => text.slice(0, d.offset) + d.text, '');

/** Stream `i` of phase `phase`: tokens of a two-letter prefix and three digits ("Ha042 "), unique across the run. */
const answerOf = (phase: number, i: number): string => {
  const prefix = `${String.fromCharCode(65 + ((phase * 7 + Math.floor(i / 26)) % 26))}${String.fromCharCode(97 + (i % 26))}`;
  return Array.from({ length: STREAM_TOKENS }, (_, j) => `${prefix}${String(j).padStart(WIDTH - 3, '0')} `).join('');
};

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

export async function benchLlmStreams(): Promise<string> {
  const loadBefore = load();
  const { platform, token, emitted, standIn, stop } = await startLlmStreamPlatform({ workerSlots: Math.max(...STREAMS) + 8 });
  const rows: string[] = [
    '| streams at once | tokens delivered (least of the streams) | deltas written | seconds | p50 ms | p99 ms | orchestration CPU % of a core | PostgreSQL backends CPU % | SQL statements | statements / delta |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const perDelta: Array<{ k: number; statements: number }> = [];
  try {
    const as = { token };
    const probe: ProbeTargets = {
      processes: [
        { label: 'orchestration', pids: [platform.services.orchestration!.process.pid!] },
        { label: 'gateway', pids: [platform.gateway.process.pid!] },
        { label: 'worker', pids: platform.workers.map((w) => w.process.pid!) },
      ],
      pool: platform.pool,
      metricsUrls: [`${platform.services.orchestration!.httpUrl}/metrics`],
    };

    for (const [phase, k] of STREAMS.entries()) {
      const answers = Array.from({ length: k }, (_, i) => answerOf(phase + 1, i));
      // The first token waits 3 s, so every subscriber is connected before the answers start.
      standIn.script(...answers.map((text) => ({ kind: 'answer' as const, text, tokenDelayMs: 1000 / TOKENS_PER_SECOND, firstTokenDelayMs: 3_000 })));
      const before = await snapshot(probe);
      const runIds = await Promise.all(
        answers.map(async () => {
          const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation { startRun(input: { workflowName: "stream" }) { run { id } } }', {}, as);
          if (!started.data) throw new Error(`startRun failed: ${JSON.stringify(started.errors)}`);
          return started.data.startRun.run.id;
        }),
      );
      const subs = runIds.map((runId) => subscribe(platform, token, runId));
      await Promise.all(subs.map((s) => s.done));
      const after = await snapshot(probe);
      await Promise.all(subs.map(async (s) => s.client.dispose()));
      const all = subs.map((s) => delaysOf(s, emitted, receivedText(s)));
      const delays = all.flatMap((d) => d.delays).sort((a, b) => a - b);
      const deltas = subs.reduce((sum, s) => sum + s.received.length, 0);
      const cost = costOf(before, after);
      const pct = (label: string) => fmt(((cost.cpuMs.get(label) ?? 0) / 1000 / cost.seconds) * 100, 0);
      perDelta.push({ k, statements: cost.statements / Math.max(1, deltas) });
      rows.push(
        `| ${k} | ${Math.min(...all.map((d) => d.tokensSeen))} / ${STREAM_TOKENS} | ${deltas} | ${fmt(cost.seconds)} | ${fmt(percentile(delays, 50))} | ${fmt(percentile(delays, 99))} | ${pct('orchestration')} | ${pct('PostgreSQL backends')} | ${cost.statements} | ${fmt(cost.statements / Math.max(1, deltas), 2)} |`,
      );
    }
  } finally {
    await stop();
  }
  const one = perDelta.find((p) => p.k === 1);
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return [
    `### Many LLM streams at once: K runs, each streaming ${STREAM_TOKENS} tokens at ${TOKENS_PER_SECOND} tokens/s to its own subscriber`,
    '',
    ...rows,
    '',
    '- Each phase runs from the first startRun to the last subscriber done (3 s of it is the stand-in\'s wait before the first token, so every subscriber is connected). CPU from /proc over that time; SQL statements are orchestration\'s orchestra_db_statements_total (BEGIN and COMMIT included) over the same time, with whatever else it did then (claims, results).',
    one
      ? `- Statements per delta against one stream (the baseline, same run): ${perDelta.map((p) => `${p.k} stream${p.k === 1 ? '' : 's'} ${fmt(p.statements / Math.max(0.01, one.statements), 2)}×`).join(', ')}.`
      : '- (no 1-stream phase: no baseline ratio)',
    '- The provider is a stand-in (lib/src/openai-stand-in.ts) on 127.0.0.1: no model runs here. Subscribers are graphql-ws clients in the bench process.',
    `- Load average (1 / 5 / 15 min) when the platform started: ${loadBefore}; at the end: ${load()}. Tree: ${commit}.`,
  ].join('\n');
}
