import { grpc } from '@orchestra/lib';
import { attemptOutcomeOf, classifyStreamError, unreachableOutcome, type CallFacts } from './execute-call';

const facts = (over: Partial<CallFacts> = {}): CallFacts => ({
  stepId: 'fetch',
  timeoutMs: 5_000,
  workerId: 'w-1',
  endpoint: '127.0.0.1:7001',
  elapsedMs: 42,
  abortReason: undefined,
  retryDelayMs: 100,
  leaseTtlMs: 15_000,
  ...over,
});
const error = (code: grpc.status, details = 'why') => ({ code, details, message: `${code} ${details}` });

describe('classifyStreamError', () => {
  it('sorts an error that ended the stream before a result', () => {
    expect(classifyStreamError(error(grpc.status.DEADLINE_EXCEEDED))).toEqual({ kind: 'timeout' });
    expect(classifyStreamError(error(grpc.status.RESOURCE_EXHAUSTED, 'no free slot'))).toEqual({ kind: 'busy', message: 'no free slot' });
    for (const code of [grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.ABORTED, grpc.status.CANCELLED]) {
      expect(classifyStreamError(error(code, 'gone'))).toEqual({ kind: 'unreachable', message: `${grpc.status[code]}: gone` });
    }
    expect(classifyStreamError(error(grpc.status.INVALID_ARGUMENT, 'bad input'))).toEqual({ kind: 'rejected', code: 'INVALID_ARGUMENT', message: 'bad input', retryable: false });
    expect(classifyStreamError(error(grpc.status.FAILED_PRECONDITION, 'unknown capability'))).toEqual({ kind: 'rejected', code: 'FAILED_PRECONDITION', message: 'unknown capability', retryable: true });
    expect(classifyStreamError({ code: grpc.status.PERMISSION_DENIED, details: '', message: 'denied' })).toMatchObject({ message: 'denied' });
  });

  it('never takes a message too large or not decodable for the worker being unreachable or busy (issue 9 items 7, 8)', () => {
    // What grpc-js reports, word for word, on the receiving and the sending side.
    expect(classifyStreamError(error(grpc.status.RESOURCE_EXHAUSTED, 'Received message larger than max (20971520 vs 16777216)'))).toEqual({
      kind: 'undeliverable',
      code: 'RESULT_TOO_LARGE',
      message: "the worker's answer is 20971520 bytes, over the limit of 16777216 bytes of one gRPC message",
    });
    expect(classifyStreamError(error(grpc.status.RESOURCE_EXHAUSTED, 'Sent message larger than max (20971525 vs. 16777216)'))).toMatchObject({ kind: 'undeliverable', code: 'RESULT_TOO_LARGE' });
    expect(classifyStreamError(error(grpc.status.INTERNAL, 'Error deserializing request'))).toMatchObject({ kind: 'undeliverable', code: 'INPUT_NOT_DECODABLE' });
    expect(classifyStreamError(error(grpc.status.INTERNAL, 'Response message parsing error: protobuf decode recursion limit exceeded'))).toMatchObject({
      kind: 'undeliverable',
      code: 'RESULT_NOT_DECODABLE',
      message: expect.stringContaining('recursion limit exceeded'),
    });
  });
});

