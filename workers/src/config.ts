import { readFileSync } from 'node:fs';
import { ConfigError, DEFAULT_PORTS, WORKER_ID_PATTERN, artifactEnv, commonEnv, env, grpcTlsEnv, llmBaseUrlKey, loadConfig, workerIdOfToken } from '@orchestra/lib/worker';
import { z } from 'zod';
import { BUILT_IN_CAPABILITIES } from './executors/registry';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const hostPort = (what: string) =>
  z.string({ error: `expects ${what} as host:port` }).regex(HOST_PORT, { error: `expects ${what} as host:port` });

/** A gRPC target to dial: host:port, or dns:///host:port (every address the name resolves to, round-robin). */
const grpcTarget = (what: string) =>
  z
    .string({ error: `expects ${what} as host:port or dns:///host:port` })
    .refine((v) => HOST_PORT.test(v.replace(/^dns:\/\/\//, '')), { error: `expects ${what} as host:port or dns:///host:port` });

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** `k=v,k=v` into a record; a malformed pair fails with the pair named. */
const labels = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const result: Record<string, string> = {};
    for (const pair of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? '' : pair.slice(0, eq).trim();
      const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
      if (!LABEL.test(key) || value.length > 256) {
        ctx.addIssue({ code: 'custom', message: `expects k=v pairs separated by commas (bad pair ${JSON.stringify(pair)})` });
        return z.NEVER;
      }
      result[key] = value;
    }
    return result;
  });

const capabilities = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const wanted = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (wanted.length === 0) return [...BUILT_IN_CAPABILITIES];
    const unknown = wanted.filter((c) => !BUILT_IN_CAPABILITIES.includes(c));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expects a comma-separated list of ${BUILT_IN_CAPABILITIES.join(', ')} (unknown: ${unknown.join(', ')})` });
      return z.NEVER;
    }
    return [...new Set(wanted)];
  });

/** Base URLs of LLM servers on this machine (`http://127.0.0.1:11434/v1,...`), each an http(s) URL. */
const llmEndpoints = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const urls = (raw ?? '').split(',').map(llmBaseUrlKey).filter(Boolean);
    for (const url of urls) {
      let ok = false;
      try {
        const parsed = new URL(url);
        ok = (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.search === '' && parsed.hash === '' && parsed.username === '';
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: `expects comma-separated http(s) base URLs such as http://127.0.0.1:11434/v1 (bad ${JSON.stringify(url)})` });
        return z.NEVER;
      }
    }
    return [...new Set(urls)];
  });

/** The worker process's one config schema (parsed once in main.ts). */
export const workerConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  HOST: commonEnv.HOST,
  ...grpcTlsEnv,
  /**
   * This worker's own credential, minted for its WORKER_ID under the orchestration service's
   * WORKER_AUTH_SECRETS (`npm run worker-token -w @orchestra/orchestration -- <worker id>`). It lets the
   * worker register and heartbeat for that id and nothing else: a worker never holds INTERNAL_TOKEN.
   */
  WORKER_TOKEN: z.string().optional(),
  /** Or a file holding it (the chart's init container writes one per pod). */
  WORKER_TOKEN_FILE: z.string().optional(),
  /** Where the orchestration service serves WorkerRegistry. */
  ORCHESTRATION_GRPC_ADDR: grpcTarget('the orchestration gRPC address'),
  GRPC_PORT: env.port(DEFAULT_PORTS.worker.grpc),
  HTTP_PORT: env.port(DEFAULT_PORTS.worker.http),
  /** The host:port the orchestrator dials; default HOST (or this machine's name when HOST is a wildcard) and the bound gRPC port. */
  ADVERTISE_ADDR: hostPort('the advertised worker address').optional(),
  /** Default: the id WORKER_TOKEN was minted for. */
  WORKER_ID: z.string().regex(WORKER_ID_PATTERN, { error: 'expects 1-128 letters, digits, . _ : -' }).optional(),
  WORKER_POOL: z.string().regex(/^[\w.-]{1,64}$/, { error: 'expects 1-64 letters, digits, . _ -' }).default('default'),
  WORKER_SLOTS: env.int(4, { min: 1, max: 1024 }),
  WORKER_LABELS: labels,
  WORKER_CAPABILITIES: capabilities,
  /** Let http.request reach private, loopback and link-local addresses (trusted networks, development). */
  WORKER_ALLOW_PRIVATE_NETWORK: env.bool(false),
  /** On SIGTERM, how long running attempts may finish before they are cancelled. */
  WORKER_DRAIN_GRACE_MS: env.int(30_000, { min: 0, max: 3_600_000 }),
  /** The nvidia-smi binary the GPU probe runs (absent: the worker reports no GPUs). */
  NVIDIA_SMI_PATH: env.string('nvidia-smi'),
  /** LLM servers on this machine (Ollama, vLLM...) that worker-local providers may use: only this worker runs their steps. */
  WORKER_LLM_ENDPOINTS: llmEndpoints,
  /** Failures of a model provider within a minute (and over half its calls) that open its circuit on this worker. */
  LLM_CIRCUIT_FAILURE_THRESHOLD: env.int(5, { min: 1, max: 1000 }),
  /** How long an open provider circuit waits before one probe call may go through. */
  LLM_CIRCUIT_RESET_MS: env.int(30_000, { min: 10, max: 3_600_000 }),
  /** Longest wait for a model's first token, and between two chunks, when the step and provider do not say. */
  LLM_TIMEOUT_MS: env.int(60_000, { min: 100, max: 600_000 }),
  /** Chromium for the browser capability (Debian's `chromium` package); not there or not runnable: no browser capability. */
  BROWSER_EXECUTABLE_PATH: env.string('/usr/bin/chromium'),
  /** Browser tasks at once (a context each); default one per GiB of the memory this process may use, at most 16. */
  BROWSER_MAX_CONTEXTS: z.coerce.number({ error: 'expects an integer between 1 and 256' }).int({ error: 'expects an integer between 1 and 256' }).min(1, { error: 'expects an integer between 1 and 256' }).max(256, { error: 'expects an integer between 1 and 256' }).optional(),
  /** Where attempts keep screenshots, PDFs and downloads (ARTIFACT_STORE=fs|s3, ...; see lib/src/artifacts). */
  ...artifactEnv,
});

