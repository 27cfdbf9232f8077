import type { JsonValue } from './types';

/** RFC 6901 JSON pointers over plain JSON documents (used by the transform executor). */

export const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

export class PointerError extends Error {
  override readonly name: string = 'PointerError';
}

/** A key as one pointer token ("a/b" is "a~1b"). */
export const escapeToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

export const parsePointer = (pointer: string): string[] => {
  if (!JSON_POINTER.test(pointer)) throw new PointerError(`${JSON.stringify(pointer)} is not a JSON pointer (it starts with "/", or is "" for the whole document)`);
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
};

const isObject = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const arrayIndex = (array: JsonValue[], token: string, forInsert: boolean): number | undefined => {
  if (forInsert && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const index = Number(token);
  return index < array.length || (forInsert && index === array.length) ? index : undefined;
};

/** Defines an own property, so a key such as "__proto__" is data and never a prototype. */
const put = (target: { [key: string]: JsonValue }, key: string, value: JsonValue): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

/** The value at `pointer`, or undefined when there is none. */
export function getAt(document: JsonValue, pointer: string): JsonValue | undefined {
  let current: JsonValue | undefined = document;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) {
      const index = arrayIndex(current, token, false);
      current = index === undefined ? undefined : current[index];
    } else if (isObject(current)) {
      current = Object.hasOwn(current, token) ? current[token] : undefined;
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * Returns the document with `value` at `pointer`, creating missing objects on the way (never
 * overwriting a value in the way). On an array,
 * `-` appends and an index replaces; the document itself is changed in place where possible.
 */
export function setAt(document: JsonValue, pointer: string, value: JsonValue): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const root: JsonValue = isObject(document) || Array.isArray(document) ? document : {};
  let current: JsonValue = root;
  tokens.forEach((token, i) => {
    const last = i === tokens.length - 1;
    if (Array.isArray(current)) {
      const index = arrayIndex(current, token, true);
      if (index === undefined) throw new PointerError(`${pointer}: ${JSON.stringify(token)} is not an index of an array of ${current.length}`);
      if (last) current[index] = value;
      else {
        if (current[index] === undefined) current[index] = {};
        current = current[index];
      }
    } else if (isObject(current)) {
      if (last) put(current, token, value);
      else {
        // Only missing steps are created: a scalar in the way is an error, not something to overwrite.
        if (!Object.hasOwn(current, token)) put(current, token, {});
        current = current[token]!;
      }
    } else {
      throw new PointerError(`${pointer}: cannot go into a ${current === null ? 'null' : typeof current}`);
    }
  });
  return root;
}

/** Returns the document without the value at `pointer` (unchanged when there was none). */
export function removeAt(document: JsonValue, pointer: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return null;
  const parentPointer = tokens.length === 1 ? '' : `/${tokens.slice(0, -1).map(escapeToken).join('/')}`;
  const parent = getAt(document, parentPointer);
  const key = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, false);
    if (index !== undefined) parent.splice(index, 1);
  } else if (isObject(parent) && Object.hasOwn(parent, key)) {
    delete parent[key];
  }
  return document;
}

/** Objects merge key by key (recursively); anything else in `patch` replaces what was there. */
export function deepMerge(base: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(base) || !isObject(patch)) return patch;
  const result: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(base)) put(result, key, value);
  for (const [key, value] of Object.entries(patch)) put(result, key, deepMerge(Object.hasOwn(result, key) ? result[key] : undefined, value));
  return result;
}
