import { recordAudit, tenantScopeOf, withTenantTransaction, notFound, type Pool, type PoolClient, type Principal } from '@orchestra/lib';
import { lockAppById, type AppRow } from '../store/apps';
import { encodeCursor } from './input';

export const CATALOG_SERVICE = 'catalog';
export const CATALOG_TENANT_ROLE = 'orchestra_catalog_tenant';

/** Who is acting: the principal, and the signed header to forward when the catalog calls identity. */
export interface Actor {
  principal: Principal;
  principalHeader?: string | undefined;
}

export interface Page<T> {
  items: Array<{ cursor: string; node: T }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

export const isIdCursor = (key: unknown[]): key is [string] => key.length === 1 && typeof key[0] === 'string';
export const isNameCursor = (key: unknown[]): key is [string, string] => key.length === 2 && key.every((k) => typeof k === 'string');
export const isVersionCursor = (key: unknown[]): key is [number] => key.length === 1 && Number.isInteger(key[0]);

/** The first `limit` rows as a page (the query asked for one more, to tell whether another page follows). */
export function pageOf<R, T>(rows: R[], limit: number, keyOf: (row: R) => unknown[], map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit).map((row) => ({ cursor: encodeCursor(keyOf(row)), node: map(row) }));
  return { items, hasNextPage: rows.length > limit, endCursor: items.at(-1)?.cursor ?? null };
}

/** What every part of the catalog's operations works in: the principal's tenant transaction, a locked app, its audit event. */
export interface AppScope {
  inTenant<T>(principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T>;
  /** The app, locked until the transaction ends; NOT_FOUND when it is not one of the org's. */
  lockApp(tx: PoolClient, id: string): Promise<AppRow>;
  /** Records an audit event on the app in `tx`, so the change and its event exist together or not at all. */
  audit(tx: PoolClient, principal: Principal, action: string, targetId: string, diff: unknown): Promise<void>;
}

export function createAppScope(pool: Pool): AppScope {
  return {
    inTenant: (principal, fn) => withTenantTransaction(pool, CATALOG_TENANT_ROLE, tenantScopeOf(principal), fn),
    async lockApp(tx, id) {
      const app = await lockAppById(tx, id);
      if (!app) throw notFound('app', id);
      return app;
    },
    async audit(tx, principal, action, targetId, diff) {
      await recordAudit(tx, CATALOG_SERVICE, principal, { action, targetType: 'App', targetId, diff });
    },
  };
}
