import type { PoolClient, Principal } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { listArtifactsOfTasks, type ArtifactRow } from '../store/artifacts';
import { listAttemptsOfTasks } from '../store/attempts';
import type { AttemptRow, RunRow, TaskRow, WorkflowRow, WorkflowVersionRow } from '../store/rows';
import { findRunsByIds } from '../store/runs';
import { itemCountsOf, type ItemCounts } from '../store/for-each';
import { latestWaitsOfTasks, type TaskWaitRow } from '../store/task-waits';
import { findTasksByIds, listStepTasksOfRuns } from '../store/tasks';
import { findWorkflowsByIds, listWorkflowVersions } from '../store/workflows';

/** Collects the keys asked for in one tick and loads them with one query (DataLoader's idea, in a few lines). */
export interface Loader<K, V> {
  load(key: K): Promise<V | undefined>;
  prime(key: K, value: V): void;
}

export function createLoader<K, V>(batch: (keys: K[]) => Promise<Map<K, V>>): Loader<K, V> {
  const cache = new Map<K, Promise<V | undefined>>();
  let queue: Array<{ key: K; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }> = [];
  const dispatch = () => {
    const current = queue;
    queue = [];
    batch([...new Set(current.map((q) => q.key))]).then(
      (found) => current.forEach((q) => q.resolve(found.get(q.key))),
      (error: unknown) => current.forEach((q) => q.reject(error)),
    );
  };
  return {
    load(key) {
      const cached = cache.get(key);
      if (cached) return cached;
      const promise = new Promise<V | undefined>((resolve, reject) => {
        if (queue.length === 0) setImmediate(dispatch);
        queue.push({ key, resolve, reject });
      });
      cache.set(key, promise);
      return promise;
    },
    prime(key, value) {
      cache.set(key, Promise.resolve(value));
    },
  };
}

const byKey = <K, V>(rows: V[], key: (v: V) => K): Map<K, V> => new Map(rows.map((r) => [key(r), r]));
const grouped = <K, V>(keys: K[], rows: V[], key: (v: V) => K): Map<K, V[]> => {
  const map = new Map<K, V[]>(keys.map((k) => [k, []]));
  for (const r of rows) map.get(key(r))?.push(r);
  return map;
};

export interface Loaders {
  run: Loader<string, RunRow>;
  task: Loader<string, TaskRow>;
  tasksOfRun: Loader<string, TaskRow[]>;
  /** A forEach task's items counted by status (absent before it expanded). */
  itemCounts: Loader<string, ItemCounts>;
  /** A wait step's task's latest wait (its current or last attempt's). */
  waitOfTask: Loader<string, TaskWaitRow>;
  attemptsOfTask: Loader<string, AttemptRow[]>;
  artifactsOfTask: Loader<string, ArtifactRow[]>;
  workflow: Loader<string, WorkflowRow>;
  versionsOfWorkflow: Loader<string, WorkflowVersionRow[]>;
}

/** Per request, under the requester's row-level security. */
export function createLoaders(engine: Engine, principal: Principal): Loaders {
  const read = <T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> => engine.inTenant(principal, fn);
  return {
    run: createLoader((ids) => read(async (tx) => byKey(await findRunsByIds(tx, ids), (r) => r.id))),
    task: createLoader((ids) => read(async (tx) => byKey(await findTasksByIds(tx, ids), (t) => t.id))),
    // The steps' own tasks: a forEach step's items are paged under its task (Task.items).
    tasksOfRun: createLoader((ids) => read(async (tx) => grouped(ids, await listStepTasksOfRuns(tx, ids), (t) => t.runId))),
    itemCounts: createLoader((ids) => read((tx) => itemCountsOf(tx, ids))),
    waitOfTask: createLoader((ids) => read((tx) => latestWaitsOfTasks(tx, ids))),
    attemptsOfTask: createLoader((ids) => read(async (tx) => grouped(ids, await listAttemptsOfTasks(tx, ids), (a) => a.taskId))),
    artifactsOfTask: createLoader((ids) => read(async (tx) => grouped(ids, await listArtifactsOfTasks(tx, ids), (a) => a.taskId))),
    workflow: createLoader((ids) => read(async (tx) => byKey(await findWorkflowsByIds(tx, ids), (w) => w.id))),
    versionsOfWorkflow: createLoader((ids) =>
      read(async (tx) => {
        const out = new Map<string, WorkflowVersionRow[]>();
        for (const id of ids) out.set(id, await listWorkflowVersions(tx, id));
        return out;
      }),
    ),
  };
}
