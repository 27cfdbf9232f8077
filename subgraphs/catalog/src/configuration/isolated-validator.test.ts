import { AppError } from '@orchestra/lib';
import { createIsolatedConfigValidator, type IsolatedConfigValidator } from './isolated-validator';
import { createConfigValidator } from './json-schema';

const schema = {
  type: 'object',
  properties: {
    slug: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
    temperature: { type: 'number', maximum: 2 },
  },
  required: ['slug'],
};
// Exponential backtracking on a string of a's that ends in something else.
const evil = { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } };
const evilConfig = { name: `${'a'.repeat(40)}!` };

let validator: IsolatedConfigValidator;
beforeEach(() => {
  validator = createIsolatedConfigValidator({ timeoutMs: 400 });
});
afterEach(async () => {
  await validator.close();
});

it('finds the same violations as validating in process', async () => {
  // Its own time limit: the first call starts the worker thread, which a loaded machine can make take
  // longer than the 400 ms the backtracking test below needs.
  const roomy = createIsolatedConfigValidator({ timeoutMs: 20_000 });
  try {
    const config = { slug: 'Not A Slug', temperature: 3 };
    expect(await roomy.violations(schema, config, 'config')).toEqual(createConfigValidator().violations(schema, config));
    expect(await roomy.violations(schema, { slug: 'good-slug' }, 'config')).toEqual([]);
  } finally {
    await roomy.close();
  }
});

it('refuses a validation that backtracks past the time limit, naming the field, without blocking the event loop', async () => {
  let ticks = 0;
  const ticker = setInterval(() => (ticks += 1), 20);
  const started = Date.now();
  const error = await validator.violations(evil, evilConfig, 'input.config').then(
    () => undefined,
    (e: unknown) => e,
  );
  clearInterval(ticker);
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.config', reason: 'CONFIG_VALIDATION_TIMEOUT' });
  expect((error as AppError).message).toMatch(/input\.config took longer than 400 ms to validate .* "pattern" in the schema most likely backtracks catastrophically/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  // The loop kept turning while the worker was stuck (it would not have with validation in process).
  expect(ticks).toBeGreaterThanOrEqual(5);
});

it('keeps validating after a runaway validation (on a new worker), and queues validations behind it', async () => {
  // A roomier limit than 400 ms: the runaway (2^40 steps) passes any limit, while the validations after
  // it run on a freshly started thread, which a loaded CI machine can slow past 400 ms.
  const roomy = createIsolatedConfigValidator({ timeoutMs: 3_000 });
  try {
    const runaway = roomy.violations(evil, evilConfig, 'config').catch((e: unknown) => e);
    const next = roomy.violations(schema, { slug: 'x', temperature: 5 }, 'config');
    expect(await runaway).toMatchObject({ reason: 'CONFIG_VALIDATION_TIMEOUT' });
    expect(await next).toEqual([{ path: '/temperature', message: 'must be <= 2' }]);
    expect(await roomy.violations(evil, { name: 'aaa' }, 'config')).toEqual([]);
  } finally {
    await roomy.close();
  }
});

it('reports an invalid schema on the calling thread, naming the schema', async () => {
  await expect(validator.violations({ type: 'objekt' }, {}, 'config')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'configSchema' });
});

it('refuses work after close', async () => {
  await validator.close();
  await expect(validator.violations(schema, { slug: 'a' }, 'config')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
});
