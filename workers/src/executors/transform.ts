import { NonRetryableError } from '@orchestra/lib';
import { z } from 'zod';
import { JSON_POINTER, PointerError, deepMerge, escapeToken, getAt, removeAt, setAt } from './json-pointer';
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

const apply = (document: JsonValue, op: Operation, field: string): JsonValue => {
  const mustGet = (from: string, name: string): JsonValue => {
    const found = getAt(document, from);
    if (found === undefined) throw new NonRetryableError('BAD_INPUT', `${field}.${name}: nothing at ${JSON.stringify(from)}`);
    return found;
  };
  switch (op.op) {
    case 'set':
      return setAt(document, op.path, structuredClone(op.value));
    case 'copy':
      return setAt(document, op.path, structuredClone(mustGet(op.from, 'from')));
    case 'remove':
      return removeAt(document, op.path);
    case 'merge':
      return setAt(document, op.path, deepMerge(getAt(document, op.path), structuredClone(op.value)));
    case 'pick': {
      let picked: JsonValue = {};
      for (const path of op.paths) {
        const found = getAt(document, path);
        // Arrays in a picked path become objects keyed by index: positions are kept, gaps are not invented.
        if (found !== undefined) picked = setAt(picked, path, structuredClone(found));
      }
      return picked;
    }
    case 'select': {
      let selected: JsonValue = {};
      for (const [name, from] of Object.entries(op.fields)) {
        selected = setAt(selected, `/${escapeToken(name)}`, structuredClone(mustGet(from, `fields.${name}`)));
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
        let document = structuredClone(value);
        operations.forEach((op, i) => {
          try {
            document = apply(document, op, `input.operations[${i}]`);
          } catch (error) {
            if (error instanceof PointerError) throw new NonRetryableError('BAD_INPUT', `input.operations[${i}]: ${error.message}`, { cause: error });
            throw error;
          }
        });
        return document;
      }),
  });
