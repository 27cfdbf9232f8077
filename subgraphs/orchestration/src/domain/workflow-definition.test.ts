import { AppError } from '@orchestra/lib';
import { BUILTIN_CAPABILITIES, DEFAULT_RETRY, topologicalOrder, validateSteps, type StepInput } from './workflow-definition';

const caps = new Set<string>(BUILTIN_CAPABILITIES);

function rejection(steps: StepInput[], capabilities: Set<string> = caps): AppError {
  try {
    validateSteps(steps, capabilities);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the steps to be rejected');
}

describe('validateSteps', () => {
  it('accepts a DAG with fan-out and fan-in and fills in defaults', () => {
    const steps = validateSteps(
      [
        { id: 'fetch', capability: 'http.request', input: { url: '{{ input.url }}' } },
        { id: 'left', capability: 'transform', dependsOn: ['fetch'], input: { v: '{{ steps.fetch.output.body }}' } },
        { id: 'right', capability: 'transform', dependsOn: ['fetch'] },
        { id: 'join', capability: 'transform', dependsOn: ['left', 'right'], input: { a: '{{ steps.left.output }}', b: '{{ steps.fetch.output.status }}' } },
      ],
      caps,
    );
    expect(steps.map((s) => s.id)).toEqual(['fetch', 'left', 'right', 'join']);
    expect(steps[0]).toMatchObject({ dependsOn: [], retry: DEFAULT_RETRY, pool: 'default', labels: {}, timeoutMs: 300_000 });
    expect(topologicalOrder([...steps].reverse()).map((s) => s.id)).toEqual(['fetch', 'left', 'right', 'join']);
  });

  it.each<[string, StepInput[], string, string, RegExp]>([
    ['a duplicate id', [{ id: 'a', capability: 'noop' }, { id: 'a', capability: 'noop' }], 'DUPLICATE_STEP', 'input.steps[1].id', /step "a" is defined twice/],
    ['an unknown dependency', [{ id: 'a', capability: 'noop' }, { id: 'b', capability: 'noop', dependsOn: ['zz'] }], 'UNKNOWN_DEPENDENCY', 'input.steps[1].dependsOn', /step "b" depends on unknown step "zz"/],
    ['a self dependency', [{ id: 'a', capability: 'noop', dependsOn: ['a'] }], 'CYCLE', 'input.steps[0].dependsOn', /step "a" depends on itself/],
    [
      'a cycle',
      [
        { id: 'start', capability: 'noop' },
        { id: 'a', capability: 'noop', dependsOn: ['start', 'c'] },
        { id: 'b', capability: 'noop', dependsOn: ['a'] },
        { id: 'c', capability: 'noop', dependsOn: ['b'] },
      ],
      'CYCLE',
      'input.steps[1].dependsOn',
      /step "a" is part of a cycle: a → b → c → a/,
    ],
    ['an unknown capability', [{ id: 'gen', capability: 'llm.generate' }], 'UNKNOWN_CAPABILITY', 'input.steps[0].capability', /step "gen": unknown capability "llm.generate"/],
    ['an invalid id', [{ id: '9 lives', capability: 'noop' }], 'INVALID_STEP_ID', 'input.steps[0].id', /must start with a letter/],
    ['zero attempts', [{ id: 'a', capability: 'noop', retry: { maxAttempts: 0 } }], 'OUT_OF_RANGE', 'input.steps[0].retry.maxAttempts', /step "a": retry.maxAttempts must be an integer between 1 and 100/],
    ['maxDelay below initial', [{ id: 'a', capability: 'noop', retry: { initialDelayMs: 500, maxDelayMs: 100 } }], 'OUT_OF_RANGE', 'input.steps[0].retry.maxDelayMs', /must not be below/],
    ['a zero timeout', [{ id: 'a', capability: 'noop', timeoutMs: 0 }], 'OUT_OF_RANGE', 'input.steps[0].timeoutMs', /step "a": timeoutMs/],
    ['a bad pool', [{ id: 'a', capability: 'noop', pool: 'GPU:1' }], 'INVALID_POOL', 'input.steps[0].pool', /pool "GPU:1"/],
    ['a malformed template', [{ id: 'a', capability: 'noop', input: { x: '{{ input..x }}' } }], 'INVALID_TEMPLATE', 'input.steps[0].input', /step "a": .*not a valid reference/],
    ['an unknown template root', [{ id: 'a', capability: 'noop', input: '{{ env.x }}' }], 'INVALID_TEMPLATE', 'input.steps[0].input', /starts with input\., steps/],
    ['a secret reference with a path after the name', [{ id: 'a', capability: 'noop', input: '{{ secrets.KEY.part }}' }], 'INVALID_TEMPLATE', 'input.steps[0].input', /nothing after the name/],
    [
      'a reference to an unknown step',
      [{ id: 'a', capability: 'noop', input: { x: 'id={{ steps.nope.output.id }}' } }],
      'UNKNOWN_STEP_REFERENCE',
      'input.steps[0].input',
      /step "a": "\{\{ steps.nope.output.id \}\}" references unknown step "nope"/,
    ],
    [
      'a reference to a step that is not upstream',
      [
        { id: 'a', capability: 'noop' },
        { id: 'b', capability: 'noop' },
        { id: 'c', capability: 'noop', dependsOn: ['a'], input: { x: '{{ steps.b.output }}' } },
      ],
      'REFERENCE_NOT_UPSTREAM',
      'input.steps[2].input',
      /step "c": .* reads step "b", which is not upstream of "c"/,
    ],
    ['no steps', [], 'NO_STEPS', 'input.steps', /at least one step/],
  ])('rejects %s with BAD_USER_INPUT naming the step', (_name, steps, reason, field, message) => {
    const error = rejection(steps);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.reason).toBe(reason);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('accepts a reference to a transitive ancestor', () => {
    expect(() =>
      validateSteps(
        [
          { id: 'a', capability: 'noop' },
          { id: 'b', capability: 'noop', dependsOn: ['a'] },
          { id: 'c', capability: 'noop', dependsOn: ['b'], input: '{{ steps.a.output }}' },
        ],
        caps,
      ),
    ).not.toThrow();
  });

  it('accepts a capability a registered worker advertises', () => {
    expect(() => validateSteps([{ id: 'gen', capability: 'llm.generate' }], new Set([...caps, 'llm.generate']))).not.toThrow();
  });
});
