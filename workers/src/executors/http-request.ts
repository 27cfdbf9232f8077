import { AppError, MAX_TASK_VALUE_BYTES, NonRetryableError, type GuardedFetch } from '@orchestra/lib/worker';
import { z } from 'zod';
import { RetryableError, defineExecutor, type ExecutorFactory, type JsonValue } from './types';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
/**
 * The largest maxResponseBytes: a body this size plus the headers fits in a task's output
 * (MAX_TASK_VALUE_BYTES, 8 MiB). A JSON body whose parsed form encodes larger (long arrays of small
 * numbers) fails with RESULT_TOO_LARGE like any output over the limit.
 */
export const MAX_RESPONSE_BYTES = MAX_TASK_VALUE_BYTES - 1024 * 1024;

const isHttpUrl = (value: string): boolean => {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
};

const httpRequestInput = z
  .object({
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(METHODS, { error: `expects one of ${METHODS.join(', ')}` }))
      .default('GET'),
    url: z.string({ error: 'expects an http(s) URL' }).refine(isHttpUrl, { error: 'expects an http(s) URL' }),
    headers: z
      .record(z.string().regex(HEADER_NAME, { error: 'expects a valid header name' }), z.string({ error: 'expects a string header value' }))
      .default({}),
    /** A string is sent as is; any other JSON value is sent as JSON. */
    body: z.unknown().optional(),
    timeoutMs: z.number().int().min(1).max(600_000).default(DEFAULT_TIMEOUT_MS),
    maxResponseBytes: z.number().int().min(1).max(MAX_RESPONSE_BYTES, { error: `expects at most ${MAX_RESPONSE_BYTES} bytes (a task's output is at most ${MAX_TASK_VALUE_BYTES})` }).default(DEFAULT_MAX_RESPONSE_BYTES),
  })
  .superRefine((input, ctx) => {
    if (input.body !== undefined && (input.method === 'GET' || input.method === 'HEAD')) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${input.method} request cannot have a body` });
    }
  });

type HttpRequestInput = z.infer<typeof httpRequestInput>;

const hasHeader = (headers: Record<string, string>, name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);

/** Where the request went, without the query string (it often carries keys). */
const describeTarget = (method: string, url: string): string => {
  const { origin, pathname } = new URL(url);
  return `${method} ${origin}${pathname}`;
};

type FetchResponse = Awaited<ReturnType<GuardedFetch>>;

const readBody = async (response: FetchResponse, maxBytes: number, target: string): Promise<string> => {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  const tooLarge = () => new NonRetryableError('RESPONSE_TOO_LARGE', `${target}: the response is larger than ${maxBytes} bytes (maxResponseBytes)`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const parseBody = (text: string, contentType: string | null): JsonValue => {
  if (contentType !== null && /[/+]json\b/i.test(contentType) && text.trim() !== '') {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // A server that labels non-JSON as JSON still gets its text through.
    }
  }
  return text;
};

const networkReason = (error: unknown): string => {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
};

/**
 * One HTTP request. Output `{ status, headers, body }` with the body parsed when the answer is JSON.
 * Network errors, timeouts, 5xx and 429 are retryable; other 4xx are not; private addresses are
 * refused unless the worker allows them.
 */
export const createHttpRequestExecutor: ExecutorFactory = ({ fetch }) =>
  defineExecutor({
    capability: 'http.request',
    description: 'one HTTP request { method, url, headers, body, timeoutMs }; output { status, headers, body }',
    input: httpRequestInput,
    async run(input: HttpRequestInput, ctx) {
      const target = describeTarget(input.method, input.url);
      const headers = { ...input.headers };
      let body: string | undefined;
      if (typeof input.body === 'string') body = input.body;
      else if (input.body !== undefined) {
        body = JSON.stringify(input.body);
        if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
      }
      const timeout = AbortSignal.timeout(input.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const started = Date.now();
      ctx.progress(0, target);
      let status: number;
      let responseHeaders: Record<string, string>;
      let text: string;
      let contentType: string | null;
      try {
        const response = await fetch(input.url, { method: input.method, headers, signal, ...(body === undefined ? {} : { body }) });
        status = response.status;
        contentType = response.headers.get('content-type');
        responseHeaders = Object.fromEntries(response.headers.entries());
        text = input.method === 'HEAD' ? '' : await readBody(response, input.maxResponseBytes, target);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        if (error instanceof NonRetryableError) throw error;
        if (timeout.aborted) throw new RetryableError('TIMEOUT', `${target}: no answer within ${input.timeoutMs} ms`, { cause: error });
        if (error instanceof AppError && error.reason === 'PRIVATE_ADDRESS_BLOCKED') {
          throw new NonRetryableError('PRIVATE_ADDRESS_BLOCKED', `${error.message} (the worker does not allow private networks)`, { cause: error });
        }
        if (error instanceof AppError && error.code === 'BAD_USER_INPUT') throw new NonRetryableError('BAD_INPUT', `input.url: ${error.message}`, { cause: error });
        throw new RetryableError('NETWORK_ERROR', `${target} failed: ${networkReason(error)}`, { cause: error });
      }
      const tookMs = Date.now() - started;
      ctx.log(status >= 400 ? 'warn' : 'info', `${target} answered ${status} in ${tookMs} ms`);
      if (status === 429 || status >= 500) {
        throw new RetryableError('HTTP_STATUS', `${target} answered ${status}: ${text.slice(0, 200)}`);
      }
      if (status >= 400) {
        throw new NonRetryableError('HTTP_STATUS', `${target} answered ${status}: ${text.slice(0, 200)}`);
      }
      ctx.progress(1, `${status}`);
      return { status, headers: responseHeaders, body: parseBody(text, contentType) };
    },
  });
