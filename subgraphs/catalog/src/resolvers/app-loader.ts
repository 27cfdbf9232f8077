import type { AppRow } from '../store/apps';

export interface AppLoader {
  load(id: string): Promise<AppRow | null>;
}

/**
 * Batches the app lookups of one request: a gateway query over a page of runs asks `_entities` for
 * each run's app, and those become one SQL query instead of one per run. Lives for one request.
 */
export function createAppLoader(loadMany: (ids: string[]) => Promise<AppRow[]>): AppLoader {
  const cache = new Map<string, Promise<AppRow | null>>();
  let queued: Map<string, { resolve: (row: AppRow | null) => void; reject: (error: unknown) => void }> | undefined;

  const flush = (batch: NonNullable<typeof queued>) => {
    loadMany([...batch.keys()]).then(
      (rows) => {
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const [id, waiter] of batch) waiter.resolve(byId.get(id) ?? null);
      },
      (error: unknown) => {
        for (const waiter of batch.values()) waiter.reject(error);
      },
    );
  };

  return {
    load(id) {
      const key = id.toLowerCase();
      const cached = cache.get(key);
      if (cached) return cached;
      if (!queued) {
        const batch = new Map<string, { resolve: (row: AppRow | null) => void; reject: (error: unknown) => void }>();
        queued = batch;
        // Lookups issued in the same turn of the event loop (all representations of one _entities call) share a batch.
        setImmediate(() => {
          queued = undefined;
          flush(batch);
        });
      }
      const batch = queued;
      const promise = new Promise<AppRow | null>((resolve, reject) => batch.set(key, { resolve, reject }));
      cache.set(key, promise);
      return promise;
    },
  };
}
