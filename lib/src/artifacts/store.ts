import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, env } from '../config';
import { NonRetryableError } from '../errors';

/**
 * Where workers keep the files an attempt produces (screenshots, PDFs, downloads) and where the
 * gateway reads them back. Keys are `artifactKey(...)`; bodies are small enough to hold in memory
 * (bounded by ARTIFACT_MAX_BYTES).
 */
export interface ArtifactStore {
  put(key: string, body: Buffer, contentType: string): Promise<{ sizeBytes: number; sha256: string }>;
  /** null when there is no object under the key. */
  get(key: string): Promise<{ body: NodeJS.ReadableStream; sizeBytes: number; contentType: string } | null>;
  /** Deletes each key; a key with no object is not an error. */
  delete(keys: string[]): Promise<void>;
}

/** An artifact's name within its attempt (also the last segment of its key). */
export const ARTIFACT_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const KEY_SEGMENT = /^[A-Za-z0-9._-]{1,200}$/;

export interface ArtifactKeyParts {
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string;
  name: string;
}

/** `<orgId>/<runId>/<taskId>/<attemptId>/<name>`; every part is checked so a key never escapes its prefix. */
export function artifactKey({ orgId, runId, taskId, attemptId, name }: ArtifactKeyParts): string {
  if (!ARTIFACT_NAME.test(name) || name === '.' || name === '..') {
    throw new NonRetryableError('BAD_INPUT', `artifact name ${JSON.stringify(name.slice(0, 120))} must match ${ARTIFACT_NAME.source}`);
  }
  const parts = { orgId, runId, taskId, attemptId };
  for (const [field, value] of Object.entries(parts)) {
    if (!KEY_SEGMENT.test(value) || value === '.' || value === '..') throw new Error(`artifactKey: ${field} ${JSON.stringify(value)} is not a safe key segment`);
  }
  return `${orgId}/${runId}/${taskId}/${attemptId}/${name}`;
}

/** Checks a key before it touches a store (the gateway builds keys from rows, but a store trusts nothing). */
export function assertArtifactKey(key: string): void {
  const segments = key.split('/');
  if (segments.length !== 5 || segments.some((s) => !KEY_SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new Error(`artifact store: ${JSON.stringify(key.slice(0, 300))} is not an artifact key (<orgId>/<runId>/<taskId>/<attemptId>/<name>)`);
  }
}

export const sha256Hex = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

const MiB = 1024 * 1024;

/** The artifact store's variables; spread into a process's config schema and pass the result to createArtifactStore. */
export const artifactEnv = {
  ARTIFACT_STORE: env.oneOf(['fs', 's3'] as const, 'fs'),
  ARTIFACT_DIR: env.string('.orchestra/artifacts'),
  ARTIFACT_S3_BUCKET: z.string().min(1, { error: 'expects a bucket name' }).optional(),
  /** An S3-compatible endpoint (MinIO, R2, ...); unset: AWS itself. */
  ARTIFACT_S3_ENDPOINT: env.url(['http', 'https']).optional(),
  ARTIFACT_S3_REGION: env.string('us-east-1'),
  ARTIFACT_S3_FORCE_PATH_STYLE: env.bool(false),
  /** Largest single artifact. */
  ARTIFACT_MAX_BYTES: env.int(25 * MiB, { min: 1 }),
  /** Largest sum of one attempt's artifacts. */
  ARTIFACT_MAX_ATTEMPT_BYTES: env.int(100 * MiB, { min: 1 }),
};

export const artifactConfigSchema = z.object(artifactEnv);
export type ArtifactConfig = z.infer<typeof artifactConfigSchema>;

/** Checks what zod cannot see field by field; createArtifactStore calls it, so a bad config stops the process at start. */
export function checkArtifactConfig(config: ArtifactConfig): void {
  if (config.ARTIFACT_STORE === 's3' && config.ARTIFACT_S3_BUCKET === undefined) {
    throw new ConfigError('config: ARTIFACT_S3_BUCKET expects a bucket name when ARTIFACT_STORE=s3 (it is not set)');
  }
  if (config.ARTIFACT_MAX_ATTEMPT_BYTES < config.ARTIFACT_MAX_BYTES) {
    throw new ConfigError(
      `config: ARTIFACT_MAX_ATTEMPT_BYTES expects at least ARTIFACT_MAX_BYTES (${config.ARTIFACT_MAX_BYTES}) (got ${config.ARTIFACT_MAX_ATTEMPT_BYTES})`,
    );
  }
}

export interface ArtifactLimits {
  /** Per artifact. */
  maxBytes: number;
  /** Per attempt, all artifacts together. */
  maxAttemptBytes: number;
}

export const artifactLimits = (config: Pick<ArtifactConfig, 'ARTIFACT_MAX_BYTES' | 'ARTIFACT_MAX_ATTEMPT_BYTES'>): ArtifactLimits => ({
  maxBytes: config.ARTIFACT_MAX_BYTES,
  maxAttemptBytes: config.ARTIFACT_MAX_ATTEMPT_BYTES,
});

export const ARTIFACT_TOO_LARGE = 'ARTIFACT_TOO_LARGE';

/**
 * Throws the task failure (non-retryable, ARTIFACT_TOO_LARGE) when `sizeBytes` breaks a limit, given
 * what the attempt already stored. Call it before storing.
 */
export function checkArtifactSize(name: string, sizeBytes: number, attemptBytesSoFar: number, limits: ArtifactLimits): void {
  if (sizeBytes > limits.maxBytes) {
    throw new NonRetryableError(ARTIFACT_TOO_LARGE, `artifact ${name} is ${sizeBytes} bytes, over the limit of ${limits.maxBytes} bytes per artifact (ARTIFACT_MAX_BYTES)`);
  }
  if (attemptBytesSoFar + sizeBytes > limits.maxAttemptBytes) {
    throw new NonRetryableError(
      ARTIFACT_TOO_LARGE,
      `artifact ${name} (${sizeBytes} bytes) would bring the attempt's artifacts to ${attemptBytesSoFar + sizeBytes} bytes, over the limit of ${limits.maxAttemptBytes} bytes per attempt (ARTIFACT_MAX_ATTEMPT_BYTES)`,
    );
  }
}
