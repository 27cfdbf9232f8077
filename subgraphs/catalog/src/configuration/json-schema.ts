import { createHash } from 'node:crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
// The errors module alone (lib's `./errors` export), not the whole of lib: this module is also loaded
// by the config validation worker thread (isolated-validator.ts), which then starts in ~0.4 s, not ~1.6 s.
import { AppError, badInput } from '@orchestra/lib/errors';

/** One way a config fails its schema: a JSON Pointer into the config and what is wrong there. */
export interface ConfigViolation {
  path: string;
  message: string;
}

/** The JSON Schema dialects an app's config schema may declare with `$schema` (none means draft-07). */
const DIALECTS = {
  'draft-07': ['http://json-schema.org/draft-07/schema', 'https://json-schema.org/draft-07/schema'],
  '2019-09': ['https://json-schema.org/draft/2019-09/schema', 'http://json-schema.org/draft/2019-09/schema'],
  '2020-12': ['https://json-schema.org/draft/2020-12/schema', 'http://json-schema.org/draft/2020-12/schema'],
} as const;
type Dialect = keyof typeof DIALECTS;

export const MAX_SCHEMA_BYTES = 64 * 1024;
/** Violations reported per failure; beyond this the message says how many more there were. */
const MAX_VIOLATIONS = 20;

const dialectOf = (schema: Record<string, unknown>, field: string): Dialect => {
  const declared = schema['$schema'];
  if (declared === undefined) return 'draft-07';
  if (typeof declared !== 'string') throw badInput(`${field}.$schema`, `${field}.$schema must be a string naming a JSON Schema dialect`, 'INVALID_JSON_SCHEMA');
  const uri = declared.replace(/#$/, '');
  for (const [dialect, uris] of Object.entries(DIALECTS) as Array<[Dialect, readonly string[]]>) {
    if (uris.includes(uri)) return dialect;
  }
  throw badInput(
    `${field}.$schema`,
    `${field}.$schema ${JSON.stringify(declared)} is not supported: use draft-07 (the default), 2019-09 or 2020-12`,
    'UNSUPPORTED_JSON_SCHEMA_DIALECT',
  );
};

// Each compiled schema gets an Ajv instance of its own: a schema's `$id` registers it in its Ajv,
// and a shared instance would let one org's schema `$ref` another org's (or collide with it).
const newAjv = (dialect: Dialect): Ajv => {
  const options = { allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false as const };
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : dialect === '2019-09' ? new Ajv2019(options) : new Ajv(options);
  // ajv-formats resolves its own copy of ajv; the instance is the same class at runtime.
  (addFormats as unknown as (a: Ajv) => Ajv)(ajv);
  return ajv;
};

/** JSON with object keys sorted, so the same schema always hashes the same (jsonb reorders keys). */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export function toViolation(error: ErrorObject): ConfigViolation {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    return { path: `${at}/${escapePointer(params['missingProperty'])}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
    return { path: `${at}/${escapePointer(params['additionalProperty'])}`, message: 'is not allowed (not in the schema)' };
  }
  return { path: at === '' ? '/' : at, message: error.message ?? `fails ${error.keyword}` };
}

/** "a must be x; b is required (and 3 more)" */
export function describeViolations(violations: ConfigViolation[]): string {
  const shown = violations.slice(0, 5).map((v) => `${v.path} ${v.message}`);
  const more = violations.length - shown.length;
  return `${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`;
}

export interface ConfigValidator {
  /**
   * Throws BAD_USER_INPUT naming `field` (and the place inside the schema) unless `schema` is a JSON
   * Schema object that its dialect's meta-schema accepts and that compiles (no unknown keywords or
   * formats, no unresolvable $ref).
   */
  checkSchema(schema: unknown, field: string): void;
  /** The ways `config` fails `schema` (empty when it is valid). The schema must have passed checkSchema. */
  violations(schema: unknown, config: unknown): ConfigViolation[];
}

/**
 * Validates app configs against their JSON Schemas with ajv. Compiled validators are kept in a
 * bounded LRU keyed by the schema's canonical hash, so validating many configs of the same app does
 * not recompile and memory stays bounded however many schemas pass through.
 */
export function createConfigValidator({ cacheSize = 256 }: { cacheSize?: number } = {}): ConfigValidator {
  const compiled = new Map<string, ValidateFunction>();

  const compile = (schema: Record<string, unknown>, field: string): ValidateFunction => {
    const json = canonicalJson(schema);
    const key = createHash('sha256').update(json).digest('hex');
    const hit = compiled.get(key);
    if (hit) {
      compiled.delete(key);
      compiled.set(key, hit);
      return hit;
    }
    if (Buffer.byteLength(json) > MAX_SCHEMA_BYTES) {
      throw badInput(field, `${field} is larger than ${MAX_SCHEMA_BYTES / 1024} KiB`, 'JSON_SCHEMA_TOO_LARGE');
    }
    const ajv = newAjv(dialectOf(schema, field));
    if (!ajv.validateSchema(schema)) {
      const problems = (ajv.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? e.keyword}`);
      throw new AppError('BAD_USER_INPUT', `${field} is not a valid JSON Schema: ${problems.slice(0, 5).join('; ')}`, {
        field,
        reason: 'INVALID_JSON_SCHEMA',
        details: { problems: problems.slice(0, MAX_VIOLATIONS) },
      });
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw badInput(field, `${field} is not a usable JSON Schema: ${message}`, 'INVALID_JSON_SCHEMA');
    }
    compiled.set(key, validate);
    if (compiled.size > cacheSize) {
      const oldest = compiled.keys().next().value;
      if (oldest !== undefined) compiled.delete(oldest);
    }
    return validate;
  };

  const asSchemaObject = (schema: unknown, field: string): Record<string, unknown> => {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw badInput(field, `${field} must be a JSON Schema object (e.g. {"type": "object", "properties": {...}})`, 'INVALID_JSON_SCHEMA');
    }
    return schema as Record<string, unknown>;
  };

  return {
    checkSchema(schema, field) {
      compile(asSchemaObject(schema, field), field);
    },
    violations(schema, config) {
      const validate = compile(asSchemaObject(schema, 'configSchema'), 'configSchema');
      if (validate(config)) return [];
      const seen = new Set<string>();
      const out: ConfigViolation[] = [];
      for (const error of validate.errors ?? []) {
        const violation = toViolation(error);
        const key = `${violation.path} ${violation.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(violation);
        if (out.length >= MAX_VIOLATIONS) break;
      }
      return out;
    },
  };
}
