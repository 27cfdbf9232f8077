import { encodedJsonSize, MAX_JSON_DEPTH, MAX_TASK_VALUE_BYTES, measureJson, NonRetryableError } from '@orchestra/lib/worker';
import { z } from 'zod';
import { JSON_POINTER, PointerError, deepMerge, escapeToken, getAt, parsePointer, removeAt, setAt } from './json-pointer';
import { defineExecutor, type ExecutorFactory, type JsonValue } from './types';

const pointer = z.string({ error: 'expects a JSON pointer such as /body/items/0' }).regex(JSON_POINTER, {
  error: 'expects a JSON pointer such as /body/items/0 ("" is the whole document)',
});
const json = z.custom<JsonValue>((v) => v !== undefined, { error: 'expects a JSON value' });

const operation = z.discriminatedUnion(
  'op',
  [
    /** Puts `value` at `path`, creating objects on the way (`-` appends to an array). */
    z.object({ op: z.literal('set'), path: pointer, value: json }),
    /** Copies what is at `from` to `path`; `from` must exist. */
    z.object({ op: z.literal('copy'), from: pointer, path: pointer }),
    /** Deletes what is at `path` (nothing happens when there is nothing). */
    z.object({ op: z.literal('remove'), path: pointer }),
    /** Deep-merges the object `value` into the object at `path` (default the whole document). */
    z.object({ op: z.literal('merge'), path: pointer.default(''), value: z.record(z.string(), json, { error: 'expects an object to merge' }) }),
    /** Keeps only the listed pointers (their structure is kept; missing ones are skipped). */
    z.object({ op: z.literal('pick'), paths: z.array(pointer).min(1, { error: 'expects at least one pointer' }) }),
    /** Replaces the document with a new object: each field takes the value at its pointer, which must exist. */
    z.object({ op: z.literal('select'), fields: z.record(z.string(), pointer) }),
  ],
  { error: 'expects an operation with op one of set, copy, remove, merge, pick, select' },
);

const transformInput = z.object({
  /** The starting document: usually built from upstream outputs by the orchestrator's templates. */
  value: json.default({}),
  operations: z.array(operation).max(1000).default([]),
});

type Operation = z.infer<typeof operation>;

/**
 * Bounds of one transform (issue 9 item 6: `copy` from "" doubles the document, so 40 of them took a
 * worker down): the document stays within MAX_TASK_VALUE_BYTES (as encoded) and MAX_JSON_DEPTH after
 * every operation, and the bytes all operations put into it (and measure) stay within `workBytes`, so
 * a transform costs at most a few hundred milliseconds of one core whatever its operations. Every
 * bound fails the task without a retry: the same input fails the same way on any worker.
 */
export const TRANSFORM_LIMITS = { documentBytes: MAX_TASK_VALUE_BYTES, depth: MAX_JSON_DEPTH, workBytes: 8 * MAX_TASK_VALUE_BYTES } as const;

/** A transform's running costs: an upper bound of the document's encoded size, and the bytes handled so far. */
interface Budget {
  documentBytes: number;
  workBytes: number;
}

const spend = (budget: Budget, bytes: number, field: string): void => {
  budget.workBytes += bytes;
  if (budget.workBytes > TRANSFORM_LIMITS.workBytes) {
    throw new NonRetryableError('TRANSFORM_LIMIT', `${field}: the operations handle more than ${TRANSFORM_LIMITS.workBytes} bytes in all (the limit of one transform)`);
  }
};

/**
 * Measures a value about to be put at `path`: it must fit in the document's size and, below the
 * path, within the depth limit. Counts it as work and returns its size.
 */
const admit = (budget: Budget, value: JsonValue, path: string, field: string): number => {
  const below = TRANSFORM_LIMITS.depth - parsePointer(path).length;
  const { bytes, violation } = measureJson(value, { maxDepth: Math.max(below, 0), maxBytes: TRANSFORM_LIMITS.documentBytes, text: false });
  spend(budget, bytes, field);
  if (violation?.reason === 'JSON_TOO_LARGE') throw new NonRetryableError('OUTPUT_TOO_LARGE', `${field}: the value is larger than ${TRANSFORM_LIMITS.documentBytes} bytes (the limit of a task's output)`);
  if (violation?.reason === 'JSON_TOO_DEEP' || (below < 0 && value !== null && typeof value === 'object')) {
    throw new NonRetryableError('OUTPUT_TOO_DEEP', `${field}: the document would be nested more than ${TRANSFORM_LIMITS.depth} levels deep`);
  }
  return bytes;
};

