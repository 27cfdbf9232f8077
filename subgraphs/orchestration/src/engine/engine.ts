import {
  tenantScopeOf,
  unaryCall,
  withSystemTransaction,
  withSystemTransactionFrom,
  withTenantTransaction,
  type Logger,
  type Metrics,
  type Pool,
  type PoolClient,
  type Principal,
  type RunEvent,
  type RunEventHub,
  type WorkerAuthority,
} from '@orchestra/lib';
import type { OrchestrationConfig } from '../config';
import type { ProviderLimits } from '../llm/provider-limits';
import { assignFairRanks } from '../flow-control/fair-share';
import { findWorkers } from '../store/workers';
import type { AppDirectory } from './app-directory';
import type { AttemptCancellations } from './cancellations';
import { createCoalescer } from './coalescer';
import { TransactionEffects } from './effects';
import type { TaskQueues } from './task-queues';
import type { TransitionContext } from './transitions';
import type { WorkerClients } from './worker-clients';
import { armWaits } from '../waits/arm';

export const SERVICE = 'orchestration';
export const TENANT_ROLE = 'orchestra_orchestration_tenant';

/** The part of the artifact store (lib `ArtifactStore`) orchestration uses: it deletes, it never reads bytes. */
export interface ArtifactObjects {
  delete(keys: string[]): Promise<void>;
}

export interface EngineDeps {
  pool: Pool;
  config: OrchestrationConfig;
  log: Logger;
  metrics: Metrics;
  hub: RunEventHub;
  queues: TaskQueues;
  cancellations: AttemptCancellations;
  workerClients: WorkerClients;
  /** Derives the dispatch token a worker accepts Execute and Cancel with (and checks worker tokens). */
  workerAuthority: WorkerAuthority;
  /** The artifact store's objects (lib ArtifactStore): what retention and the size limits delete. */
  artifactObjects?: ArtifactObjects | undefined;
  /** Checks that a workflow's app exists (absent when no catalog is configured). */
  apps?: AppDirectory | undefined;
  /** Model providers' requests and tokens per minute, per organization, in Redis (absent: not enforced). */
  providerLimits?: ProviderLimits | undefined;
}

/**
 * Tells the background loops that sleep while idle (engine/due-rows.ts IdleBackoff) that work may have
 * appeared: every change committed through `change` says so, and so do writes made outside it that
 * create due work (schedule commands, wait reasons set by the dispatcher and the reconciler).
 */
export interface EngineActivity {
  notify(): void;
  /** Calls `listener` on every notify; returns the unsubscribe. */
  onActivity(listener: () => void): () => void;
}

