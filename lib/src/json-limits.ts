import { badInput } from './errors';

/**
 * Bounds on the JSON values tenants send and tasks pass along (issue 9, items 6–9), checked where a
 * value enters (a run input, a workflow definition, a task's output, a resolved task input) so that
 * nothing downstream meets a value it cannot carry:
 *
 * - MAX_JSON_DEPTH: google.protobuf.Value, which carries every input and output over gRPC, decodes at
 *   most 100 nested messages, three per JSON level: a value nested 33 containers deep does not decode
 *   ("protobuf decode recursion limit exceeded").
 * - MAX_TASK_VALUE_BYTES: a task's output, and its input once templates are resolved, at most, counted
 *   as encoded for gRPC (encodedJsonSize). One Execute message carries one of them, far under the
 *   16 MiB gRPC message limit (GRPC_MAX_MESSAGE_BYTES) whatever else it carries.
 * - Text: PostgreSQL stores neither NUL characters nor lone UTF-16 surrogates (text and jsonb refuse
 *   them), so tenant input holding one is refused naming the field, and text from outside (a web
 *   page, a model) has them replaced by U+FFFD before it is stored (wellFormedJson).
 */
export const MAX_JSON_DEPTH = 32;
export const MAX_TASK_VALUE_BYTES = 8 * 1024 * 1024;

/** What is wrong with a value, with the path (under the field given) where it was found. */
export type JsonViolation =
  | { reason: 'JSON_TOO_DEEP'; path: string; message: string }
  | { reason: 'JSON_TOO_LARGE'; path: string; message: string }
  | { reason: 'INVALID_TEXT'; path: string; message: string };

export interface JsonLimits {
  /** Containers nested in the value, at most (default MAX_JSON_DEPTH). */
  maxDepth?: number;
  /** encodedJsonSize at most (default: unbounded). */
  maxBytes?: number;
  /** Refuse NUL characters and lone surrogates in strings and keys (default true). */
  text?: boolean;
}

/** A UTF-16 surrogate without its other half (matched by code unit: no `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = new RegExp(`\u0000|${LONE_SURROGATE.source}`, 'g');

/** 'a NUL character' or 'a lone surrogate' when PostgreSQL cannot store `text`, else undefined. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'a lone UTF-16 surrogate';
  return undefined;
}

/** `text` with NUL characters and lone surrogates replaced by U+FFFD (what PostgreSQL can store). */
export const wellFormedText = (text: string): string => (textProblem(text) === undefined ? text : text.replace(UNSTORABLE, '\uFFFD'));

/** The value with every string and key made storable (wellFormedText); unchanged (the same object) when it already was. */
export function wellFormedJson<T>(value: T): T {
  if (typeof value === 'string') return wellFormedText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (inspectJson(value, { maxDepth: Number.MAX_SAFE_INTEGER }) === undefined) return value;
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string') return wellFormedText(v);
    if (Array.isArray(v)) return v.map(fix);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v as Record<string, unknown>)) Object.defineProperty(out, wellFormedText(k), { value: fix(inner), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return v;
  };
  return fix(value) as T;
}

const STRING_OVERHEAD = 12;
const SCALAR_BYTES = 16;
const CONTAINER_OVERHEAD = 12;
const ENTRY_OVERHEAD = 12;

const keyPath = (path: string, key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/**
 * Walks a JSON value (iteratively: any depth is safe) and returns the first violation of `limits`, or
 * undefined. Sizes are an upper bound of the value's protobuf encoding (google.protobuf.Value); the walk
 * stops as soon as the size is over `maxBytes`, so checking a huge value costs at most that much.
 */
export function inspectJson(value: unknown, limits: JsonLimits = {}, field = 'value'): JsonViolation | undefined {
  return measureJson(value, limits, field).violation;
}

/** inspectJson, also answering the size counted (up to where the walk stopped). */
export function measureJson(value: unknown, limits: JsonLimits = {}, field = 'value'): { bytes: number; violation?: JsonViolation } {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const text = limits.text ?? true;
  let bytes = 0;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: field, depth: 0 }];
  const tooLarge = (path: string): JsonViolation => ({ reason: 'JSON_TOO_LARGE', path: field, message: `is larger than ${maxBytes} bytes as encoded (over the limit at ${path})` });
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      bytes += STRING_OVERHEAD + Buffer.byteLength(v, 'utf8');
      if (text) {
        const problem = textProblem(v);
        if (problem !== undefined) return { bytes, violation: { reason: 'INVALID_TEXT', path, message: `holds ${problem}, which cannot be stored` } };
      }
    } else if (v !== null && typeof v === 'object') {
      if (depth + 1 > maxDepth) return { bytes, violation: { reason: 'JSON_TOO_DEEP', path, message: `is nested more than ${maxDepth} levels deep` } };
      bytes += CONTAINER_OVERHEAD;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i -= 1) stack.push({ value: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i -= 1) {
          const [k, inner] = entries[i]!;
          bytes += ENTRY_OVERHEAD + Buffer.byteLength(k, 'utf8');
          if (text) {
            const problem = textProblem(k);
            if (problem !== undefined) return { bytes, violation: { reason: 'INVALID_TEXT', path: keyPath(path, k), message: `has a key holding ${problem}, which cannot be stored` } };
          }
          stack.push({ value: inner, path: keyPath(path, k), depth: depth + 1 });
        }
      }
    } else {
      bytes += SCALAR_BYTES;
    }
    if (bytes > maxBytes) return { bytes, violation: tooLarge(path) };
  }
  return { bytes };
}

/**
 * An upper bound of the value's size encoded as a google.protobuf.Value, counting up to `stopAbove`
 * (any answer above it means "too large"). Text is not checked.
 */
export function encodedJsonSize(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && bytes <= stopAbove) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += STRING_OVERHEAD + Buffer.byteLength(v, 'utf8');
    else if (Array.isArray(v)) {
      bytes += CONTAINER_OVERHEAD;
      for (const inner of v) stack.push(inner);
    } else if (v !== null && typeof v === 'object') {
      bytes += CONTAINER_OVERHEAD;
      for (const [k, inner] of Object.entries(v as Record<string, unknown>)) {
        bytes += ENTRY_OVERHEAD + Buffer.byteLength(k, 'utf8');
        stack.push(inner);
      }
    } else bytes += SCALAR_BYTES;
  }
  return bytes;
}

/** Throws BAD_USER_INPUT naming the field (and the path inside it) when `value` breaks `limits`. */
export function checkJsonInput(value: unknown, field: string, limits: JsonLimits = {}): void {
  const violation = inspectJson(value, limits, field);
  if (violation !== undefined) throw badInput(violation.path, `${violation.path} ${violation.message}`, violation.reason);
}

/** Throws BAD_USER_INPUT naming the field when a string input cannot be stored (NUL, lone surrogate). */
export function checkTextInput(value: string, field: string): void {
  const problem = textProblem(value);
  if (problem !== undefined) throw badInput(field, `${field} holds ${problem}, which cannot be stored`, 'INVALID_TEXT');
}