/** After an operation that added `added` bytes: re-measures the document when the bound says it may be too large. */
const settle = (budget: Budget, document: JsonValue, added: number, field: string): void => {
  budget.documentBytes += added;
  if (budget.documentBytes <= TRANSFORM_LIMITS.documentBytes) return;
  const exact = encodedJsonSize(document, TRANSFORM_LIMITS.documentBytes);
  spend(budget, Math.min(exact, TRANSFORM_LIMITS.documentBytes), field);
  if (exact > TRANSFORM_LIMITS.documentBytes) throw new NonRetryableError('OUTPUT_TOO_LARGE', `${field}: the document would be larger than ${TRANSFORM_LIMITS.documentBytes} bytes (the limit of a task's output)`);
  budget.documentBytes = exact;
};

const apply = (document: JsonValue, op: Operation, field: string, budget: Budget): JsonValue => {
  const mustGet = (from: string, name: string): JsonValue => {
    const found = getAt(document, from);
    if (found === undefined) throw new NonRetryableError('BAD_INPUT', `${field}.${name}: nothing at ${JSON.stringify(from)}`);
    return found;
  };
  /** Puts a copy of `value` at `path` of `target`, within the bounds. */
  const put = (target: JsonValue, path: string, value: JsonValue): JsonValue => {
    const bytes = admit(budget, value, path, field);
    const next = setAt(target, path, structuredClone(value));
    settle(budget, next, bytes, field);
    return next;
  };
  switch (op.op) {
    case 'set':
      return put(document, op.path, op.value);
    case 'copy':
      return put(document, op.path, mustGet(op.from, 'from'));
    case 'remove':
      return removeAt(document, op.path);
    case 'merge': {
      const bytes = admit(budget, op.value, op.path, field);
      const next = setAt(document, op.path, deepMerge(getAt(document, op.path), structuredClone(op.value)));
      settle(budget, next, bytes, field);
      return next;
    }
    case 'pick': {
      // A new document: its size is counted from zero.
      budget.documentBytes = 0;
      let picked: JsonValue = {};
      for (const path of op.paths) {
        const found = getAt(document, path);
        // Arrays in a picked path become objects keyed by index: positions are kept, gaps are not invented.
        if (found !== undefined) picked = put(picked, path, found);
      }
      return picked;
    }
    case 'select': {
      budget.documentBytes = 0;
      let selected: JsonValue = {};
      for (const [name, from] of Object.entries(op.fields)) {
        selected = put(selected, `/${escapeToken(name)}`, mustGet(from, `fields.${name}`));
      }
      return selected;
    }
  }
};

/**
 * Builds a JSON output from its input: `value` (default {}), then each of `operations` in order over
 * JSON pointers (set, copy, remove, merge, pick, select). See executors/README.md for examples.
 */
export const createTransformExecutor: ExecutorFactory = () =>
  defineExecutor({
    capability: 'transform',
    description: 'builds JSON from { value, operations: [set|copy|remove|merge|pick|select over JSON pointers] }',
    input: transformInput,
    run: ({ value, operations }) =>
      Promise.resolve().then(() => {
        // The starting value came in one gRPC message: it is within the bounds already.
        const budget: Budget = { documentBytes: encodedJsonSize(value), workBytes: 0 };
        let document = structuredClone(value);
        operations.forEach((op, i) => {
          try {
            document = apply(document, op, `input.operations[${i}]`, budget);
          } catch (error) {
            if (error instanceof PointerError) throw new NonRetryableError('BAD_INPUT', `input.operations[${i}]: ${error.message}`, { cause: error });
            throw error;
          }
        });
        return document;
      }),
  });