export function createEngineActivity(): EngineActivity {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const listener of listeners) listener();
    },
    onActivity(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The shared core of the service: transactions with their after-commit effects. */
export interface Engine extends EngineDeps {
  activity: EngineActivity;
  /** A read (or write without run events) under row-level security for the principal's org. */
  inTenant<T>(principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T>;
  inSystem<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T>;
  /**
   * A state change: `fn` runs in a transaction (the principal's org under row-level security, or
   * the system's), its run events are written with their seqs before the commit, and after the
   * commit they are published, new attempts enqueued and abandoned attempts cancelled.
   */
  change<T>(principal: Principal | null, fn: (ctx: TransitionContext) => Promise<T>): Promise<T>;
  /**
   * change, resolving at the commit with what happens after it (publish, enqueue, cancel) under way in
   * `effects`, which the caller must handle: for a caller to whom a failed effect is not a failed
   * change (the dispatcher's batches, engine/dispatch/commits.ts). `first` (a system change only: no
   * principal) is a statement with no parameters (literals the caller checked) sent with the BEGIN in
   * one round trip, whose rows `fn` gets: a claim or result transaction locking its runs (issue 11).
   */
  changeCommitted<T>(principal: Principal | null, fn: (ctx: TransitionContext, firstRows?: Array<Record<string, unknown>>) => Promise<T>, first?: string): Promise<{ result: T; effects: Promise<void> }>;
  afterCommit(effects: TransactionEffects): Promise<void>;
}

export function createEngine(deps: EngineDeps): Engine {
  const { pool, config, log, hub, queues, cancellations, workerClients, workerAuthority } = deps;
  const transitions = deps.metrics.counter('run_events_total', 'Run events recorded, by kind', ['kind']);

  // Events of commits that end while a publish is under way go to Redis together in the next one,
  // in the order their commits asked (a late event is refused by its stream and readers backfill it).
  const publish = createCoalescer<RunEvent>(async (events) => {
    await hub.publish(events);
  });

  const activity = createEngineActivity();

  const afterCommit = async (effects: TransactionEffects): Promise<void> => {
    activity.notify();
    for (const e of effects.events) transitions.inc({ kind: e.kind });
    await publish(effects.events);
    await queues.enqueue(effects.enqueue);
    if (effects.cancel.length === 0) return;
    await cancellations.cancel(
      effects.cancel.map((c) => c.attemptId),
      'cancelled',
    );
    // Also tell the workers directly: the call's holder may be gone (its worker then learns at its next heartbeat).
    const workerIds = [...new Set(effects.cancel.map((c) => c.workerId).filter((id): id is string => id !== null))];
    if (workerIds.length === 0) return;
    const workers = new Map((await findWorkers(pool, workerIds)).map((w) => [w.id, w]));
    await Promise.allSettled(
      effects.cancel.map(async (c) => {
        const worker = c.workerId === null ? undefined : workers.get(c.workerId);
        if (!worker || worker.status !== 'ONLINE') return;
        const { client } = workerClients.get(worker.endpoint);
        try {
          await unaryCall(client, client.cancel, { attemptId: c.attemptId, reason: c.reason }, { internalToken: workerAuthority.dispatchToken(worker.id) }, { deadlineMs: 1_000 });
        } catch (error) {
          log.debug('worker did not take a cancel', { err: error, attemptId: c.attemptId, workerId: c.workerId });
        }
      }),
    );
  };

  const changeCommitted: Engine['changeCommitted'] = async (principal, fn, first) => {
    if (first !== undefined && principal !== null) throw new Error('a first statement goes only with a system change');
    let effects = new TransactionEffects();
    /** The rows of `first`, sent again with the BEGIN of each try. */
    let firstRows: Array<Record<string, unknown>> = [];
    const body = async (tx: PoolClient) => {
      // A serialization retry runs the body again: start from nothing each time.
      effects = new TransactionEffects();
      const ctx: TransitionContext = { tx, effects, maxLostAttempts: config.MAX_LOST_ATTEMPTS };
      // Without `first`, fn locks what it needs itself (a wrapper that does not pass `first` on gets the same).
      const result = await fn(ctx, first === undefined ? undefined : firstRows);
      // Wait steps queued here start waiting in the same transaction (they never reach a queue).
      await armWaits(ctx);
      // Where each attempt it queues goes in its pool's queue, fairly between organizations (run
      // starts rank theirs as they write them: store/run-starts.ts).
      await assignFairRanks(
        tx,
        effects.enqueue.filter((e) => e.rank === undefined),
      );
      // The run events and the notification events, one statement, the last: it goes with the COMMIT
      // (one round trip fewer for every claim and result transaction).
      await effects.writeEvents(tx, SERVICE, { commit: true });
      return result;
    };
    const result =
      first !== undefined
        ? await withSystemTransactionFrom(pool, first, (tx, rows: Array<Record<string, unknown>>) => {
            firstRows = rows;
            return body(tx);
          })
        : principal === null
          ? await withSystemTransaction(pool, body)
          : await withTenantTransaction(pool, TENANT_ROLE, tenantScopeOf(principal), body);
    return { result, effects: afterCommit(effects) };
  };

  return {
    ...deps,
    activity,
    inTenant: (principal, fn) => withTenantTransaction(pool, TENANT_ROLE, tenantScopeOf(principal), fn),
    inSystem: (fn) => withSystemTransaction(pool, fn),
    async change(principal, fn) {
      const { result, effects } = await changeCommitted(principal, fn);
      await effects;
      return result;
    },
    changeCommitted,
    afterCommit,
  };
}
