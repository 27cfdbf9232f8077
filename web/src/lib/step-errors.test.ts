import { ApiError } from './api/errors';
import { checkStepsShape, parseJsonText, stepProblemOf } from './step-errors';

const steps = [{ id: 'fetch' }, { id: 'parse' }, { id: 'store' }];

describe('step problems', () => {
  it('puts the API message on the step its field points at (createWorkflow and publishWorkflowVersion)', () => {
    const created = new ApiError({ message: 'step "parse" depends on unknown step "ghost"', code: 'BAD_USER_INPUT', field: 'input.steps[1].dependsOn', reason: 'UNKNOWN_DEPENDENCY' });
    expect(stepProblemOf(created, steps)).toEqual({ message: created.message, reason: 'UNKNOWN_DEPENDENCY', stepIndex: 1, stepId: 'parse', property: 'dependsOn' });
    const published = new ApiError({ message: 'step "store": retry.maxAttempts must be an integer between 1 and 100 (got 0)', code: 'BAD_USER_INPUT', field: 'steps[2].retry.maxAttempts' });
    expect(stepProblemOf(published, steps)).toMatchObject({ stepIndex: 2, stepId: 'store', property: 'retry.maxAttempts' });
  });

  it('falls back to the step named in the message', () => {
    const error = new ApiError({ message: 'step "fetch" is part of a cycle: fetch → store → fetch', code: 'BAD_USER_INPUT' });
    expect(stepProblemOf(error, steps)).toMatchObject({ stepIndex: 0, stepId: 'fetch' });
  });

  it('leaves errors that are about no step alone', () => {
    const error = new ApiError({ message: 'a workflow named "x" exists already', code: 'CONFLICT' });
    expect(stepProblemOf(error, steps)).toEqual({ message: error.message, reason: undefined });
  });

  it('says where JSON is broken', () => {
    const result = parseJsonText('[\n  { "id": "a", }\n]');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem.line).toBe(2);
      expect(result.problem.column).toBeGreaterThan(1);
    }
    expect(parseJsonText('[{"id":"a"}]')).toEqual({ ok: true, value: [{ id: 'a' }] });
  });

  it('checks the shape the API needs before sending', () => {
    expect(checkStepsShape({})?.message).toMatch(/array/);
    expect(checkStepsShape([])?.message).toMatch(/at least one step/);
    expect(checkStepsShape([{ id: 'a', capability: 'noop' }, { capability: 'noop' }])).toMatchObject({ stepIndex: 1, property: 'id' });
    expect(checkStepsShape([{ id: 'a' }])).toMatchObject({ stepIndex: 0, stepId: 'a', property: 'capability' });
    expect(checkStepsShape([{ id: 'a', capability: 'noop', dependsOn: 'b' }])).toMatchObject({ property: 'dependsOn' });
    expect(checkStepsShape([{ id: 'a', capability: 'noop', dependsOn: ['b'] }])).toBeUndefined();
  });
});
