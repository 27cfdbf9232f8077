import { grpc, MAX_JSON_DEPTH, serverStreamCall, wellFormedJson, WORKER_STOP_CODES } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import type { AbortReason, InFlightCall } from '../cancellations';
import type { AttemptOutcome } from '../transitions';

/**
 * One AutomationService.Execute call (a server stream) and how it ended: `consume` runs the
 * stream and says how it ended (CallOutcome), `classifyStreamError` sorts a stream error, and
 * `attemptOutcomeOf` / `unreachableOutcome` map that to the outcome the attempt's transition applies.
 * The mapping functions are pure (unit-tested); a new way for a call to end (a worker's
 * RESOURCE_EXHAUSTED with a reason, a crash code) is a case in each.
 */

/** How an Execute call ended, as seen from this side of the stream. */
export type CallOutcome =
  | { kind: 'result'; result: automationV1.TaskResult }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'busy'; message: string }
  | { kind: 'rejected'; code: string; message: string; retryable: boolean }
  /** A message of the call could not be carried (too large, or not decodable): the task's data, not the worker, is at fault. */
  | { kind: 'undeliverable'; code: UndeliverableCode; message: string };

/** Why a call's message could not be carried; each fails the task without a retry (the same data fails the same way anywhere). */
export type UndeliverableCode = 'RESULT_TOO_LARGE' | 'INPUT_NOT_DECODABLE' | 'RESULT_NOT_DECODABLE';

/** The worker could not be reached or broke off: counts against its circuit breaker. */
export class WorkerUnreachable extends Error {
  override readonly name = 'WorkerUnreachable';
}

/** Stream errors that mean the worker (or the path to it) failed, not the task. */
const TRANSPORT_CODES: ReadonlySet<grpc.status> = new Set([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.ABORTED, grpc.status.CANCELLED]);

/**
 * Sorts an error that ended the stream before a result: our deadline (`timeout`), the worker out
 * of slots (`busy`), the worker unreachable (`unreachable`, thrown as WorkerUnreachable), or the
 * worker refusing the task (`rejected`; retryable unless the input was invalid).
 */
export function classifyStreamError(error: Pick<grpc.ServiceError, 'code' | 'details' | 'message'>): Exclude<CallOutcome, { kind: 'result' | 'aborted' }> | { kind: 'unreachable'; message: string } {
  const message = error.details || error.message;
  if (error.code === grpc.status.DEADLINE_EXCEEDED) return { kind: 'timeout' };
  // grpc-js reports a message over the limit, on either side, as RESOURCE_EXHAUSTED "... message larger than max (N vs. M)";
  // the worker's own RESOURCE_EXHAUSTED is RATE_LIMITED NO_FREE_SLOT (busy).
  const oversize = /message larger than max \((\d+) vs\.? (\d+)\)/.exec(message);
  if (error.code === grpc.status.RESOURCE_EXHAUSTED && oversize) {
    return { kind: 'undeliverable', code: 'RESULT_TOO_LARGE', message: `the worker's answer is ${oversize[1]} bytes, over the limit of ${oversize[2]} bytes of one gRPC message` };
  }
  if (error.code === grpc.status.RESOURCE_EXHAUSTED) return { kind: 'busy', message };
  // Decoding errors are about one message of this call, not the worker or the path to it (issue 9 item 7).
  if (error.code === grpc.status.INTERNAL && message.startsWith('Error deserializing request')) {
    return { kind: 'undeliverable', code: 'INPUT_NOT_DECODABLE', message: `the worker could not decode the task's input (${message}); nested more than ${MAX_JSON_DEPTH} levels?` };
  }
  if (error.code === grpc.status.INTERNAL && message.startsWith('Response message parsing error')) {
    return { kind: 'undeliverable', code: 'RESULT_NOT_DECODABLE', message: `the worker's answer could not be decoded (${message}); an output nested more than ${MAX_JSON_DEPTH} levels?` };
  }
  if (TRANSPORT_CODES.has(error.code)) return { kind: 'unreachable', message: `${grpc.status[error.code]}: ${message}` };
  return { kind: 'rejected', code: grpc.status[error.code], message, retryable: error.code !== grpc.status.INVALID_ARGUMENT };
}

