import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_PORTS, commonEnv, env } from '@orchestra/lib';
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

/** `host-pid-random`: unique per process, readable in logs and in the fleet view. */
export const defaultWorkerId = (): string => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

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

/** The worker process's one config schema (parsed once in main.ts). */
export const workerConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  HOST: commonEnv.HOST,
  INTERNAL_TOKEN: commonEnv.INTERNAL_TOKEN,
  /** Where the orchestration service serves WorkerRegistry. */
  ORCHESTRATION_GRPC_ADDR: grpcTarget('the orchestration gRPC address'),
  GRPC_PORT: env.port(DEFAULT_PORTS.worker.grpc),
  HTTP_PORT: env.port(DEFAULT_PORTS.worker.http),
  /** The host:port the orchestrator dials; default HOST (or this machine's name when HOST is a wildcard) and the bound gRPC port. */
  ADVERTISE_ADDR: hostPort('the advertised worker address').optional(),
  WORKER_ID: z.string().regex(/^[\w.:-]{1,128}$/, { error: 'expects 1-128 letters, digits, . _ : -' }).default(defaultWorkerId),
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
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;
