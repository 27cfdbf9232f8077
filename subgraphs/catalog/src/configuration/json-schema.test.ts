import { AppError } from '@orchestra/lib';
import { canonicalJson, createConfigValidator, describeViolations } from './json-schema';

const schema = {
  type: 'object',
  properties: {
    model: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        temperature: { type: 'number', minimum: 0, maximum: 2 },
      },
      required: ['name'],
      additionalProperties: false,
    },
    endpoint: { type: 'string', format: 'uri' },
  },
  required: ['model'],
};

const caught = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
};

describe('config validation against the app schema', () => {
  const validator = createConfigValidator();

  it('accepts a config that fits', () => {
    expect(validator.violations(schema, { model: { name: 'gpt', temperature: 0.7 }, endpoint: 'https://api.example.com/v1' })).toEqual([]);
  });

  it('names each failing path as a JSON Pointer with what is wrong there', () => {
    const violations = validator.violations(schema, { model: { temperature: 3, topK: 5 }, endpoint: 'not a uri' });
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: '/model/temperature', message: 'must be <= 2' },
        { path: '/model/name', message: 'is required' },
        { path: '/model/topK', message: 'is not allowed (not in the schema)' },
        { path: '/endpoint', message: 'must match format "uri"' },
      ]),
    );
    expect(describeViolations(violations)).toContain('/model/temperature must be <= 2');
  });

  it('reports a wrong type at the root as "/"', () => {
    expect(validator.violations(schema, [1, 2])).toEqual([{ path: '/', message: 'must be object' }]);
  });

  it('escapes property names inside pointers', () => {
    const violations = validator.violations({ type: 'object', required: ['a/b~c'] }, {});
    expect(violations).toEqual([{ path: '/a~1b~0c', message: 'is required' }]);
  });
});

describe('checking a schema is itself a valid JSON Schema', () => {
  const validator = createConfigValidator();

  it.each([
    ['a wrong type name', { type: 'objekt' }, /schema is not a valid JSON Schema: \/type must be equal to one of the allowed values/],
    ['an unknown keyword', { type: 'object', propertees: {} }, /schema is not a usable JSON Schema: strict mode: unknown keyword: "propertees"/],
    ['an unknown format', { type: 'string', format: 'colour' }, /unknown format "colour"/],
    ['a $ref to nowhere', { $ref: 'https://evil.example.com/schema.json' }, /can't resolve reference/],
    ['not an object', [1], /schema must be a JSON Schema object/],
    ['a schema over 64 KiB', { type: 'object', description: 'd'.repeat(70 * 1024) }, /schema is larger than 64 KiB/],
    ['an unsupported dialect', { $schema: 'http://json-schema.org/draft-04/schema#' }, /is not supported/],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_name, bad, message) => {
    const error = caught(() => validator.checkSchema(bad, 'schema'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toMatch(/^schema/);
    expect(error.message).toMatch(message);
  });

  it('accepts draft-07 (default), 2019-09 and 2020-12 schemas', () => {
    expect(() => validator.checkSchema({ type: 'object' }, 'schema')).not.toThrow();
    expect(() => validator.checkSchema({ $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object' }, 'schema')).not.toThrow();
    const v2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }] };
    expect(() => validator.checkSchema(v2020, 'schema')).not.toThrow();
    expect(validator.violations(v2020, [5])).toEqual([{ path: '/0', message: 'must be string' }]);
  });

  it('keeps schemas apart: one schema cannot $ref another one by its $id', () => {
    const shared = { $id: 'https://orchestra.test/secret.json', type: 'object', required: ['secret'] };
    validator.checkSchema(shared, 'schema');
    // Compiled once in this validator, the $id is not reachable from a second schema.
    const error = caught(() => validator.checkSchema({ $ref: 'https://orchestra.test/secret.json' }, 'schema'));
    expect(error.message).toMatch(/can't resolve reference/);
    // And the same $id in two schemas does not collide.
    expect(() => validator.checkSchema({ ...shared, required: [] }, 'schema')).not.toThrow();
  });

  it('hashes schemas independently of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: 2 } })).toBe('{"a":{"c":2,"d":[1,{"e":2,"f":1}]},"b":1}');
  });
});
