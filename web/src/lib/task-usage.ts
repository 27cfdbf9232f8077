/**
 * What a task's attempts spent (issue 14 accounting: `Task.usage`), as the run page's task panel
 * says it in one line: model calls with their tokens and cost (llm, browser.agent), and GPU time.
 * Undefined when the task spent nothing worth a line (no model call, no GPU).
 */

export interface TaskUsage {
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

const COUNT = new Intl.NumberFormat('en-US');

/** Dollars with enough digits that a model call's fraction of a cent still shows. */
export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${Number(usd.toPrecision(2))}`;
  return usd < 100 ? `$${usd.toFixed(4).replace(/0{1,2}$/, '')}` : `$${usd.toFixed(2)}`;
}

export function describeTaskUsage(usage: TaskUsage | null | undefined): string | undefined {
  if (!usage || (usage.calls === 0 && usage.gpuSeconds === 0)) return undefined;
  const parts: string[] = [];
  if (usage.calls > 0) {
    const calls = `${COUNT.format(usage.calls)} model call${usage.calls === 1 ? '' : 's'}${usage.failedCalls > 0 ? ` (${COUNT.format(usage.failedCalls)} failed)` : ''}`;
    parts.push(`${COUNT.format(usage.promptTokens)} in · ${COUNT.format(usage.completionTokens)} out tokens`, formatCost(usage.costUsd), calls);
  }
  if (usage.gpuSeconds > 0) parts.push(`${usage.gpuSeconds < 10 ? usage.gpuSeconds.toFixed(1) : COUNT.format(Math.round(usage.gpuSeconds))} GPU-s`);
  return parts.join(' · ');
}
