import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { OpenAiStandIn } from '@orchestra/lib';
import type { Platform } from '@orchestra/tests';
import { fmt, percentile } from './load';
import { envInt, startLlmStreamPlatform } from './platform-setup';

/**
 * Issue 14, "Token streaming overhead": a stand-in model provider (an HTTP server on 127.0.0.1
 * speaking the OpenAI wire protocol: no model runs here) streams 2,000 tokens at 200 tokens/s; the
 * answer reaches 1, 10 and 100 graphql-ws subscribers of the run through worker → Execute stream →
 * dispatcher (coalesced TASK_OUTPUT_DELTA events) → PostgreSQL + Redis → gateway. For every token
 * and subscriber: the delay from the provider writing the token to the subscriber receiving the
 * delta that holds it. The baseline, in the same run: the same stream read directly from the
 * provider over HTTP (SSE), token by token.
 *
 *   npm run bench -- llm-stream
 *   BENCH_LLM_TOKENS=400 npm run bench -- llm-stream   (a shorter run)
 */

const TOKENS = envInt('BENCH_LLM_TOKENS', 2_000);
export const TOKENS_PER_SECOND = 200;
const SUBSCRIBERS = [1, 10, 100];

/** Tokens of a fixed width (a one-letter prefix, four digits, a space: "a0001 "), so a delta's offset says which tokens it holds. */
export const WIDTH = 6;
const answerOf = (prefix: string): string => Array.from({ length: TOKENS }, (_, i) => `${prefix}${String(i).padStart(WIDTH - 2, '0')} `).join('');

export interface Delays {
  delays: number[];
  tokensSeen: number;
}

/** Reads a streamed chat completion straight from the provider; the delay of each token from its emission. */
async function readDirectly(standIn: OpenAiStandIn, emitted: Map<string, number>, prefix: string): Promise<Delays> {
  standIn.script({ kind: 'answer', text: answerOf(prefix), tokenDelayMs: 1000 / TOKENS_PER_SECOND });
  const res = await fetch(`${standIn.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'count' }] }),
  });
  const delays: number[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = Date.now();
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      if (event === '[DONE]') continue;
      const piece = (JSON.parse(event) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content;
      if (!piece) continue;
      const sent = emitted.get(piece);
      if (sent !== undefined) delays.push(at - sent);
    }
  }
  return { delays, tokensSeen: delays.length };
}

export interface Subscriber {
  client: Client;
  done: Promise<void>;
  received: Array<{ at: number; offset: number; text: string }>;
}

export function subscribe(platform: Platform, token: string, runId: string): Subscriber {
  const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  const received: Subscriber['received'] = [];
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<{ runEvents: { kind: string; outputDelta: { offset: number; text: string; restart: boolean } | null } }>(
      { query: `subscription($runId: ID!) { runEvents(runId: $runId, afterSeq: 0) { kind outputDelta { offset text restart } } }`, variables: { runId } },
      {
        next: (result) => {
          const delta = result.data?.runEvents.outputDelta;
          if (delta) received.push({ at: Date.now(), offset: delta.offset, text: delta.text });
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(),
      },
    );
  });
  return { client, done, received };
}

/** Each token's delay: when the subscriber got the delta holding its last character, minus when the provider wrote it. */
export function delaysOf(sub: Subscriber, emitted: Map<string, number>, answer: string): Delays {
  const delays: number[] = [];
  let seen = 0;
  for (const d of sub.received) {
    for (let start = Math.ceil(d.offset / WIDTH) * WIDTH; start + WIDTH <= d.offset + d.text.length; start += WIDTH) {
      const token = answer.slice(start, start + WIDTH);
      const sent = emitted.get(token);
      if (sent === undefined) continue;
      delays.push(d.at - sent);
      seen += 1;
    }
  }
  return { delays, tokensSeen: seen };
}

export async function benchLlmStream(): Promise<string> {
  const { platform, standIn, emitted, token, stop } = await startLlmStreamPlatform();
  const as = { token };
  const rows: string[] = [];
  const notes: string[] = [];
  try {
    rows.push('| path | subscribers | tokens delivered | deltas / subscriber | p50 ms | p99 ms | p99 / direct p99 |', '|---|---|---|---|---|---|---|');
    let scenario = 0;
    for (const n of SUBSCRIBERS) {
      scenario += 1;
      const direct = await readDirectly(standIn, emitted, 'abc'[scenario - 1]!);
      direct.delays.sort((a, b) => a - b);
      const directP50 = percentile(direct.delays, 50);
      const directP99 = percentile(direct.delays, 99);
      rows.push(`| provider read directly (baseline) | 1 | ${direct.tokensSeen} / ${TOKENS} | – | ${fmt(directP50)} | ${fmt(directP99)} | 1 |`);

      const prefix = 'xyz'[scenario - 1]!;
      const answer = answerOf(prefix);
      // The first token waits 3 s, so every subscriber is connected before the answer starts.
      standIn.script({ kind: 'answer', text: answer, tokenDelayMs: 1000 / TOKENS_PER_SECOND, firstTokenDelayMs: 3_000 });
      const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation { startRun(input: { workflowName: "stream" }) { run { id } } }', {}, as);
      const runId = started.data!.startRun.run.id;
      const subs = Array.from({ length: n }, () => subscribe(platform, token, runId));
      await Promise.all(subs.map((s) => s.done));
      await Promise.all(subs.map(async (s) => s.client.dispose()));
      const all = subs.map((s) => delaysOf(s, emitted, answer));
      const delays = all.flatMap((d) => d.delays).sort((a, b) => a - b);
      const p99 = percentile(delays, 99);
      const minSeen = Math.min(...all.map((d) => d.tokensSeen));
      const deltas = subs.reduce((sum, s) => sum + s.received.length, 0) / n;
      rows.push(`| through orchestration and the gateway | ${n} | ${minSeen} / ${TOKENS} (least of ${n}) | ${fmt(deltas)} | ${fmt(percentile(delays, 50))} | ${fmt(p99)} | ${fmt(p99 / Math.max(1, directP99))}× |`);
      notes.push(`${n} subscriber${n === 1 ? '' : 's'}: ${fmt(deltas)} deltas each for ${TOKENS} tokens (${fmt(TOKENS / deltas)} tokens a delta).`);
    }
  } finally {
    await stop();
  }
  return [
    `### LLM token streaming: ${TOKENS} tokens at ${TOKENS_PER_SECOND} tokens/s, provider → subscriber delay per token`,
    '',
    ...rows,
    '',
    `- Delay = when the subscriber received the delta holding a token − when the stand-in provider wrote it. Deltas are coalesced by the dispatcher to at most one per 50 ms per task (TASK_OUTPUT_DELTA_INTERVAL_MS), so a token waits up to ~50 ms by design; the rest is the worker's gRPC stream, one PostgreSQL transaction per delta, Redis and the gateway's fan-out.`,
    ...notes.map((n) => `- ${n}`),
    '- The provider is a stand-in (lib/src/openai-stand-in.ts) on 127.0.0.1: no model runs here. Subscribers are graphql-ws clients in the bench process; they connect before the first token.',
  ].join('\n');
}
