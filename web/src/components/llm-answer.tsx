import { useEffect, useMemo } from 'react';
import { useApiQuery } from '../hooks/use-api';
import { taskStreamedOutputQuery } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { formatDuration } from '../lib/format';
import { isFinalTask, type PanelTask, type RunEvent } from '../lib/run-events';
import { ANSWER_CAPABILITIES, foldStreamedAnswer } from '../lib/streamed-answer';

/** What an llm task's output says about its answer (workers/src/executors/llm.ts). */
interface LlmOutput {
  text?: unknown;
  provider?: unknown;
  model?: unknown;
  usage?: { promptTokens?: unknown; completionTokens?: unknown };
  costUsd?: unknown;
  ttftMs?: unknown;
  tokensPerSecond?: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function formatUsd(value: number): string {
  if (value === 0) return '$0';
  if (value < 0.01) return `$${value.toPrecision(2)}`;
  return `$${value.toFixed(2)}`;
}

/** Tokens, cost, time to first token and speed of a finished llm task, as its output reports them. */
function AnswerFacts({ output }: { output: LlmOutput }) {
  const prompt = num(output.usage?.promptTokens);
  const completion = num(output.usage?.completionTokens);
  const cost = num(output.costUsd);
  const ttft = num(output.ttftMs);
  const speed = num(output.tokensPerSecond);
  const facts: Array<[string, string]> = [];
  if (prompt !== undefined && completion !== undefined) facts.push(['Tokens', `${prompt} in · ${completion} out`]);
  if (cost !== undefined) facts.push(['Cost', formatUsd(cost)]);
  if (ttft !== undefined) facts.push(['First token', formatDuration(ttft)]);
  if (speed !== undefined) facts.push(['Speed', `${speed} tokens/s`]);
  const by = [str(output.provider), str(output.model)].filter((s) => s !== undefined).join(' · ');
  if (by !== '') facts.push(['Answered by', by]);
  if (facts.length === 0) return null;
  return (
    <dl className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-xs text-slate-600" aria-label="Answer usage">
      {facts.map(([label, value]) => (
        <div key={label} className="flex gap-1">
          <dt className="font-medium text-slate-500">{label}</dt>
          <dd className="tabular-nums">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * A model's answer on the run page: while the task runs, the text streamed so far (fetched once,
 * then grown by the run's TASK_OUTPUT_DELTA events); once it ends, the output's text with its
 * tokens, cost and time to first token. Renders nothing for tasks that do not stream.
 */
export function LlmAnswer({ task, events }: { task: PanelTask; events: readonly RunEvent[] }) {
  const streams = ANSWER_CAPABILITIES.has(task.capability);
  const running = task.status === 'RUNNING';
  const query = useApiQuery(queryKeys.runs.streamedOutput(task.id), taskStreamedOutputQuery, { id: task.id }, { enabled: streams && running });
  const fetched = query.data?.task?.streamedOutput;
  const live = useMemo(() => foldStreamedAnswer(fetched, events, task.id), [fetched, events, task.id]);
  const { refetch } = query;
  useEffect(() => {
    if (live.gap && running) void refetch();
  }, [live.gap, running, refetch]);
  if (!streams) return null;

  const output: LlmOutput | null = task.output ?? null;
  const final = isFinalTask(task.status) ? str(output?.text) : undefined;
  const text = final ?? live.text;
  if (!running && final === undefined) return null;
  return (
    <div>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Answer</h3>
      <div
        className="max-h-96 overflow-auto whitespace-pre-wrap break-words rounded-lg border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-800"
        aria-label={`Answer of ${task.stepId}`}
        aria-live={running ? 'polite' : 'off'}
        aria-busy={running}
        data-streaming={running ? 'true' : 'false'}
      >
        {text === '' ? <span className="text-slate-400">{running ? 'Waiting for the first token…' : 'No text.'}</span> : text}
        {running && <span className="ml-0.5 inline-block h-4 w-1.5 animate-soft-pulse bg-slate-400 align-text-bottom" aria-hidden="true" />}
      </div>
      {final !== undefined && output && <AnswerFacts output={output} />}
    </div>
  );
}
