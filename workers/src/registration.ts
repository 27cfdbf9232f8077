import { setTimeout as delay } from 'node:timers/promises';
import { unaryCall, type Logger } from '@orchestra/lib/worker';
import type { automationV1, orchestrationV1 } from '@orchestra/proto';

/** What a heartbeat reports besides the worker id. */
export interface HeartbeatState {
  slotsFree: number;
  resources: automationV1.Resources;
  runningAttemptIds: string[];
}

export interface RegistrationOptions {
  client: orchestrationV1.WorkerRegistryClient;
  /** The worker's own token (minted for its id): the only credential it calls the registry with. */
  workerToken: string;
  /** The tokens the orchestration service will call this worker with, from each Register and Heartbeat answer. */
  onDispatchTokens(tokens: string[]): void;
  log: Logger;
  /** The worker as announced by Register (read afresh for every registration). */
  workerInfo(): Promise<orchestrationV1.WorkerInfo>;
  heartbeatState(): Promise<HeartbeatState>;
  /** Attempts the orchestrator has given up on, from a heartbeat answer. */
  onCancelAttempts(attemptIds: string[]): void;
  /** First and largest wait between Register tries (full jitter in between). */
  retry?: { initialMs: number; maxMs: number };
  callTimeoutMs?: number;
  /** Used when the registry answers an interval of 0. */
  defaultHeartbeatMs?: number;
}

export interface Registration {
  /** Starts registering and heartbeating in the background. */
  start(): void;
  /** Stops heartbeating and deregisters (best effort). */
  stop(): Promise<void>;
  readonly registered: boolean;
}

const MIN_HEARTBEAT_MS = 20;

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The worker's membership of the fleet: Register (retried with backoff until the registry answers),
 * then Heartbeat at the interval it asks for, Register again when a heartbeat answers known=false,
 * and Deregister on stop. A failure is logged once until something changes, not on every retry.
 */
export function createRegistration({
  client,
  workerToken,
  onDispatchTokens,
  log,
  workerInfo,
  heartbeatState,
  onCancelAttempts,
  retry = { initialMs: 200, maxMs: 10_000 },
  callTimeoutMs = 5_000,
  defaultHeartbeatMs = 5_000,
}: RegistrationOptions): Registration {
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  let registered = false;
  let workerId: string | undefined;
  const callOptions = { internalToken: workerToken, defaultDeadlineMs: callTimeoutMs };
  const call = { signal: stopping.signal };

  /** Sleeps unless stopping; resolves false when it was stopped. */
  const pause = (ms: number): Promise<boolean> =>
    delay(ms, true, { signal: stopping.signal }).catch(() => false);

  let lastFailure: string | undefined;
  const failed = (what: string, error: unknown, fields: Record<string, unknown>) => {
    const message = `${what}: ${describe(error)}`;
    if (message === lastFailure) log.debug(`${what} failed again`, { ...fields, error: describe(error) });
    else log.warn(`${what} failed`, { ...fields, err: error });
    lastFailure = message;
  };

  const register = async (): Promise<number | undefined> => {
    let wait = retry.initialMs;
    for (let tries = 1; !stopping.signal.aborted; tries += 1) {
      try {
        const worker = await workerInfo();
        workerId = worker.workerId;
        const answer = await unaryCall(client, client.register, { worker }, callOptions, call);
        onDispatchTokens(answer.dispatchTokens);
        registered = true;
        lastFailure = undefined;
        const interval = Math.max(MIN_HEARTBEAT_MS, answer.heartbeatIntervalMs || defaultHeartbeatMs);
        log.info('registered', { workerId, endpoint: worker.endpoint, tries, heartbeatIntervalMs: interval, leaseTtlMs: answer.leaseTtlMs });
        return interval;
      } catch (error) {
        if (stopping.signal.aborted) return undefined;
        failed('register', error, { tries, retryInMs: wait });
        // Full jitter: many workers restarting together do not knock on the registry in step.
        if (!(await pause(Math.round(Math.random() * wait) + 1))) return undefined;
        wait = Math.min(retry.maxMs, wait * 2);
      }
    }
    return undefined;
  };

  const run = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      const interval = await register();
      if (interval === undefined) return;
      // Heartbeat until the registry forgets this worker (then register again) or we stop.
      for (;;) {
        if (!(await pause(interval))) return;
        try {
          const state = await heartbeatState();
          const answer = await unaryCall(client, client.heartbeat, { workerId: workerId ?? '', ...state }, callOptions, call);
          onDispatchTokens(answer.dispatchTokens);
          if (lastFailure !== undefined) log.info('heartbeat works again', { workerId });
          lastFailure = undefined;
          if (answer.cancelAttemptIds.length > 0) {
            log.info('registry cancelled attempts', { workerId, attemptIds: answer.cancelAttemptIds });
            onCancelAttempts(answer.cancelAttemptIds);
          }
          if (!answer.known) {
            registered = false;
            log.warn('registry no longer knows this worker: registering again', { workerId });
            break;
          }
        } catch (error) {
          if (stopping.signal.aborted) return;
          // Keep the rhythm: the registry drops us after its lease TTL and says known=false when back.
          failed('heartbeat', error, { workerId });
        }
      }
    }
  };

  return {
    start() {
      loop ??= run().catch((error: unknown) => log.error('registration loop crashed', { err: error }));
    },
    async stop() {
      stopping.abort();
      await loop;
      if (!registered || workerId === undefined) return;
      registered = false;
      try {
        await unaryCall(client, client.deregister, { workerId }, { internalToken: workerToken, defaultDeadlineMs: Math.min(callTimeoutMs, 2_000) });
        log.info('deregistered', { workerId });
      } catch (error) {
        log.warn('deregister failed (the registry will drop this worker when its lease ends)', { workerId, err: error });
      }
    },
    get registered() {
      return registered;
    },
  };
}