type ParsedWorkerConfig = z.infer<typeof workerConfigSchema>;

/** The worker's config with its identity settled: the id and the token minted for it. */
export type WorkerConfig = Omit<ParsedWorkerConfig, 'WORKER_ID' | 'WORKER_TOKEN' | 'WORKER_TOKEN_FILE'> & { WORKER_ID: string; WORKER_TOKEN: string };

const readToken = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`config: WORKER_TOKEN_FILE expects a readable file holding this worker's token (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})`);
  }
};

/**
 * Parses the worker's environment (workerConfigSchema) and settles who it is: WORKER_TOKEN (or the
 * file WORKER_TOKEN_FILE names) is required, WORKER_ID defaults to the id the token was minted for,
 * and a token minted for another id stops the process with one line saying so.
 */
export function loadWorkerConfig(environment: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const { WORKER_ID, WORKER_TOKEN, WORKER_TOKEN_FILE, ...rest } = loadConfig(workerConfigSchema, environment);
  const token = WORKER_TOKEN ?? (WORKER_TOKEN_FILE === undefined ? undefined : readToken(WORKER_TOKEN_FILE));
  if (token === undefined || token === '') {
    throw new ConfigError("config: WORKER_TOKEN expects this worker's token, minted for its WORKER_ID by whoever holds the orchestration service's WORKER_AUTH_SECRETS (it is not set)");
  }
  const tokenId = workerIdOfToken(token);
  if (tokenId === undefined) throw new ConfigError('config: WORKER_TOKEN expects a worker token (owk1.<id>.<mac>) (got a value that does not fit)');
  if (WORKER_ID !== undefined && WORKER_ID !== tokenId) {
    throw new ConfigError(`config: WORKER_TOKEN was minted for worker ${JSON.stringify(tokenId)}, but WORKER_ID is ${JSON.stringify(WORKER_ID)}`);
  }
  return { ...rest, WORKER_ID: tokenId, WORKER_TOKEN: token };
}

const GiB = 1024 * 1024 * 1024;

/** BROWSER_MAX_CONTEXTS when it is not set: one context per GiB this process may use (a cgroup's limit when lower), 1..16. */
export function defaultBrowserContexts(totalMemoryBytes: number, constrainedMemoryBytes: number | undefined): number {
  const usable = constrainedMemoryBytes !== undefined && constrainedMemoryBytes > 0 ? Math.min(totalMemoryBytes, constrainedMemoryBytes) : totalMemoryBytes;
  return Math.max(1, Math.min(16, Math.floor(usable / GiB)));
}