/** Where a call's progress and log lines go while it runs. */
export interface ExecuteListener {
  progress: (p: automationV1.Progress) => void;
  log: (l: automationV1.LogLine) => void;
  /** An object the worker stored (reported before the result). */
  artifact: (a: automationV1.Artifact) => void;
  /** A piece of the output as it is produced (a model's tokens). */
  delta: (d: automationV1.OutputDelta) => void;
  /** A model provider request the attempt made, for accounting. */
  modelCall: (c: automationV1.ModelCall) => void;
}

/**
 * Runs the Execute stream to its end with the step timeout as its deadline and `call`'s signal to
 * cancel it, and says how it ended; throws WorkerUnreachable for transport failures. A result
 * that arrived counts even if the stream then broke.
 */
export function consume(client: automationV1.AutomationServiceClient, request: automationV1.ExecuteRequest, call: InFlightCall, internalToken: string, onEvent: ExecuteListener): Promise<CallOutcome> {
  return new Promise<CallOutcome>((resolve, reject) => {
    let result: automationV1.TaskResult | undefined;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    const stream = serverStreamCall(client, client.execute, request, { internalToken }, {
      deadlineMs: request.timeoutMs,
      signal: call.controller.signal,
      requestId: `att_${request.attemptId}`,
    });
    stream.on('data', (message: automationV1.ExecuteResponse) => {
      const event = message.event;
      if (event?.$case === 'progress') onEvent.progress(event.value);
      else if (event?.$case === 'log') onEvent.log(event.value);
      else if (event?.$case === 'result') result = event.value;
      else if (event?.$case === 'artifact') onEvent.artifact(event.value);
      else if (event?.$case === 'delta') onEvent.delta(event.value);
      else if (event?.$case === 'modelCall') onEvent.modelCall(event.value);
    });
    stream.on('error', (error: grpc.ServiceError) => {
      settle(() => {
        if (result) return resolve({ kind: 'result', result });
        if (call.controller.signal.aborted) return resolve({ kind: 'aborted' });
        const ended = classifyStreamError(error);
        if (ended.kind === 'unreachable') return reject(new WorkerUnreachable(ended.message));
        resolve(ended);
      });
    });
    stream.on('end', () => {
      settle(() => {
        if (result) resolve({ kind: 'result', result });
        else if (call.controller.signal.aborted) resolve({ kind: 'aborted' });
        else reject(new WorkerUnreachable('the Execute stream ended without a result'));
      });
    });
  });
}

/** What the mapping needs to know about the call besides how it ended. */
export interface CallFacts {
  stepId: string;
  timeoutMs: number;
  workerId: string;
  endpoint: string;
  /** How long the call took, by this side's clock. */
  elapsedMs: number;
  /** Why this process aborted the call, if it did. */
  abortReason: AbortReason | undefined;
  /** The dispatcher's DISPATCH_RETRY_DELAY_MS and WORKER_LEASE_TTL_MS. */
  retryDelayMs: number;
  leaseTtlMs: number;
}

/** An attempt's outcome to apply (undefined: nothing to apply, the call was stopped), how to label it, and whether to avoid its worker a while. */
export interface MappedOutcome {
  outcome: AttemptOutcome | undefined;
  /** The `outcome` label of task_attempt_duration_seconds. */
  label: string;
  /** Pass the worker over in claims for this long (it may be dead or full). */
  suspectForMs?: number;
}

