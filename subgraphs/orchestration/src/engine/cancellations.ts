import type { Logger, Redis } from '@orchestra/lib';

/** Why a dispatcher stopped an Execute call. */
export type AbortReason = 'cancelled' | 'lost' | 'shutdown';

export interface InFlightCall {
  attemptId: string;
  controller: AbortController;
  /** Set when the call was aborted on purpose. */
  reason: AbortReason | undefined;
}

export interface AttemptCancellations {
  /** Tracks a running Execute call so a cancel anywhere can reach it. */
  track(attemptId: string): InFlightCall;
  untrack(attemptId: string): void;
  /** Aborts the call of each attempt, in whichever orchestration process holds it. */
  cancel(attemptIds: readonly string[], reason: AbortReason): Promise<void>;
  /** The calls this process is running. */
  inFlight(): InFlightCall[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a cancel that found no call is remembered (a claim's commit to its Execute call takes milliseconds). */
const MISSED_CANCEL_TTL_MS = 10_000;

/**
 * Cancels reach the Execute call through Redis pub/sub: the process that holds the call aborts it,
 * gRPC cancels the stream, and the worker's executor sees its AbortSignal.
 */
export function createAttemptCancellations({ redis, prefix, log }: { redis: Redis; prefix: string; log: Logger }): AttemptCancellations {
  const channel = `${prefix}:orchestration:cancel-attempts`;
  const calls = new Map<string, InFlightCall>();
  // A cancel can come between the commit that claimed an attempt and the start of its Execute call
  // (when nothing here tracks it yet): it is kept a little while, and the call starts aborted.
  const missed = new Map<string, { reason: AbortReason; at: number }>();
  let subscriber: Redis | undefined;

  const abort = (call: InFlightCall, reason: AbortReason) => {
    call.reason = reason;
    call.controller.abort(new Error(`attempt ${reason}`));
    log.info('execute call aborted', { attemptId: call.attemptId, reason });
  };
  const abortLocal = (attemptIds: readonly string[], reason: AbortReason) => {
    const now = Date.now();
    for (const id of attemptIds) {
      const call = calls.get(id);
      if (call) {
        if (call.reason === undefined) abort(call, reason);
      } else {
        missed.delete(id);
        missed.set(id, { reason, at: now });
      }
    }
    for (const [id, { at }] of missed) {
      if (now - at <= MISSED_CANCEL_TTL_MS) break;
      missed.delete(id);
    }
  };

  return {
    track(attemptId) {
      const call: InFlightCall = { attemptId, controller: new AbortController(), reason: undefined };
      calls.set(attemptId, call);
      const early = missed.get(attemptId);
      if (early) {
        missed.delete(attemptId);
        if (Date.now() - early.at <= MISSED_CANCEL_TTL_MS) abort(call, early.reason);
      }
      return call;
    },
    untrack(attemptId) {
      calls.delete(attemptId);
    },
    async cancel(attemptIds, reason) {
      if (attemptIds.length === 0) return;
      abortLocal(attemptIds, reason);
      try {
        await redis.publish(channel, JSON.stringify({ attemptIds, reason }));
      } catch (error) {
        // The heartbeat answer (cancel_attempt_ids) still tells the worker.
        log.warn('could not broadcast attempt cancellation', { err: error, attemptIds });
      }
    },
    inFlight: () => [...calls.values()],
    async start() {
      const connection = redis.duplicate({ connectionName: 'orchestration-cancellations' });
      connection.on('error', (err: Error) => log.warn('cancellation subscriber connection error', { err }));
      connection.on('message', (_channel: string, message: string) => {
        try {
          const { attemptIds, reason } = JSON.parse(message) as { attemptIds: string[]; reason: AbortReason };
          abortLocal(attemptIds, reason);
        } catch (error) {
          log.warn('ignored a malformed cancellation message', { err: error });
        }
      });
      await connection.subscribe(channel);
      subscriber = connection;
    },
    async stop() {
      const connection = subscriber;
      subscriber = undefined;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}
