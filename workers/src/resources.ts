import { execFile } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { Logger } from '@orchestra/lib/worker';
import type { automationV1 } from '@orchestra/proto';

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'];

const MIB = 1024 * 1024;

/** A number from nvidia-smi, where "[N/A]" or "[Not Supported]" mean unknown (0). */
const numberOrZero = (text: string): number => {
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : 0;
};

/**
 * Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu
 * --format=csv,noheader,nounits`: one GPU a line, memory in MiB, utilization in percent. GPU names
 * never contain commas, so the name is everything between the first field and the last three.
 */
export function parseNvidiaSmiCsv(output: string): automationV1.GpuInfo[] {
  const gpus: automationV1.GpuInfo[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 5) throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    const index = Number(fields[0]);
    if (!Number.isInteger(index)) throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    const [total = '', used = '', utilization = ''] = fields.slice(-3);
    gpus.push({
      index,
      model: fields.slice(1, -3).join(', '),
      memoryTotalBytes: numberOrZero(total) * MIB,
      memoryUsedBytes: numberOrZero(used) * MIB,
      utilizationPercent: numberOrZero(utilization),
    });
  }
  return gpus;
}

export interface ResourceProbe {
  probe(): Promise<automationV1.Resources>;
}

export interface ResourceProbeOptions {
  /** The nvidia-smi binary; a missing one means no GPUs (not an error). */
  nvidiaSmiPath: string;
  log: Logger;
  timeoutMs?: number;
}

const execFileAsync = promisify(execFile);

const runNvidiaSmi = async (path: string, timeoutMs: number): Promise<string> =>
  (await execFileAsync(path, NVIDIA_SMI_ARGS, { timeout: timeoutMs, encoding: 'utf8' })).stdout;

/** CPU count and load, memory, and GPUs when nvidia-smi is present, as reported in every heartbeat. */
export function createResourceProbe({ nvidiaSmiPath, log, timeoutMs = 5_000 }: ResourceProbeOptions): ResourceProbe {
  let nvidiaSmiMissing = false;
  let lastGpuError: string | undefined;

  const probeGpus = async (): Promise<automationV1.GpuInfo[]> => {
    if (nvidiaSmiMissing) return [];
    try {
      const gpus = parseNvidiaSmiCsv(await runNvidiaSmi(nvidiaSmiPath, timeoutMs));
      if (lastGpuError !== undefined) log.info('gpu probe works again', { gpus: gpus.length });
      lastGpuError = undefined;
      return gpus;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // No NVIDIA driver on this machine: a CPU-only worker, which is normal.
        nvidiaSmiMissing = true;
        log.debug('nvidia-smi not found: reporting no GPUs', { nvidiaSmiPath });
        return [];
      }
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastGpuError) log.warn('gpu probe failed: reporting no GPUs', { err: error, nvidiaSmiPath });
      lastGpuError = message;
      return [];
    }
  };

  return {
    async probe() {
      const cpuCount = Math.max(1, cpus().length);
      const memoryTotalBytes = totalmem();
      return {
        cpuCount,
        cpuLoad: (loadavg()[0] ?? 0) / cpuCount,
        memoryTotalBytes,
        memoryUsedBytes: Math.max(0, memoryTotalBytes - freemem()),
        gpus: await probeGpus(),
      };
    },
  };
}
