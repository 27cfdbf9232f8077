import { toApiError } from './api/errors';

/**
 * Where the API says a workflow definition is wrong. The orchestration subgraph names the step in
 * its message and points `field` at it (`input.steps[2].dependsOn` for createWorkflow,
 * `steps[2].dependsOn` for publishWorkflowVersion), so the editor can put the message on that step.
 */
export interface StepProblem {
  message: string;
  /** Index into the submitted steps, when the API pointed at one. */
  stepIndex?: number | undefined;
  /** The step's id, when known. */
  stepId?: string | undefined;
  /** What inside the step (`dependsOn`, `retry.maxAttempts`, `input`...). */
  property?: string | undefined;
  reason?: string | undefined;
}

const STEP_FIELD = /(?:^|\.)steps\[(\d+)\](?:\.(.+))?$/;

export function stepProblemOf(error: unknown, steps: ReadonlyArray<{ id?: unknown }> = []): StepProblem {
  const apiError = toApiError(error);
  const problem: StepProblem = { message: apiError.message, reason: apiError.reason };
  const match = apiError.field ? STEP_FIELD.exec(apiError.field) : null;
  if (match) {
    const index = Number(match[1]);
    problem.stepIndex = index;
    problem.property = match[2];
    const id = steps[index]?.id;
    if (typeof id === 'string') problem.stepId = id;
  }
  if (problem.stepId === undefined) {
    const named = /step "([^"]+)"/.exec(apiError.message);
    if (named?.[1]) {
      problem.stepId = named[1];
      if (problem.stepIndex === undefined) {
        const index = steps.findIndex((s) => s.id === named[1]);
        if (index !== -1) problem.stepIndex = index;
      }
    }
  }
  return problem;
}

export interface JsonProblem {
  message: string;
  line?: number | undefined;
  column?: number | undefined;
}

/** Parses JSON typed by a person; a syntax error says where (line and column). */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problem: JsonProblem } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    if (lineColumn) return { ok: false, problem: { message, line: Number(lineColumn[1]), column: Number(lineColumn[2]) } };
    const position = /position (\d+)/.exec(message);
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset).split('\n');
      return { ok: false, problem: { message, line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 } };
    }
    return { ok: false, problem: { message } };
  }
}

/**
 * Checks the shape the API needs before sending (an array of objects with an id and a capability),
 * so a typo is caught here; everything else (cycles, unknown capabilities, templates) the API judges.
 */
export function checkStepsShape(value: unknown): StepProblem | undefined {
  if (!Array.isArray(value)) return { message: 'The definition must be a JSON array of steps: [{ "id": "...", "capability": "..." }, ...]' };
  if (value.length === 0) return { message: 'A workflow needs at least one step.' };
  for (let i = 0; i < value.length; i += 1) {
    const step: unknown = value[i];
    if (typeof step !== 'object' || step === null || Array.isArray(step)) return { message: `Step ${i + 1} must be an object.`, stepIndex: i };
    const { id, capability, dependsOn } = step as Record<string, unknown>;
    const named = typeof id === 'string' ? id : undefined;
    if (typeof id !== 'string' || id === '') return { message: `Step ${i + 1} needs an "id" (a string).`, stepIndex: i, property: 'id' };
    if (typeof capability !== 'string' || capability === '') return { message: `step "${id}" needs a "capability" (a string).`, stepIndex: i, stepId: named, property: 'capability' };
    if (dependsOn !== undefined && (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))) {
      return { message: `step "${id}": "dependsOn" must be a list of step ids.`, stepIndex: i, stepId: named, property: 'dependsOn' };
    }
  }
  return undefined;
}
