import { badInput, isUuid, type Logger } from '@orchestra/lib';
import type { automationV1, orchestrationV1 } from '@orchestra/proto';
import { checkBaseUrl } from '../domain/llm-providers';
import { DEFAULT_POOL, POOL_NAME } from '../domain/workflow-definition';
import { attemptsRunningOn } from '../store/attempts';
import type { WorkerResources } from '../store/rows';
import { heartbeatWorker, poolSlots, setWorkerStatus, syncWorkerSlots, upsertWorker } from '../store/workers';
import { createCoalescer } from './coalescer';
import type { Dispatcher } from './dispatcher';
import type { Engine } from './engine';

/**
 * The fleet's registry (gRPC WorkerRegistry): workers register with what they can do and hold a
 * lease they renew by heartbeat. The reconciler drops workers whose lease ran out and retries
 * their running tasks elsewhere.
 */
export interface WorkerRegistry {
  register(request: orchestrationV1.RegisterRequest): Promise<orchestrationV1.RegisterResponse>;
  heartbeat(request: orchestrationV1.HeartbeatRequest): Promise<orchestrationV1.HeartbeatResponse>;
  deregister(request: orchestrationV1.DeregisterRequest): Promise<orchestrationV1.DeregisterResponse>;
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** LLM servers one worker may declare (one machine serves a few). */
const MAX_LLM_ENDPOINTS = 32;

/** A worker's declared LLM servers, each an http(s) base URL in the form providers are matched by (llmBaseUrlKey). */
function checkLlmEndpoints(urls: readonly string[]): string[] {
  if (urls.length > MAX_LLM_ENDPOINTS) throw badInput('worker.llm_endpoints', `a worker declares at most ${MAX_LLM_ENDPOINTS} LLM endpoints (got ${urls.length})`);
  return [...new Set(urls.map((url, i) => checkBaseUrl(url, `worker.llm_endpoints[${i}]`)))].sort();
}

const resourcesOf = (r: automationV1.Resources | undefined): WorkerResources | null =>
  r === undefined
    ? null
    : {
        cpuCount: r.cpuCount,
        cpuLoad: r.cpuLoad,
        memoryTotalBytes: Number(r.memoryTotalBytes),
        memoryUsedBytes: Number(r.memoryUsedBytes),
        gpus: r.gpus.map((g) => ({
          index: g.index,
          model: g.model,
          memoryTotalBytes: Number(g.memoryTotalBytes),
          memoryUsedBytes: Number(g.memoryUsedBytes),
          utilizationPercent: g.utilizationPercent,
        })),
      };

export function createWorkerRegistry({ engine, dispatcher, log: parentLog }: { engine: Engine; dispatcher: Dispatcher; log: Logger }): WorkerRegistry {
  const { config } = engine;
  const log = parentLog.child({ component: 'worker-registry' });
  const leaseMs = config.WORKER_LEASE_TTL_MS;
  // A pool's live slots (the dispatcher's concurrency for it) are counted again after a registration
  // commits, by one read at a time: two workers registering at once each counted only itself inside
  // its own transaction (the other's row not yet committed), so the pool's concurrency stayed at one
  // worker's slots — the other's free slots unused — until the reconciler's next pass. A read that
  // starts after the last registration's commit sees them all (the coalescer runs the registrations
  // that arrive during a read in the next one).
  const recountPools = createCoalescer<string>(async (pools) => {
    const slots = await engine.inSystem((tx) => poolSlots(tx));
    for (const pool of new Set(pools)) {
      const live = slots.get(pool);
      if (live !== undefined) dispatcher.ensurePool(pool, live);
    }
  });
  return {
    async register({ worker }) {
      if (!worker) throw badInput('worker', 'worker is required');
      const id = worker.workerId.trim();
      if (id === '' || id.length > 200) throw badInput('worker.worker_id', 'worker_id must have 1 to 200 characters');
      if (!ENDPOINT.test(worker.endpoint)) throw badInput('worker.endpoint', `endpoint must be host:port (got ${JSON.stringify(worker.endpoint)})`);
      const pool = worker.pool === '' ? DEFAULT_POOL : worker.pool;
      if (!POOL_NAME.test(pool)) throw badInput('worker.pool', `pool "${pool}" must be lowercase letters, digits, _ and -`);
      if (worker.capabilities.length === 0) throw badInput('worker.capabilities', 'a worker advertises at least one capability');
      const bad = worker.capabilities.find((c) => !CAPABILITY.test(c));
      if (bad !== undefined) throw badInput('worker.capabilities', `capability ${JSON.stringify(bad)} is not a valid name`);
      if (!Number.isInteger(worker.slotsTotal) || worker.slotsTotal < 1 || worker.slotsTotal > 10_000) throw badInput('worker.slots_total', 'slots_total must be between 1 and 10000');
      const llmEndpoints = checkLlmEndpoints(worker.llmEndpoints);
      const row = await engine.inSystem(async (tx) => {
        const registered = await upsertWorker(
          tx,
          {
            id,
            endpoint: worker.endpoint,
            pool,
            capabilities: [...new Set(worker.capabilities)],
            slotsTotal: worker.slotsTotal,
            slotsFree: Math.max(0, Math.min(worker.slotsFree, worker.slotsTotal)),
            labels: worker.labels,
            resources: resourcesOf(worker.resources),
            version: worker.version || null,
            llmEndpoints,
          },
          leaseMs,
        );
        await syncWorkerSlots(tx, registered.id, registered.slotsTotal);
        // Counted here as well as after the commit (recountPools), where the second alone would do
        // (pool-concurrency.test passed in each of 8 runs without this one). Without it, fleet.test's 'a worker
        // that stops heartbeating' failed once in 8 runs (load 16-22; last session one failure in 7, test not
        // kept): its attempt was never LOST within 10 s. Most likely that test's own race, not the count: its
        // 2.5 s sleep must outlast the lease (1.5 s from the last register) and a reconcile pass (every 300 ms, slower
        // under load), or the attempt ends SUCCEEDED (the live call returns the result; a dropped worker's
        // finished attempt is recalled as it is). Not confirmed (the run's logs were not kept); kept until that
        // test's margin does not depend on the machine's load.
        return { ...registered, poolSlots: (await poolSlots(tx, pool)).get(pool) ?? registered.slotsTotal };
      });
      dispatcher.ensurePool(pool, row.poolSlots);
      await recountPools([pool]).catch((error: unknown) => log.warn('could not count the pool\'s slots again after a registration (the reconciler will)', { err: error, pool }));
      dispatcher.wake(pool);
      log.info('worker registered', { workerId: row.id, endpoint: row.endpoint, pool, capabilities: row.capabilities, slots: row.slotsTotal, labels: row.labels, llmEndpoints: row.llmEndpoints });
      return { heartbeatIntervalMs: config.WORKER_HEARTBEAT_INTERVAL_MS, leaseTtlMs: leaseMs, dispatchTokens: engine.workerAuthority.dispatchTokens(row.id) };
    },

    async heartbeat({ workerId, slotsFree, resources, runningAttemptIds }) {
      return engine.inSystem(async (tx) => {
        const row = await heartbeatWorker(tx, workerId, Math.max(0, slotsFree), resourcesOf(resources), leaseMs);
        // What it runs that we no longer want from it: cancelled, reassigned after a lost lease, or finished.
        // A dropped worker (frozen past its lease, then thawed) keeps the attempts PostgreSQL still has
        // RUNNING on it: a dispatcher may still hold their calls and wait for their results, and the
        // reconciler settles them (asking the worker first) if the worker does not register again in time.
        const ours = new Set(await attemptsRunningOn(tx, workerId, runningAttemptIds.filter(isUuid)));
        const cancelAttemptIds = runningAttemptIds.filter((id) => !ours.has(id));
        if (!row) {
          log.info('heartbeat from an unknown or dropped worker: it must register again', { workerId, stopping: cancelAttemptIds, keeping: [...ours] });
          return { known: false, cancelAttemptIds, dispatchTokens: [] };
        }
        if (cancelAttemptIds.length > 0) log.info('telling a worker to stop attempts', { workerId, attemptIds: cancelAttemptIds });
        if (slotsFree > 0) dispatcher.wake(row.pool);
        return { known: true, cancelAttemptIds, dispatchTokens: engine.workerAuthority.dispatchTokens(workerId) };
      });
    },

    async deregister({ workerId }) {
      const row = await engine.inSystem((tx) => setWorkerStatus(tx, workerId, 'OFFLINE'));
      if (row) log.info('worker deregistered', { workerId, endpoint: row.endpoint });
      return {};
    },
  };
}
