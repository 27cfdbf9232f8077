import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '@orchestra/lib';
import { NVIDIA_SMI_ARGS, createResourceProbe, parseNvidiaSmiCsv } from './resources';

const MIB = 1024 * 1024;

// Output of `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu --format=csv,noheader,nounits`
// on a two-GPU machine (this machine has none; the format is nvidia-smi's documented CSV).
const SAMPLE = `0, NVIDIA A100-SXM4-40GB, 40960, 1234, 37
1, NVIDIA GeForce RTX 4090, 24564, 0, 0
`;

describe('parseNvidiaSmiCsv', () => {
  it('reads one GPU per line with memory in bytes', () => {
    expect(parseNvidiaSmiCsv(SAMPLE)).toEqual([
      { index: 0, model: 'NVIDIA A100-SXM4-40GB', memoryTotalBytes: 40960 * MIB, memoryUsedBytes: 1234 * MIB, utilizationPercent: 37 },
      { index: 1, model: 'NVIDIA GeForce RTX 4090', memoryTotalBytes: 24564 * MIB, memoryUsedBytes: 0, utilizationPercent: 0 },
    ]);
  });

  it('treats [N/A] and [Not Supported] as 0 and accepts CRLF', () => {
    expect(parseNvidiaSmiCsv('0, Tesla K80, 11441, [N/A], [Not Supported]\r\n')).toEqual([
      { index: 0, model: 'Tesla K80', memoryTotalBytes: 11441 * MIB, memoryUsedBytes: 0, utilizationPercent: 0 },
    ]);
  });

  it('reads nothing from empty output and refuses lines it does not understand', () => {
    expect(parseNvidiaSmiCsv('\n')).toEqual([]);
    expect(() => parseNvidiaSmiCsv('No devices were found')).toThrow(/unexpected nvidia-smi line/);
    expect(() => parseNvidiaSmiCsv('x, a, 1, 2, 3')).toThrow(/unexpected nvidia-smi line/);
  });
});

describe('createResourceProbe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestra-nvidia-smi-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it('reports CPU and memory, and no GPUs without error when nvidia-smi is missing', async () => {
    const log = createMemoryLogger();
    const resources = await createResourceProbe({ nvidiaSmiPath: join(dir, 'no-such-nvidia-smi'), log }).probe();
    expect(resources.cpuCount).toBeGreaterThan(0);
    expect(resources.cpuLoad).toBeGreaterThanOrEqual(0);
    expect(resources.memoryTotalBytes).toBeGreaterThan(0);
    expect(resources.memoryUsedBytes).toBeGreaterThan(0);
    expect(resources.memoryUsedBytes).toBeLessThanOrEqual(resources.memoryTotalBytes);
    expect(resources.gpus).toEqual([]);
    expect(log.lines.filter((l) => l['level'] === 'warn' || l['level'] === 'error')).toEqual([]);
  });

  it('runs nvidia-smi with the documented query and reports its GPUs', async () => {
    // A stand-in nvidia-smi that checks its arguments and prints the sample.
    const path = script('nvidia-smi', `[ "$*" = "${NVIDIA_SMI_ARGS.join(' ')}" ] || { echo "bad args: $*" >&2; exit 2; }\ncat <<'EOF'\n${SAMPLE}EOF`);
    const resources = await createResourceProbe({ nvidiaSmiPath: path, log: createMemoryLogger() }).probe();
    expect(resources.gpus.map((g) => g.model)).toEqual(['NVIDIA A100-SXM4-40GB', 'NVIDIA GeForce RTX 4090']);
  });

  it('reports no GPUs and warns once when nvidia-smi fails', async () => {
    const path = script('broken-nvidia-smi', 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2; exit 9');
    const log = createMemoryLogger();
    const probe = createResourceProbe({ nvidiaSmiPath: path, log });
    expect((await probe.probe()).gpus).toEqual([]);
    expect((await probe.probe()).gpus).toEqual([]);
    expect(log.lines.filter((l) => l['msg'] === 'gpu probe failed: reporting no GPUs')).toHaveLength(1);
  });
});
