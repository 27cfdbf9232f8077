import { GraphQLError, type ExecutionResult, type GraphQLResolveInfo, type DocumentNode } from 'graphql';
import { type AppError, toAppError, type Principal } from '@orchestra/lib/gateway';
import { federatedBatchQueryFor, federatedValueAt, selectionSignature, type FederatedObjects } from './federated-selection';

export type ExecuteFederated = (args: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }) => Promise<ExecutionResult>;

export interface FederatedBatcher {
  /**
   * `rootField(id: key) { <info's selection> }` through the federated graph as `principal`. Loads
   * with the same selection and principal scope within `windowMs` go out as ONE query (an alias per
   * key, each key once).
   */
  load(info: GraphQLResolveInfo, rootField: string, key: string, principal: Principal, scope: string): Promise<unknown>;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Batch {
  info: GraphQLResolveInfo;
  rootField: string;
  principal: Principal;
  keys: Map<string, Waiter[]>;
  timer: NodeJS.Timeout | undefined;
}

/** The first error of a federated answer as the AppError the subgraph raised. */
export const toFederatedError = (error: unknown): AppError =>
  toAppError(error instanceof GraphQLError ? error : new GraphQLError(String((error as { message?: unknown }).message), { extensions: (error as { extensions?: Record<string, unknown> }).extensions ?? {} }));

export function createFederatedBatcher({
  executeFederated,
  objects,
  windowMs = 5,
  maxKeys = 50,
  metrics,
}: {
  executeFederated: ExecuteFederated;
  objects: FederatedObjects;
  windowMs?: number;
  maxKeys?: number;
  metrics?: { inc(labels: Record<string, string>, value?: number): void };
}): FederatedBatcher {
  const pending = new Map<string, Batch>();

  const run = async (batchKey: string, batch: Batch) => {
    if (pending.get(batchKey) === batch) pending.delete(batchKey);
    if (batch.timer) clearTimeout(batch.timer);
    const keys = [...batch.keys.keys()];
    metrics?.inc({ field: batch.rootField });
    let result: ExecutionResult;
    try {
      const { document, variables } = federatedBatchQueryFor(batch.info, batch.rootField, 'id', keys);
      result = await executeFederated({ document, variables, principal: batch.principal });
    } catch (error) {
      for (const waiters of batch.keys.values()) for (const w of waiters) w.reject(error);
      return;
    }
    const errors = result.errors ?? [];
    keys.forEach((key, i) => {
      const alias = `_orchestraValue${i}`;
      const error = errors.find((e) => e.path === undefined || e.path[0] === alias);
      for (const waiter of batch.keys.get(key) ?? []) {
        if (error) waiter.reject(toFederatedError(error));
        else waiter.resolve(objects.mark(federatedValueAt(result.data, i)));
      }
    });
  };

  return {
    load(info, rootField, key, principal, scope) {
      const batchKey = `${scope}|${selectionSignature(info, rootField)}`;
      let batch = pending.get(batchKey);
      if (!batch) {
        const created: Batch = { info, rootField, principal, keys: new Map(), timer: undefined };
        created.timer = setTimeout(() => void run(batchKey, created), windowMs);
        pending.set(batchKey, created);
        batch = created;
      }
      const current = batch;
      return new Promise((resolve, reject) => {
        const waiters = current.keys.get(key) ?? [];
        waiters.push({ resolve, reject });
        current.keys.set(key, waiters);
        if (current.keys.size >= maxKeys) void run(batchKey, current);
      });
    },
  };
}

