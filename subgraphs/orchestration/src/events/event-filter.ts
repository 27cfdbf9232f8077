import { isDeepStrictEqual } from 'node:util';
import { badInput } from '@orchestra/lib';

/**
 * A trigger's (or an event wait's) filter on an event's payload: a short list of conditions, each a
 * JSON pointer (RFC 6901) into the payload and the JSON value found there must equal. Every
 * condition must hold. No code, no patterns: a tenant's filter costs at most MAX_CONDITIONS
 * pointer walks of bounded depth.
 */

export interface EventCondition {
  /** A JSON pointer: "/order/status", "/items/0/sku" ("" is the whole payload). */
  path: string;
  /** The value there, compared as JSON (deep equality; 1 and 1.0 are equal, "1" is not). */
  equals: unknown;
}

export type EventFilter = readonly EventCondition[];

export const MAX_CONDITIONS = 10;
const MAX_POINTER_LENGTH = 200;
const MAX_POINTER_SEGMENTS = 16;
const MAX_VALUE_BYTES = 1024;

/** An event name: what triggers and event waits match on. */
export const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export function checkEventName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !EVENT_NAME.test(name)) {
    throw badInput(field, 'an event name has 1 to 128 characters: letters, digits and . _ : / - (starting with a letter or digit)', 'INVALID_EVENT_NAME');
  }
  return name;
}

/** The segments of a JSON pointer, unescaped (~1 is "/", ~0 is "~"). */
function segmentsOf(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Checks a filter given by a tenant (GraphQL JSON or a workflow's wait step); answers it normalized. */
export function checkEventFilter(value: unknown, field: string): EventCondition[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw badInput(field, 'a filter is a list of { path, equals } conditions', 'INVALID_EVENT_FILTER');
  if (value.length > MAX_CONDITIONS) throw badInput(field, `a filter has at most ${MAX_CONDITIONS} conditions (got ${value.length})`, 'INVALID_EVENT_FILTER');
  return value.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badInput(at, 'a condition is { path, equals }', 'INVALID_EVENT_FILTER');
    const { path, equals, ...rest } = item as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw badInput(`${at}.${extra[0]}`, `a condition has only path and equals (got ${extra[0]})`, 'INVALID_EVENT_FILTER');
    if (typeof path !== 'string' || (path !== '' && !path.startsWith('/')) || path.length > MAX_POINTER_LENGTH) {
      throw badInput(`${at}.path`, `path is a JSON pointer ("/order/status"), at most ${MAX_POINTER_LENGTH} characters`, 'INVALID_EVENT_FILTER');
    }
    if (/~[^01]|~$/.test(path)) throw badInput(`${at}.path`, 'in a JSON pointer "~" is written ~0 and "/" inside a key ~1', 'INVALID_EVENT_FILTER');
    if (segmentsOf(path).length > MAX_POINTER_SEGMENTS) throw badInput(`${at}.path`, `path has at most ${MAX_POINTER_SEGMENTS} segments`, 'INVALID_EVENT_FILTER');
    if (equals === undefined) throw badInput(`${at}.equals`, 'equals is the JSON value the payload must hold at path (null included)', 'INVALID_EVENT_FILTER');
    const bytes = JSON.stringify(equals).length;
    if (bytes > MAX_VALUE_BYTES) throw badInput(`${at}.equals`, `equals has at most ${MAX_VALUE_BYTES} bytes as JSON (got ${bytes})`, 'INVALID_EVENT_FILTER');
    return { path, equals };
  });
}

/** The value at a JSON pointer, or undefined when the payload has nothing there. */
export function valueAt(payload: unknown, pointer: string): unknown {
  let at: unknown = payload;
  for (const segment of segmentsOf(pointer)) {
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(segment)) return undefined;
      at = at[Number(segment)];
    } else if (at !== null && typeof at === 'object' && Object.prototype.hasOwnProperty.call(at, segment)) {
      at = (at as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return at;
}

/** Whether a payload passes a filter (an empty filter passes everything). */
export const matchesFilter = (filter: EventFilter, payload: unknown): boolean =>
  filter.every((c) => {
    const found = valueAt(payload, c.path);
    return found !== undefined && isDeepStrictEqual(found, c.equals);
  });
