import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A stand-in for a hosted LLM provider, for tests and benchmarks only: model providers are outside
 * services we do not run here, so this HTTP server on 127.0.0.1 speaks the OpenAI wire protocol
 * (`POST /v1/chat/completions` non-streaming and SSE streaming with usage, `GET /v1/models`) and
 * answers whatever a test scripts: an answer paced token by token, tool calls, a 429 with
 * Retry-After, a 500, a stream that stalls or breaks off. It records every request it got.
 *
 * The protocol points it keeps (the contract suite in workers/src/executors/llm checks the same
 * points against a real endpoint when one is configured):
 * - `Authorization: Bearer <key>` (401 with an OpenAI error body when `apiKey` is set and differs);
 * - a streamed answer is `data: <chat.completion.chunk>` events, the first delta carrying the role,
 *   the last one the finish_reason, then (with `stream_options.include_usage`) a chunk with empty
 *   `choices` and the `usage`, then `data: [DONE]`;
 * - tool calls stream as `delta.tool_calls[{ index, id, type, function: { name, arguments } }]`
 *   with the arguments in pieces, finish_reason `tool_calls`;
 * - errors are `{ error: { message, type, code } }` with the HTTP status.
 */

/** What the stand-in does with one request. */
export type StandInBehaviour =
  | {
      kind: 'answer';
      /** The answer's text, streamed a token (a word with its trailing space) at a time. */
      text?: string;
      toolCalls?: Array<{ name: string; arguments: string }>;
      finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
      /** Delay before the first chunk (and before a non-streamed answer). */
      firstTokenDelayMs?: number;
      /** Delay between chunks. */
      tokenDelayMs?: number;
      /** Tokens per chunk (default 1). */
      tokensPerChunk?: number;
      /** Leave the usage out (some servers do). */
      omitUsage?: boolean;
      /** The model the answer says answered (default the requested one). */
      model?: string;
    }
  | { kind: 'error'; status: number; message?: string; retryAfterSeconds?: number; code?: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /**
   * Spends tokens and sends no answer: a 200 with the usage and no choices (non-streamed), or a
   * stream of only the usage chunk and [DONE], with no finish reason (a provider that broke its answer).
   */
  | { kind: 'noChoices'; completionTokens: number }
  /** Streams `afterTokens` tokens of `text` and then stops sending (the connection stays open). */
  | { kind: 'stall'; text: string; afterTokens: number }
  /**
   * Streams `afterTokens` tokens of `text` and then destroys the connection; with `toolCalls`, the
   * text, then each call's name and the first half of its arguments, then the break.
   */
  | { kind: 'break'; text: string; afterTokens: number; toolCalls?: Array<{ name: string; arguments: string }> };

export interface StandInRequest {
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: StandInChatRequest;
  /** When the client went away before the answer was complete (a cancelled or timed-out stream). */
  abortedAt?: number;
}

/** The fields of a chat completion request the stand-in reads. */
export interface StandInChatRequest {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  response_format?: { type: string; json_schema?: { name?: string; schema?: unknown } };
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  tool_choice?: unknown;
  [key: string]: unknown;
}

export type StandInResponder = (request: StandInChatRequest, index: number) => StandInBehaviour;

export interface OpenAiStandInOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Answers each request (default: `You said: <the last user message>`); `script()` answers first. */
  respond?: StandInResponder;
  /** Called as each content token is written (for latency measurements). */
  onToken?: (token: string, at: number) => void;
  /** Models listed by GET /models. */
  models?: string[];
}

export interface OpenAiStandIn {
  /** `http://127.0.0.1:<port>/v1`, the base URL to configure. */
  baseUrl: string;
  /** Every chat completion request, in arrival order. */
  requests: StandInRequest[];
  /** The next requests get these behaviours, in order (then `respond` again). */
  script(...behaviours: StandInBehaviour[]): void;
  /** Replaces the responder. */
  respondWith(respond: StandInResponder): void;
  /** Forgets recorded requests and scripted behaviours. */
  reset(): void;
  /** Connections currently open (a cancelled stream closes its own). */
  openConnections(): number;
  stop(): Promise<void>;
}

/** How the stand-in counts tokens: a word with the whitespace after it (what it streams one at a time). */
export const standInTokens = (text: string): string[] => text.match(/\s*\S+\s*/g) ?? (text === '' ? [] : [text]);

