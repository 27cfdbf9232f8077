import type { Engine } from '../engine/engine';
import type { TransitionContext } from '../engine/transitions';
import { matchesFilter } from '../events/event-filter';
import type { EmittedEventRow } from '../store/emitted-events';
import { lockRun } from '../store/runs';
import { eventWaitCandidates } from '../store/task-waits';
import { endWait } from './resolve';

/**
 * An emitted event resumes the organization's event waits it matches (issue 10), in emitEvent's
 * transaction: waits of its name whose correlation (checked in SQL, on an index of the org's waiting
 * event waits by name) and payload filter it passes. Bounded work per emit: at most
 * MAX_EVENT_WAITS_PER_EMIT waits, oldest first; the others wait for the next matching event. Each
 * resumes exactly once (endWait's guard): a second event, or a second emit with the same key, finds
 * it no longer WAITING. Its output is the event's payload.
 */
export const MAX_EVENT_WAITS_PER_EMIT = 100;

export async function resumeEventWaits(ctx: TransitionContext, engine: Engine, event: EmittedEventRow): Promise<number> {
  const candidates = (await eventWaitCandidates(ctx.tx, event.orgId, event.name, event.payload, MAX_EVENT_WAITS_PER_EMIT)).filter((w) => matchesFilter(w.eventFilter, event.payload));
  // Runs locked in id order, so two emits resuming waits of the same runs do not deadlock.
  candidates.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  let resumed = 0;
  for (const wait of candidates) {
    const run = await lockRun(ctx.tx, wait.runId);
    if (!run) continue;
    const ended = await endWait(ctx, run, wait, {
      outcome: 'SUCCEED',
      resolution: { status: 'RECEIVED', output: event.payload, decidedBy: `event ${event.id}` },
      message: `event "${event.name}" ${event.id} arrived`,
    });
    if (ended.ended) resumed += 1;
  }
  if (resumed > 0) engine.log.info('event resumed waits', { eventId: event.id, orgId: event.orgId, name: event.name, resumed });
  return resumed;
}