/** Maps how a call ended to the attempt's outcome. */
export function attemptOutcomeOf(ended: CallOutcome, facts: CallFacts): MappedOutcome {
  const label = ended.kind;
  switch (ended.kind) {
    case 'result': {
      const r = ended.result.outcome;
      const durationMs = Number(ended.result.durationMs) || facts.elapsedMs;
      // A worker of any version: what PostgreSQL cannot store (NUL, lone surrogates) becomes U+FFFD.
      if (r?.$case === 'success') return { label, outcome: { kind: 'succeeded', output: wellFormedJson(r.value.output ?? null), durationMs } };
      // Stopped from outside (lib worker-stops.ts): nothing completed and nothing is said about the task. Still
      // RUNNING here (a real cancel ends the attempt before it tells the worker), it was lost to the fleet, like
      // one whose worker died, and runs again (bounded by MAX_LOST_ATTEMPTS), never failing the task or using its retries.
      if (r?.$case === 'failure' && WORKER_STOP_CODES.has(r.value.code)) {
        return {
          label: 'stopped',
          outcome: { kind: 'lost', error: { code: 'WORKER_STOPPED', message: `worker ${facts.workerId} stopped the attempt without a result (${r.value.code}: ${r.value.message})`, retryable: true }, countsAsLost: true },
        };
      }
      if (r?.$case === 'failure') return { label, outcome: { kind: 'failed', error: { code: r.value.code || 'EXECUTOR_ERROR', message: r.value.message, retryable: r.value.retryable }, durationMs } };
      return { label, outcome: { kind: 'failed', error: { code: 'EMPTY_RESULT', message: 'the worker sent a result with no outcome', retryable: true }, durationMs } };
    }
    case 'timeout':
      return { label, outcome: { kind: 'failed', error: { code: 'TIMEOUT', message: `step "${facts.stepId}" timed out after ${facts.timeoutMs} ms`, retryable: true }, durationMs: facts.elapsedMs } };
    case 'busy':
      return {
        label,
        outcome: { kind: 'lost', error: { code: 'WORKER_BUSY', message: `worker ${facts.workerId} had no free slot: ${ended.message}`, retryable: true }, countsAsLost: false },
        suspectForMs: facts.retryDelayMs * 4,
      };
    case 'undeliverable':
      return { label, outcome: { kind: 'failed', error: { code: ended.code, message: `step "${facts.stepId}" on worker ${facts.workerId}: ${ended.message}`, retryable: false }, durationMs: facts.elapsedMs } };
    case 'rejected':
      return {
        label,
        outcome: { kind: 'failed', error: { code: `WORKER_REJECTED_${ended.code}`, message: `worker ${facts.workerId} refused the task: ${ended.message}`, retryable: ended.retryable }, durationMs: facts.elapsedMs },
      };
    case 'aborted':
      // Cancelled or given up elsewhere (the transaction that did so already settled the attempt),
      // or this process is shutting down: then the attempt is handed back.
      return {
        label,
        outcome: facts.abortReason === 'shutdown' ? { kind: 'lost', error: { code: 'DISPATCHER_STOPPED', message: 'the dispatcher shut down; running it again', retryable: true }, countsAsLost: false } : undefined,
      };
  }
}

/**
 * Maps a call that threw (the worker unreachable, or its circuit open so no call was made) to a
 * lost attempt; only a real failure to reach it counts against the task's lost attempts.
 */
export function unreachableOutcome(error: unknown, facts: Pick<CallFacts, 'workerId' | 'endpoint' | 'leaseTtlMs'>): MappedOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const breakerOpen = (error as { code?: string } | null)?.code === 'EOPENBREAKER';
  return {
    label: 'lost',
    outcome: {
      kind: 'lost',
      error: { code: breakerOpen ? 'WORKER_CIRCUIT_OPEN' : 'WORKER_UNAVAILABLE', message: `worker ${facts.workerId} (${facts.endpoint}): ${message}`, retryable: true },
      countsAsLost: !breakerOpen,
    },
    suspectForMs: facts.leaseTtlMs,
  };
}
