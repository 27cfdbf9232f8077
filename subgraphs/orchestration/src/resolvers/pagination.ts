import { badInput } from '@orchestra/lib';

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`, 'INVALID_PAGE_SIZE');
  return size;
}

/** Opaque to clients: base64url of the sort key. */
export const encodeCursor = (key: string): string => Buffer.from(JSON.stringify(['o1', key])).toString('base64url');

export function decodeCursor(cursor: string | null | undefined, check: (key: string) => boolean = () => true): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === 2 && parts[0] === 'o1' && typeof parts[1] === 'string' && check(parts[1])) return parts[1];
  } catch {
    // not one of ours
  }
  throw badInput('after', 'after is not a cursor this list gave out', 'INVALID_CURSOR');
}

/** The page from `size + 1` fetched rows (the extra one says whether there is a next page). */
export function connectionOf<T>(rows: T[], size: number, totalCount: number, keyOf: (row: T) => string, afterGiven: boolean): Connection<T> {
  const edges = rows.slice(0, size).map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, hasPreviousPage: afterGiven, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
    totalCount,
  };
}
