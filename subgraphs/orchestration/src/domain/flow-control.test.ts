import { AppError } from '@orchestra/lib';
import { fairRank } from '../flow-control/fair-share';
import { checkConcurrency, checkForEach, checkRateLimitUses, checkWorkflowOptions, concurrencyKeyOf, effectivePriority, PRIORITY_AGING_MS, queueOrder } from './flow-control';
import { validateSteps } from './workflow-definition';

const caps = new Set(['noop', 'http.request', 'transform']);
const refused = (fn: () => unknown): { field?: string; reason?: string; message: string } => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return { field: error.field, reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('flow control definitions', () => {
  it('take a concurrency policy whose key reads the run input, with QUEUE by default', () => {
    expect(checkConcurrency({ key: ' {{ input.customerId }} ', limit: 2 }, 'input.concurrency', 'the workflow')).toEqual({ key: '{{ input.customerId }}', limit: 2, onLimit: 'QUEUE' });
    expect(checkConcurrency({ key: 'everyone', limit: 1, onLimit: 'CANCEL_OLDEST' }, 'f', 'w')).toEqual({ key: 'everyone', limit: 1, onLimit: 'CANCEL_OLDEST' });
  });

  it('refuse limit 0, a key reading anything but the input, and an empty key, naming the field', () => {
    expect(refused(() => checkConcurrency({ key: '{{ input.c }}', limit: 0 }, 'input.steps[1].concurrency', 'step "b"'))).toMatchObject({
      field: 'input.steps[1].concurrency.limit',
      reason: 'OUT_OF_RANGE',
      message: 'step "b": concurrency.limit must be an integer between 1 and 10000 (got 0)',
    });
    expect(refused(() => checkConcurrency({ key: '{{ steps.a.output.id }}', limit: 1 }, 'input.concurrency', 'the workflow'))).toMatchObject({ field: 'input.concurrency.key', reason: 'INVALID_CONCURRENCY_KEY' });
    expect(refused(() => checkConcurrency({ key: '{{ input..x }}', limit: 1 }, 'input.concurrency', 'the workflow'))).toMatchObject({ field: 'input.concurrency.key', reason: 'INVALID_TEMPLATE' });
    expect(refused(() => checkConcurrency({ key: '  ', limit: 1 }, 'input.concurrency', 'the workflow'))).toMatchObject({ field: 'input.concurrency.key', reason: 'INVALID_CONCURRENCY_KEY' });
  });

  it('compute a key from the run input, refusing an input without the field it reads', () => {
    const policy = { key: 'customer-{{ input.customer.id }}', limit: 1, onLimit: 'QUEUE' as const };
    expect(concurrencyKeyOf(policy, { customer: { id: 42 } }, 'input.input', 'the workflow')).toBe('customer-42');
    expect(concurrencyKeyOf({ ...policy, key: '{{ input.tags }}' }, { tags: ['a', 'b'] }, 'input.input', 'w')).toBe('["a","b"]');
    expect(refused(() => concurrencyKeyOf(policy, { customer: {} }, 'input.input', 'the workflow'))).toMatchObject({
      field: 'input.input',
      reason: 'MISSING_RUN_INPUT',
      message: 'the workflow: the concurrency key "customer-{{ input.customer.id }}" does not fit the run input: "{{ input.customer.id }}": input.customer has no field "id"',
    });
    expect(refused(() => concurrencyKeyOf({ ...policy, key: '{{ input.k }}' }, { k: 'x'.repeat(300) }, 'input.input', 'w')).reason).toBe('CONCURRENCY_KEY_TOO_LONG');
  });

  it('take rate limit uses with one unit by default and refuse doubles and bad units', () => {
    expect(checkRateLimitUses([{ name: 'openai' }, { name: 'crm.writes', units: 3 }], 'f', 's')).toEqual([
      { name: 'openai', units: 1 },
      { name: 'crm.writes', units: 3 },
    ]);
    expect(refused(() => checkRateLimitUses([{ name: 'a' }, { name: 'a' }], 'input.steps[0].rateLimits', 's')).field).toBe('input.steps[0].rateLimits[1].name');
    expect(refused(() => checkRateLimitUses([{ name: 'a', units: 0 }], 'input.steps[0].rateLimits', 's')).field).toBe('input.steps[0].rateLimits[0].units');
    expect(refused(() => checkRateLimitUses([{ name: 'no spaces' }], 'r', 's')).reason).toBe('INVALID_RATE_LIMIT');
  });

  it('take a forEach over one template, refusing maxParallel out of range and a template inside text', () => {
    expect(checkForEach({ items: '{{ steps.list.output.files }}' }, 'f', 's')).toEqual({ items: '{{ steps.list.output.files }}', maxParallel: 10, onItemFailure: 'FAIL_RUN' });
    for (const maxParallel of [0, 1001, 2.5]) {
      expect(refused(() => checkForEach({ items: '{{ input.xs }}', maxParallel }, 'input.steps[2].forEach', 'step "each"'))).toMatchObject({ field: 'input.steps[2].forEach.maxParallel', reason: 'OUT_OF_RANGE' });
    }
    expect(refused(() => checkForEach({ items: 'files: {{ input.xs }}' }, 'x.forEach', 's'))).toMatchObject({ field: 'x.forEach.items', reason: 'INVALID_FOR_EACH' });
    expect(refused(() => checkForEach({ items: '{{ run.id }}' }, 'x.forEach', 's'))).toMatchObject({ field: 'x.forEach.items', reason: 'INVALID_FOR_EACH' });
  });

  it('check the workflow-wide priority and concurrency', () => {
    expect(checkWorkflowOptions({ priority: 5, concurrency: { key: '{{ input.c }}', limit: 3 } })).toEqual({ priority: 5, concurrency: { key: '{{ input.c }}', limit: 3, onLimit: 'QUEUE' } });
    expect(checkWorkflowOptions({})).toEqual({});
    expect(refused(() => checkWorkflowOptions({ priority: 6 }))).toMatchObject({ field: 'input.priority', reason: 'OUT_OF_RANGE' });
    expect(effectivePriority(undefined, undefined, undefined)).toBe(3);
    expect(effectivePriority(undefined, 4, 2)).toBe(4);
    expect(effectivePriority(1, 4, 2)).toBe(1);
  });

  it('are part of a step, with forEach items read from upstream only and {{ item }} only in a forEach step', () => {
    const [, each] = validateSteps(
      [
        { id: 'list', capability: 'http.request', input: { url: 'https://example.com' } },
        {
          id: 'each',
          capability: 'transform',
          dependsOn: ['list'],
          input: { value: { file: '{{ item.name }}', at: '{{ itemIndex }}' } },
          forEach: { items: '{{ steps.list.output.body.files }}', maxParallel: 50, onItemFailure: 'CONTINUE' },
          priority: 5,
          rateLimits: [{ name: 'openai', units: 2 }],
          concurrency: { key: '{{ input.customer }}', limit: 4, onLimit: 'CANCEL_NEWEST' },
        },
      ],
      caps,
    );
    expect(each).toMatchObject({
      forEach: { items: '{{ steps.list.output.body.files }}', maxParallel: 50, onItemFailure: 'CONTINUE' },
      priority: 5,
      rateLimits: [{ name: 'openai', units: 2 }],
      concurrency: { key: '{{ input.customer }}', limit: 4, onLimit: 'CANCEL_NEWEST' },
    });
    expect(
      refused(() =>
        validateSteps(
          [
            { id: 'list', capability: 'noop' },
            { id: 'each', capability: 'noop', forEach: { items: '{{ steps.list.output }}' } },
          ],
          caps,
        ),
      ),
    ).toMatchObject({ field: 'input.steps[1].forEach.items', reason: 'REFERENCE_NOT_UPSTREAM' });
    expect(refused(() => validateSteps([{ id: 'plain', capability: 'noop', input: { x: '{{ item }}' } }], caps))).toMatchObject({ field: 'input.steps[0].input', reason: 'INVALID_TEMPLATE' });
    // A step without flow fields stores none (versions stay as they were).
    expect(validateSteps([{ id: 'plain', capability: 'noop' }], caps)[0]).not.toHaveProperty('rateLimits');
  });
});

describe('queueOrder (priority with aging)', () => {
  const at = Date.UTC(2026, 11, 6, 12, 0, 0);
  it('puts higher priority first among work enqueued at about the same time', () => {
    expect(queueOrder(5, at)).toBeLessThan(queueOrder(3, at));
    expect(queueOrder(3, at)).toBeLessThan(queueOrder(1, at));
    expect(queueOrder(5, at + 3 * PRIORITY_AGING_MS)).toBeLessThan(queueOrder(1, at));
  });
  it('lets priority-1 work that waited 4 aging steps go before priority-5 work arriving later', () => {
    expect(queueOrder(1, at)).toBe(queueOrder(5, at + 4 * PRIORITY_AGING_MS));
    expect(queueOrder(1, at)).toBeLessThan(queueOrder(5, at + 5 * PRIORITY_AGING_MS));
  });
  it("puts another organization's first attempt (fair rank 0) before an organization's backlog (fair rank = attempts ahead / weight)", () => {
    // The 1,000th attempt of a backlog queued now goes after a newcomer queued 10 minutes later.
    expect(queueOrder(3, at + 10 * PRIORITY_AGING_MS, 0)).toBeLessThan(queueOrder(3, at, 999));
    // ... and before one queued 1,000 minutes later: its wait is bounded.
    expect(queueOrder(3, at, 999)).toBeLessThan(queueOrder(3, at + 1_000 * PRIORITY_AGING_MS, 0));
    expect(fairRank(999, 1)).toBe(999);
    expect(fairRank(999, 2)).toBe(499);
    expect(fairRank(5, 0)).toBe(5);
  });
  it('stays within what BullMQ accepts', () => {
    expect(queueOrder(3, at, 10 ** 9)).toBe(2 ** 21 - 1);
    expect(queueOrder(5, 0)).toBe(1);
    expect(queueOrder(1, Date.UTC(2040, 0, 1))).toBe(2 ** 21 - 1);
  });
});
