import { badInput } from '@orchestra/lib';

/**
 * What a step asks of a worker's GPUs (issue 14, GPU-aware placement): `gpus` GPUs of one worker,
 * each with `gpuMemoryMiB` free, of a model whose name contains `gpuModel` (case-insensitive, e.g.
 * "A100" matches "NVIDIA A100-SXM4-40GB"). The dispatcher places such a step only where that fits
 * (engine/dispatch/gpu-placement.ts); a step that asks for none may run anywhere.
 */
export interface GpuRequest {
  gpus: number;
  /** Per GPU. */
  gpuMemoryMiB: number;
  gpuModel?: string | undefined;
}

export interface GpuRequestInput {
  gpus?: number | null;
  gpuMemoryMiB?: number | null;
  gpuModel?: string | null;
}

export const GPU_LIMITS = {
  gpus: 16,
  /** 1 TiB per GPU: more than any GPU made. */
  gpuMemoryMiB: 1024 * 1024,
  gpuModel: 100,
  /** A step's queue timeout, at most (a day). */
  queueTimeoutMs: 24 * 60 * 60 * 1000,
} as const;

/** How long a GPU step that names no queue timeout waits for a GPU before it fails (an hour). */
export const DEFAULT_GPU_QUEUE_TIMEOUT_MS = 60 * 60 * 1000;

const GPU_MODEL = /^[A-Za-z0-9][A-Za-z0-9 ._()-]*$/;

const intIn = (field: string, what: string, value: number, min: number, max: number): number => {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${what} must be an integer between ${min} and ${max} (got ${value})`, 'OUT_OF_RANGE');
  return value;
};

/**
 * Checks a step's `resources` (undefined when it asks for no GPU). Each bad value is a
 * BAD_USER_INPUT naming its field (`input.steps[2].resources.gpuMemoryMiB`).
 */
export function checkGpuRequest(input: GpuRequestInput | null | undefined, field: string, name: string): GpuRequest | undefined {
  if (input === null || input === undefined) return undefined;
  if (input.gpus === null || input.gpus === undefined) throw badInput(`${field}.gpus`, `${name}: resources.gpus is required (how many GPUs, 1 to ${GPU_LIMITS.gpus})`, 'OUT_OF_RANGE');
  const gpus = intIn(`${field}.gpus`, `${name}: resources.gpus`, input.gpus, 1, GPU_LIMITS.gpus);
  if (input.gpuMemoryMiB === null || input.gpuMemoryMiB === undefined) {
    throw badInput(`${field}.gpuMemoryMiB`, `${name}: resources.gpuMemoryMiB is required (MiB of free memory on each GPU)`, 'OUT_OF_RANGE');
  }
  const gpuMemoryMiB = intIn(`${field}.gpuMemoryMiB`, `${name}: resources.gpuMemoryMiB`, input.gpuMemoryMiB, 1, GPU_LIMITS.gpuMemoryMiB);
  const model = input.gpuModel?.trim();
  if (model !== undefined && (model.length === 0 || model.length > GPU_LIMITS.gpuModel || !GPU_MODEL.test(model))) {
    throw badInput(
      `${field}.gpuModel`,
      `${name}: resources.gpuModel must be 1 to ${GPU_LIMITS.gpuModel} letters, digits, spaces and . _ ( ) - (got ${JSON.stringify(input.gpuModel)})`,
      'INVALID_GPU_MODEL',
    );
  }
  return { gpus, gpuMemoryMiB, ...(model === undefined ? {} : { gpuModel: model }) };
}

/** A step's queue timeout (ms), checked; a GPU step without one gets the default, other steps none. */
export function checkQueueTimeout(value: number | null | undefined, field: string, name: string, gpu: GpuRequest | undefined): number | undefined {
  if (value === null || value === undefined) return gpu ? DEFAULT_GPU_QUEUE_TIMEOUT_MS : undefined;
  return intIn(field, `${name}: queueTimeoutMs`, value, 1, GPU_LIMITS.queueTimeoutMs);
}

const memory = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`);

/** "2 GPUs of 40 GiB", "1 GPU (A100) of 24 GiB": what a step asks, for a person. */
export const describeGpuRequest = (r: GpuRequest): string => `${r.gpus} GPU${r.gpus === 1 ? '' : 's'}${r.gpuModel === undefined ? '' : ` (${r.gpuModel})`} of ${memory(r.gpuMemoryMiB)}`;

/** Whether a GPU's model name is what the request asks for. */
export const modelMatches = (r: Pick<GpuRequest, 'gpuModel'>, model: string): boolean => r.gpuModel === undefined || model.toLowerCase().includes(r.gpuModel.toLowerCase());