describe('attemptOutcomeOf', () => {
  it('maps a success with the worker’s duration, or ours when it sent none', () => {
    expect(attemptOutcomeOf({ kind: 'result', result: { durationMs: 7, outcome: { $case: 'success', value: { output: { ok: true } } } } }, facts())).toEqual({
      label: 'result',
      outcome: { kind: 'succeeded', output: { ok: true }, durationMs: 7 },
    });
    expect(attemptOutcomeOf({ kind: 'result', result: { durationMs: 0, outcome: { $case: 'success', value: { output: undefined } } } }, facts()).outcome).toEqual({
      kind: 'succeeded',
      output: null,
      durationMs: 42,
    });
  });

  it('maps the executor’s failure, keeping its code and retryability (EXECUTOR_ERROR when it gave no code), and an empty result', () => {
    expect(attemptOutcomeOf({ kind: 'result', result: { durationMs: 3, outcome: { $case: 'failure', value: { code: 'HTTP_500', message: 'boom', retryable: false, retryAfterMs: 0 } } } }, facts()).outcome).toEqual({
      kind: 'failed',
      error: { code: 'HTTP_500', message: 'boom', retryable: false },
      durationMs: 3,
    });
    expect(attemptOutcomeOf({ kind: 'result', result: { durationMs: 3, outcome: { $case: 'failure', value: { code: '', message: 'x', retryable: true, retryAfterMs: 0 } } } }, facts()).outcome).toMatchObject({ error: { code: 'EXECUTOR_ERROR' } });
    expect(attemptOutcomeOf({ kind: 'result', result: { durationMs: 3, outcome: undefined } }, facts()).outcome).toMatchObject({ kind: 'failed', error: { code: 'EMPTY_RESULT', retryable: true } });
  });

  it('maps a result the worker gave because it was told to stop or its caller left to a lost attempt, never a failure of the task', () => {
    // A worker thawed after SIGSTOP whose heartbeat found it dropped was told to cancel what it ran: its
    // CANCELLED (retryable: false) reached a call whose attempt was still RUNNING and failed the run for good.
    const stopped = (code: string, message: string, retryable: boolean) =>
      attemptOutcomeOf({ kind: 'result', result: { durationMs: 3, outcome: { $case: 'failure', value: { code, message, retryable, retryAfterMs: 0 } } } }, facts());
    expect(stopped('CANCELLED', 'the orchestrator gave up on this attempt', false)).toEqual({
      label: 'stopped',
      outcome: {
        kind: 'lost',
        error: { code: 'WORKER_STOPPED', message: 'worker w-1 stopped the attempt without a result (CANCELLED: the orchestrator gave up on this attempt)', retryable: true },
        countsAsLost: true,
      },
    });
    // A worker that shut down (drain grace over) or whose callers all left: the same.
    expect(stopped('ABORTED', 'the worker is shutting down', true).outcome).toMatchObject({ kind: 'lost', error: { code: 'WORKER_STOPPED' }, countsAsLost: true });
    // The executor's own codes stay the task's failures.
    expect(stopped('TIMEOUT', 'ran past 5000 ms', true).outcome).toMatchObject({ kind: 'failed', error: { code: 'TIMEOUT' } });
  });

  it('maps a deadline to a retryable TIMEOUT naming the step and its limit', () => {
    expect(attemptOutcomeOf({ kind: 'timeout' }, facts())).toEqual({
      label: 'timeout',
      outcome: { kind: 'failed', error: { code: 'TIMEOUT', message: 'step "fetch" timed out after 5000 ms', retryable: true }, durationMs: 42 },
    });
  });

  it('maps a worker without a free slot to a lost attempt that does not count, and avoids the worker briefly', () => {
    expect(attemptOutcomeOf({ kind: 'busy', message: 'all 4 slots busy' }, facts())).toEqual({
      label: 'busy',
      outcome: { kind: 'lost', error: { code: 'WORKER_BUSY', message: 'worker w-1 had no free slot: all 4 slots busy', retryable: true }, countsAsLost: false },
      suspectForMs: 400,
    });
  });

  it('fails the task without a retry when its data could not be carried, naming the cause', () => {
    expect(attemptOutcomeOf({ kind: 'undeliverable', code: 'RESULT_TOO_LARGE', message: 'the answer is 20 MB' }, facts())).toEqual({
      label: 'undeliverable',
      outcome: { kind: 'failed', error: { code: 'RESULT_TOO_LARGE', message: 'step "fetch" on worker w-1: the answer is 20 MB', retryable: false }, durationMs: 42 },
    });
  });

  it('maps a refusal to a failure coded by its gRPC status', () => {
    expect(attemptOutcomeOf({ kind: 'rejected', code: 'INVALID_ARGUMENT', message: 'bad url', retryable: false }, facts()).outcome).toEqual({
      kind: 'failed',
      error: { code: 'WORKER_REJECTED_INVALID_ARGUMENT', message: 'worker w-1 refused the task: bad url', retryable: false },
      durationMs: 42,
    });
  });

  it('applies nothing for a call aborted by a cancel, and hands the attempt back when this process shuts down', () => {
    expect(attemptOutcomeOf({ kind: 'aborted' }, facts({ abortReason: 'cancelled' }))).toEqual({ label: 'aborted', outcome: undefined });
    expect(attemptOutcomeOf({ kind: 'aborted' }, facts({ abortReason: 'lost' }))).toEqual({ label: 'aborted', outcome: undefined });
    expect(attemptOutcomeOf({ kind: 'aborted' }, facts({ abortReason: 'shutdown' })).outcome).toEqual({
      kind: 'lost',
      error: { code: 'DISPATCHER_STOPPED', message: 'the dispatcher shut down; running it again', retryable: true },
      countsAsLost: false,
    });
  });
});

describe('unreachableOutcome', () => {
  it('counts a worker that could not be reached as a lost attempt, and avoids it for a lease', () => {
    expect(unreachableOutcome(new Error('UNAVAILABLE: connection refused'), facts())).toEqual({
      label: 'lost',
      outcome: { kind: 'lost', error: { code: 'WORKER_UNAVAILABLE', message: 'worker w-1 (127.0.0.1:7001): UNAVAILABLE: connection refused', retryable: true }, countsAsLost: true },
      suspectForMs: 15_000,
    });
  });
  it('does not count an open circuit (no call was made) against the task', () => {
    const open = Object.assign(new Error('Breaker is open'), { code: 'EOPENBREAKER' });
    expect(unreachableOutcome(open, facts()).outcome).toMatchObject({ error: { code: 'WORKER_CIRCUIT_OPEN' }, countsAsLost: false });
  });
});
