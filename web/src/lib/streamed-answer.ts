import type { RunEvent } from './run-events';

/**
 * A model's answer as it grows on the run page: the text a task's latest attempt had streamed when
 * it was fetched (`Task.streamedOutput`), with the TASK_OUTPUT_DELTA events that came after it
 * applied by offset. Applying by offset makes a delta seen twice harmless (it rewrites the same
 * characters) and shows a gap (a delta that starts past the text's end): then the page fetches the
 * text again.
 */

/** Capabilities whose attempts stream TASK_OUTPUT_DELTA events: a model's answer (llm), a browser agent's step lines. */
export const STREAMING_CAPABILITIES: ReadonlySet<string> = new Set(['llm', 'browser.agent']);
/** Of those, the ones whose streamed text is an answer the run page shows as it grows. */
export const ANSWER_CAPABILITIES: ReadonlySet<string> = new Set(['llm']);

export interface StreamedAnswer {
  attemptId: string | null;
  text: string;
  /** A delta was missed: fetch `streamedOutput` again. */
  gap: boolean;
}

export interface FetchedStreamedOutput {
  attemptId: string;
  text: string;
  throughSeq: number;
}

export function foldStreamedAnswer(fetched: FetchedStreamedOutput | null | undefined, events: readonly RunEvent[], taskId: string): StreamedAnswer {
  const answer: StreamedAnswer = { attemptId: fetched?.attemptId ?? null, text: fetched?.text ?? '', gap: false };
  const after = fetched?.throughSeq ?? 0;
  const deltas = events.filter((e) => e.kind === 'TASK_OUTPUT_DELTA' && e.taskId === taskId && e.outputDelta && e.seq > after).sort((a, b) => a.seq - b.seq);
  for (const event of deltas) {
    const delta = event.outputDelta!;
    const attemptId = event.attemptId ?? answer.attemptId;
    if (delta.restart || attemptId !== answer.attemptId) {
      // A new attempt, or this one started afresh (a fallback, a re-ask).
      answer.attemptId = attemptId;
      answer.text = delta.offset === 0 ? delta.text : '';
      answer.gap = delta.offset !== 0;
      continue;
    }
    if (delta.offset > answer.text.length) {
      answer.gap = true;
      continue;
    }
    answer.text = answer.text.slice(0, delta.offset) + delta.text;
  }
  return answer;
}
