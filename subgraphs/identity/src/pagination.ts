import { badInput } from '@orchestra/lib';

/** Relay-style page of `T` (edges, pageInfo, totalCount). */
export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

/** Checks `first`; the store is asked for one more row than that to learn whether a next page exists. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`, 'INVALID_PAGE_SIZE');
  }
  return size;
}

/** Cursors are opaque to clients: base64url of the sort key's parts. */
export const encodeCursor = (parts: readonly string[]): string => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** The sort key's parts from a cursor, or BAD_USER_INPUT (field `after`) when it is not one of ours. */
export function decodeCursor(cursor: string | null | undefined, arity: number, check: (part: string, index: number) => boolean = () => true): string[] | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === arity && parts.every((p, i) => typeof p === 'string' && check(p, i))) return parts as string[];
  } catch {
    // fall through to the error below
  }
  throw badInput('after', 'after is not a cursor this list gave out', 'INVALID_CURSOR');
}

/** Builds the connection from `size + 1` fetched rows. */
export function connectionOf<T>(rows: T[], size: number, totalCount: number, cursorOf: (row: T) => string[], afterGiven: boolean): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: afterGiven,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}