const contentText = (content: unknown): string => {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return (content as unknown[]).map((part) => (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join(' ');
  }
  return '';
};

export const promptTokensOf = (request: StandInChatRequest): number => (request.messages ?? []).reduce((sum, m) => sum + standInTokens(contentText(m.content)).length + 4, 0);

const lastUserMessage = (request: StandInChatRequest): string => contentText([...(request.messages ?? [])].reverse().find((m) => m.role === 'user')?.content);

const defaultResponder: StandInResponder = (request) => ({ kind: 'answer', text: `You said: ${lastUserMessage(request)}` });

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const sendError = (res: ServerResponse, status: number, message: string, code: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error', code } }));
};

export async function startOpenAiStandIn(options: OpenAiStandInOptions = {}): Promise<OpenAiStandIn> {
  const requests: StandInRequest[] = [];
  const scripted: StandInBehaviour[] = [];
  let respond = options.respond ?? defaultResponder;
  let counter = 0;
  const sockets = new Set<Socket>();

  const handleChat = async (res: ServerResponse, record: StandInRequest) => {
    const { body } = record;
    const index = requests.length - 1;
    const behaviour = scripted.shift() ?? respond(body, index);
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) record.abortedAt = Date.now();
      gone.abort();
    });
    const id = `chatcmpl-standin-${(counter += 1)}`;
    const created = Math.floor(Date.now() / 1000);

    if (behaviour.kind === 'error') {
      sendError(res, behaviour.status, behaviour.message ?? `stand-in error ${behaviour.status}`, behaviour.code ?? `status_${behaviour.status}`, behaviour.retryAfterSeconds === undefined ? {} : { 'retry-after': String(behaviour.retryAfterSeconds) });
      return;
    }
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'noChoices') {
      const usage = { prompt_tokens: promptTokensOf(body), completion_tokens: behaviour.completionTokens, total_tokens: promptTokensOf(body) + behaviour.completionTokens };
      const model = body.model ?? 'stand-in-model';
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, object: 'chat.completion', created, model, choices: [], usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.end(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\ndata: [DONE]\n\n`);
      return;
    }

    const model = (behaviour.kind === 'answer' ? behaviour.model : undefined) ?? body.model ?? 'stand-in-model';
    const text = behaviour.kind === 'answer' ? (behaviour.text ?? (behaviour.toolCalls ? '' : `You said: ${lastUserMessage(body)}`)) : behaviour.text;
    const tokens = standInTokens(text);
    const toolCalls = behaviour.kind === 'answer' ? (behaviour.toolCalls ?? []) : [];
    const finishReason = behaviour.kind === 'answer' ? (behaviour.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop')) : 'stop';
    const promptTokens = promptTokensOf(body);
    const completionTokens = tokens.length + toolCalls.reduce((sum, c) => sum + standInTokens(c.arguments.replace(/[{}",:]/g, ' ')).length + 1, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const firstDelay = behaviour.kind === 'answer' ? (behaviour.firstTokenDelayMs ?? 0) : 0;
    const tokenDelay = behaviour.kind === 'answer' ? (behaviour.tokenDelayMs ?? 0) : 0;
    const perChunk = Math.max(1, behaviour.kind === 'answer' ? (behaviour.tokensPerChunk ?? 1) : 1);

    if (body.stream !== true) {
      await sleep(firstDelay + tokenDelay * tokens.length, gone.signal);
      if (gone.signal.aborted) return;
      for (const token of tokens) options.onToken?.(token, Date.now());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: toolCalls.length > 0 && text === '' ? null : text,
                ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map((c, i) => ({ id: `call_${counter}_${i}`, type: 'function', function: c })) } : {}),
              },
              finish_reason: finishReason,
              logprobs: null,
            },
          ],
          ...(behaviour.kind === 'answer' && behaviour.omitUsage ? {} : { usage }),
        }),
      );
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
    await sleep(firstDelay, gone.signal);
    if (gone.signal.aborted) return;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    const stopAt = behaviour.kind === 'answer' ? tokens.length : Math.min(behaviour.afterTokens, tokens.length);
    for (let i = 0; i < stopAt; i += perChunk) {
      if (i > 0) await sleep(tokenDelay, gone.signal);
      if (gone.signal.aborted) return;
      const piece = tokens.slice(i, Math.min(i + perChunk, stopAt));
      const now = Date.now();
      for (const token of piece) options.onToken?.(token, now);
      res.write(chunk({ content: piece.join('') }, null));
    }
    if (behaviour.kind === 'stall') return;
    if (behaviour.kind === 'break') {
      for (const [i, call] of (behaviour.toolCalls ?? []).entries()) {
        res.write(chunk({ tool_calls: [{ index: i, id: `call_${counter}_${i}`, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, Math.ceil(call.arguments.length / 2)) } }] }, null));
      }
      // What was written reaches the client before the break (a client is billed for what it got).
      await new Promise<void>((resolve) => res.write(': the connection breaks now\n\n', () => resolve()));
      await sleep(50, gone.signal);
      res.socket?.destroy();
      return;
    }
    for (const [i, call] of toolCalls.entries()) {
      res.write(chunk({ tool_calls: [{ index: i, id: `call_${counter}_${i}`, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
      // The arguments arrive in pieces, as real servers send them.
      const half = Math.ceil(call.arguments.length / 2);
      for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
        if (piece !== '') res.write(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }, null));
      }
    }
    res.write(chunk({}, finishReason));
    if (body.stream_options?.include_usage === true && !(behaviour.kind === 'answer' && behaviour.omitUsage)) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        sendError(res, 401, 'Incorrect API key provided.', 'invalid_api_key');
        return;
      }
      if (req.method === 'GET' && url.pathname.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: (options.models ?? ['stand-in-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'stand-in' })) }));
        return;
      }
      if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        sendError(res, 404, `no route ${req.method ?? ''} ${url.pathname}`, 'not_found');
        return;
      }
      let body: StandInChatRequest;
      try {
        body = JSON.parse(await readBody(req)) as StandInChatRequest;
      } catch {
        sendError(res, 400, 'the body is not JSON', 'invalid_json');
        return;
      }
      const record: StandInRequest = { at: Date.now(), path: url.pathname, headers: req.headers, body };
      requests.push(record);
      await handleChat(res, record);
    })().catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error), 'stand_in_failure');
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...behaviours) => scripted.push(...behaviours),
    respondWith: (next) => {
      respond = next;
    },
    reset: () => {
      requests.length = 0;
      scripted.length = 0;
    },
    openConnections: () => sockets.size,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
