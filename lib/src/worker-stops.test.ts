import { WORKER_ABORTS, WORKER_STOP_CODES } from './worker-stops';

describe('worker stops', () => {
  it('are the codes a worker reports for attempts stopped from outside, not for a task that ran out of time', () => {
    expect([...WORKER_STOP_CODES].sort()).toEqual(['ABORTED', 'CANCELLED']);
    expect(WORKER_STOP_CODES.has(WORKER_ABORTS.TIMEOUT.code)).toBe(false);
    for (const kind of ['CANCELLED', 'ABORTED', 'SHUTDOWN'] as const) expect(WORKER_STOP_CODES.has(WORKER_ABORTS[kind].code)).toBe(true);
    // Only a cancel is final; an attempt whose callers left or whose worker shut down may run again.
    expect(Object.entries(WORKER_ABORTS).filter(([, a]) => !a.retryable).map(([kind]) => kind)).toEqual(['CANCELLED']);
  });
});
