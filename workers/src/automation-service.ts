import type { GrpcServiceImpl } from '@orchestra/lib/worker';
import { automationV1 } from '@orchestra/proto';
import type { AttemptTable } from './attempts';

export interface AutomationServiceDeps {
  attempts: AttemptTable;
  describe(): Promise<automationV1.DescribeResponse>;
}

/** AutomationService as the orchestrator's dispatcher sees it. */
export function createAutomationService({ attempts, describe }: AutomationServiceDeps): GrpcServiceImpl<typeof automationV1.AutomationServiceService> {
  return {
    async execute(request, out, ctx) {
      // Events go out one after another in the order the executor produced them, then the result.
      let sent: Promise<void> = Promise.resolve();
      const send = (event: automationV1.ExecuteResponse) => {
        sent = sent.then(() => out.write(event));
      };
      const { attempt, joined, unsubscribe } = attempts.open(request, send);
      if (joined) ctx.log.info('joined an attempt that already runs or ran here', { attemptId: attempt.id, finished: attempt.finished });
      const onCallEnded = () => attempts.release(attempt, unsubscribe, ctx.deadline);
      // The call's end matters only to an attempt still running. A call is cancelled by a grpc-js event
      // (I/O or its deadline timer), never within this turn of the event loop, and a noop's attempt has
      // ended by the end of it: the listener (an EventTarget add and remove, ~2% of a worker's CPU per
      // noop) is added at the turn's end, and only for an attempt still running then.
      let listening = false;
      const watch = setImmediate(() => {
        if (attempt.finished) return;
        if (ctx.signal.aborted) return onCallEnded();
        ctx.signal.addEventListener('abort', onCallEnded, { once: true });
        listening = true;
      });
      try {
        const result = await attempt.done;
        await sent;
        if (!ctx.signal.aborted) await out.write({ event: { $case: 'result', value: result } });
      } finally {
        clearImmediate(watch);
        if (listening) ctx.signal.removeEventListener('abort', onCallEnded);
      }
    },

    cancel(request) {
      const cancelled = attempts.cancel(request.attemptId, 'CANCELLED', request.reason === '' ? 'cancelled by the orchestrator' : `cancelled: ${request.reason}`);
      return Promise.resolve({ cancelled });
    },

    describe() {
      return describe();
    },

    getAttempt(request) {
      // Running here, or finished recently (the result cache that makes a duplicate Execute a join).
      if (attempts.runningIds().includes(request.attemptId)) return Promise.resolve({ state: automationV1.AttemptState.ATTEMPT_STATE_RUNNING, result: undefined });
      const result = attempts.recent(request.attemptId);
      if (result) return Promise.resolve({ state: automationV1.AttemptState.ATTEMPT_STATE_FINISHED, result });
      return Promise.resolve({ state: automationV1.AttemptState.ATTEMPT_STATE_UNSPECIFIED, result: undefined });
    },
  };
}
