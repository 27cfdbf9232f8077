import { describeTaskUsage, formatCost } from './task-usage';

const none = { calls: 0, failedCalls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, gpuSeconds: 0 };

describe('a task’s usage line', () => {
  it('is absent for a task that made no model call and held no GPU', () => {
    expect(describeTaskUsage(none)).toBeUndefined();
    expect(describeTaskUsage(null)).toBeUndefined();
  });

  it('says the tokens, the cost and the calls (failed ones counted), then GPU time', () => {
    expect(describeTaskUsage({ ...none, calls: 3, failedCalls: 1, promptTokens: 12_345, completionTokens: 678, costUsd: 0.0123 })).toBe('12,345 in · 678 out tokens · $0.0123 · 3 model calls (1 failed)');
    expect(describeTaskUsage({ ...none, calls: 1, promptTokens: 10, completionTokens: 2, costUsd: 0.000034, gpuSeconds: 4.25 })).toBe('10 in · 2 out tokens · $0.000034 · 1 model call · 4.3 GPU-s');
    expect(describeTaskUsage({ ...none, gpuSeconds: 125.4 })).toBe('125 GPU-s');
  });

  it('prices a fraction of a cent with its digits, dollars with cents', () => {
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(0.00000123)).toBe('$0.0000012');
    expect(formatCost(1.5)).toBe('$1.50');
    expect(formatCost(12.3456)).toBe('$12.3456');
    expect(formatCost(250)).toBe('$250.00');
  });
});
