import { isUuid, type Principal } from '@orchestra/lib';
import { inTenant, type IdentityDeps } from '../deps';
import { countActiveApiKeysCreatedBy } from '../store/api-keys';
import { findOrganizations, type OrganizationRow } from '../store/organizations';
import { findUsers, type UserRow } from '../store/users';

/**
 * Loads by id, collecting every call made in the same tick into one query: `_entities` with a
 * hundred users, or a list whose items each name a user, costs one round trip.
 */
export function createBatchLoader<V>(fetch: (ids: string[]) => Promise<Map<string, V>>): (id: string) => Promise<V | null> {
  let pending: Map<string, Array<{ resolve: (v: V | null) => void; reject: (e: unknown) => void }>> | undefined;
  const cache = new Map<string, Promise<V | null>>();
  const flush = async (batch: NonNullable<typeof pending>) => {
    try {
      const found = await fetch([...batch.keys()]);
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  };
  return (id) => {
    const cached = cache.get(id);
    if (cached) return cached;
    const promise = new Promise<V | null>((resolve, reject) => {
      if (!pending) {
        pending = new Map();
        const batch = pending;
        setImmediate(() => {
          pending = undefined;
          void flush(batch);
        });
      }
      const waiters = pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      pending.set(id, waiters);
    });
    cache.set(id, promise);
    return promise;
  };
}

export interface Loaders {
  /** A user the caller may see (a member of its organization, or itself), else null. */
  user(id: string): Promise<UserRow | null>;
  /** An organization the caller may see (its own, or one its user belongs to), else null. */
  organization(id: string): Promise<OrganizationRow | null>;
  /** Active API keys a user created in the caller's organization. */
  activeApiKeysCreated(userId: string): Promise<number | null>;
}

/** Per-request loaders; they read under the caller's row-level security. */
export function createLoaders(deps: IdentityDeps, principal: Principal): Loaders {
  const byId = <T extends { id: string }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
  const user = createBatchLoader((ids) => inTenant(deps, principal, async (tx) => byId(await findUsers(tx, ids.filter(isUuid)))));
  const organization = createBatchLoader((ids) => inTenant(deps, principal, async (tx) => byId(await findOrganizations(tx, ids.filter(isUuid)))));
  const activeApiKeysCreated = createBatchLoader((ids) =>
    principal.orgId === undefined ? Promise.resolve(new Map<string, number>()) : inTenant(deps, principal, (tx) => countActiveApiKeysCreatedBy(tx, principal.orgId!, ids.filter(isUuid))),
  );
  return { user, organization, activeApiKeysCreated };
}
