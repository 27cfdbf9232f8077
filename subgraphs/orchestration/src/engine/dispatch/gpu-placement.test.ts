import type { SlotCandidate } from '../../store/dispatch';
import type { WorkerRow } from '../../store/rows';
import { chooseGpus, gpuStates, gpuWaitReason, placeOnGpus } from './gpu-placement';

const GIB = 1024 * 1024 * 1024;

const worker = (id: string, gpus: Array<[model: string, totalGiB: number, usedGiB: number]>): WorkerRow =>
  ({
    id,
    resources: { cpuCount: 8, cpuLoad: 0, memoryTotalBytes: 0, memoryUsedBytes: 0, gpus: gpus.map(([model, total, used], index) => ({ index, model, memoryTotalBytes: total * GIB, memoryUsedBytes: used * GIB, utilizationPercent: 0 })) },
  }) as WorkerRow;

const slots = (w: WorkerRow, n: number): SlotCandidate[] => Array.from({ length: n }, (_, slot) => ({ workerId: w.id, slot, worker: w }));
const requests = (n: number) => Array.from({ length: n }, (_, i) => ({ attemptId: `a${i}`, task: { id: `t${i}`, runId: 'r', pool: 'p', capability: 'llm', labels: {} } }));

describe('GPU free memory', () => {
  it('is the total minus the larger of reported use and what Orchestra reserved there', () => {
    const w = worker('w', [['A100', 40, 10], ['A100', 40, 0]]);
    expect(gpuStates(w, new Map([[0, 5 * 1024]])).map((g) => g.freeMiB)).toEqual([30 * 1024, 40 * 1024]);
    expect(gpuStates(w, new Map([[0, 25 * 1024], [1, 8 * 1024]])).map((g) => g.freeMiB)).toEqual([15 * 1024, 32 * 1024]);
    expect(gpuStates(worker('cpu', []), new Map())).toEqual([]);
  });

  it('chooses the tightest GPUs that fit, of the model asked for', () => {
    const states = gpuStates(worker('w', [['NVIDIA A100-80GB', 80, 0], ['NVIDIA A100-40GB', 40, 0], ['NVIDIA L4', 24, 0]]), new Map());
    expect(chooseGpus({ gpus: 1, gpuMemoryMiB: 20 * 1024 }, states)?.map((g) => g.index)).toEqual([2]);
    expect(chooseGpus({ gpus: 1, gpuMemoryMiB: 20 * 1024, gpuModel: 'a100' }, states)?.map((g) => g.index)).toEqual([1]);
    expect(chooseGpus({ gpus: 2, gpuMemoryMiB: 30 * 1024 }, states)?.map((g) => g.index)).toEqual([1, 0]);
    expect(chooseGpus({ gpus: 3, gpuMemoryMiB: 30 * 1024 }, states)).toBeUndefined();
  });
});

describe('placeOnGpus', () => {
  it('counts what the same batch placed: two requests that exceed a GPU together do not both go there', () => {
    const big = worker('big', [['A100', 40, 0]]);
    const placed = placeOnGpus(requests(3), { gpus: 1, gpuMemoryMiB: 25 * 1024 }, slots(big, 3), []);
    expect([...placed.keys()]).toEqual(['a0']);
    expect(placed.get('a0')?.gpus).toEqual([{ index: 0, model: 'A100', memoryMiB: 25 * 1024 }]);
  });

  it('counts RUNNING attempts’ reservations and never uses a worker without GPUs', () => {
    const cpu = worker('cpu', []);
    const big = worker('big', [['A100', 40, 0]]);
    const candidates = [...slots(cpu, 2), ...slots(big, 2)];
    expect(placeOnGpus(requests(1), { gpus: 1, gpuMemoryMiB: 20 * 1024 }, candidates, [{ workerId: 'big', index: 0, memoryMiB: 30 * 1024 }]).size).toBe(0);
    const placed = placeOnGpus(requests(2), { gpus: 1, gpuMemoryMiB: 20 * 1024 }, candidates, []);
    expect([...placed.values()].map((p) => p.slot.workerId)).toEqual(['big', 'big']);
  });
});

describe('gpuWaitReason', () => {
  it('says when no online worker could ever hold the step, and when the ones that could are busy', () => {
    const where = { pool: 'gpu', capability: 'llm' };
    const never = gpuWaitReason({ gpus: 2, gpuMemoryMiB: 40 * 1024 }, [worker('one', [['A100', 40, 0]]), worker('cpu', [])], where);
    expect(never).toMatchObject({ kind: 'GPU', message: 'no worker with 2 GPUs of 40 GiB online (pool "gpu", llm)', details: { fittingWorkers: 0 } });
    const busy = gpuWaitReason({ gpus: 1, gpuMemoryMiB: 1500, gpuModel: 'A100' }, [worker('one', [['A100', 40, 39]])], where);
    expect(busy.message).toBe('every worker with 1 GPU (A100) of 1500 MiB is busy or has too little GPU memory free now (1 online)');
  });
});
