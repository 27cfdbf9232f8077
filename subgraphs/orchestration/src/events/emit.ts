import { badInput, checkJsonInput, newId, recordAudit, type Principal } from '@orchestra/lib';
import { SERVICE, type Engine } from '../engine/engine';
import { startRunsIn } from '../engine/run-starts';
import type { TransitionContext } from '../engine/transitions';
import { claimEventStarts, insertEvent, recordEventStart, startsOfKey, type EmittedEventRow, type EventSource } from '../store/emitted-events';
import { triggersOfEvent } from '../store/triggers';
import { resumeEventWaits } from '../waits/event-waits';
import { checkEventName, matchesFilter } from './event-filter';

/**
 * emitEvent (GraphQL, gRPC, inbound webhooks): one transaction records the event, finds the
 * triggers of its name whose filter the payload passes, claims (org, workflow, idempotency key) for
 * each of their workflows in event_starts — a unique key, so a key seen before, or being used by a
 * concurrent emit, claims nothing for that workflow — and starts the claimed workflows' runs with
 * the payload as input through the run start path (quotas, input checks, audit). A run that cannot
 * start is recorded with its error and may be started by the same key again later. The same
 * transaction resumes the event wait steps the event matches (waits/event-waits.ts).
 */

/** An event's payload, at most (it becomes the input of every run it starts). */
export const MAX_EVENT_PAYLOAD_BYTES = 64 * 1024;
/** Triggers one event name may have in an organization (an event starts at most this many runs). */
export const MAX_TRIGGERS_PER_EVENT = 100;

export interface EmitEventInput {
  name: string;
  payload?: unknown;
  /** 1 to 200 characters; absent: a fresh one (the event is never deduplicated). */
  idempotencyKey?: string | null;
}

export interface EventStartOutcome {
  workflowId: string;
  triggerId: string | null;
  runId: string | null;
  /** The key had already started this workflow: runId is that run. */
  deduplicated: boolean;
  error: string | null;
}

export interface EmitEventResult {
  event: EmittedEventRow;
  starts: EventStartOutcome[];
  /** Event wait steps this event resumed. */
  resumedWaits: number;
}

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

export interface CheckedEvent {
  name: string;
  payload: Record<string, unknown>;
  key: string;
}

/** Checks an event without the database; errors name `field.name`, `field.payload`, `field.idempotencyKey`. */
export function checkEvent(input: EmitEventInput, field: string): CheckedEvent {
  const at = (name: string) => (field === '' ? name : `${field}.${name}`);
  const name = checkEventName(input.name, at('name'));
  const payload = input.payload ?? {};
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw badInput(at('payload'), 'an event payload is a JSON object (it becomes the input of the runs it starts)', 'INVALID_EVENT_PAYLOAD');
  checkJsonInput(payload, at('payload'));
  const bytes = JSON.stringify(payload).length;
  if (bytes > MAX_EVENT_PAYLOAD_BYTES) throw badInput(at('payload'), `an event payload has at most ${MAX_EVENT_PAYLOAD_BYTES} bytes as JSON (got ${bytes})`, 'EVENT_PAYLOAD_TOO_LARGE');
  const key = input.idempotencyKey ?? null;
  if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw badInput(at('idempotencyKey'), 'an idempotency key has 1 to 200 characters', 'INVALID_IDEMPOTENCY_KEY');
  return { name, payload: payload as Record<string, unknown>, key: key ?? `event:${newId()}` };
}

/** Listeners of emitted events inside the emitting transaction (event wait steps resume here). */
export type EventListener = (ctx: TransitionContext, engine: Engine, event: EmittedEventRow) => Promise<void>;

/** Emits a checked event in `ctx` (its organization's transaction) as `principal`. */
export async function emitEventIn(ctx: TransitionContext, engine: Engine, principal: Principal, event: CheckedEvent, source: EventSource, listeners: readonly EventListener[] = []): Promise<EmitEventResult> {
  const orgId = principal.orgId as string;
  const recorded = await insertEvent(ctx.tx, { id: newId(), orgId, name: event.name, payload: event.payload, idempotencyKey: event.key, source, emittedBy: actorOf(principal) });
  const matching = (await triggersOfEvent(ctx.tx, event.name, MAX_TRIGGERS_PER_EVENT)).filter((t) => matchesFilter(t.filter, event.payload));
  // One start per workflow, whichever of its triggers matched first.
  const byWorkflow = new Map<string, string>();
  for (const t of matching) if (!byWorkflow.has(t.workflowId)) byWorkflow.set(t.workflowId, t.id);
  const claims = [...byWorkflow].map(([workflowId, triggerId]) => ({ workflowId, triggerId }));
  const claimed = new Set(await claimEventStarts(ctx.tx, orgId, recorded.id, event.key, claims));
  const toStart = claims.filter((c) => claimed.has(c.workflowId));
  const outcomes = await startRunsIn(
    ctx,
    engine,
    principal,
    toStart.map((c) => ({ workflowId: c.workflowId, input: event.payload })),
    'payload',
  );
  const starts: EventStartOutcome[] = [];
  for (const [i, c] of toStart.entries()) {
    const outcome = outcomes[i];
    if (outcome?.ok) {
      await recordEventStart(ctx.tx, orgId, event.key, c.workflowId, { runId: outcome.result.run.id });
      starts.push({ ...c, runId: outcome.result.run.id, deduplicated: false, error: null });
    } else {
      const error = outcome ? outcome.error.message : 'no outcome';
      await recordEventStart(ctx.tx, orgId, event.key, c.workflowId, { error });
      engine.log.warn('an event could not start a workflow', { eventId: recorded.id, orgId, workflowId: c.workflowId, triggerId: c.triggerId, error, requestId: principal.requestId });
      starts.push({ ...c, runId: null, deduplicated: false, error });
    }
  }
  const earlier = await startsOfKey(
    ctx.tx,
    event.key,
    claims.filter((c) => !claimed.has(c.workflowId)).map((c) => c.workflowId),
  );
  for (const e of earlier) starts.push({ workflowId: e.workflowId, triggerId: e.triggerId, runId: e.runId, deduplicated: true, error: e.error });
  // Event wait steps of the organization that this event matches resume (bounded per emit).
  const resumed = await resumeEventWaits(ctx, engine, recorded);
  for (const listen of listeners) await listen(ctx, engine, recorded);
  await recordAudit(ctx.tx, SERVICE, principal, {
    action: 'event.emit',
    targetType: 'Event',
    targetId: recorded.id,
    diff: { name: event.name, idempotencyKey: event.key, source, started: starts.filter((s) => !s.deduplicated && s.runId).map((s) => s.runId) },
  });
  engine.log.info('event emitted', { eventId: recorded.id, orgId, name: event.name, source, started: starts.filter((s) => !s.deduplicated && s.runId).length, deduplicated: earlier.length, requestId: principal.requestId });
  return { event: recorded, starts, resumedWaits: resumed };
}

/** emitEvent for a principal of an organization: checks, then one transaction. */
export async function emitEvent(engine: Engine, principal: Principal, input: EmitEventInput, source: EventSource, listeners: readonly EventListener[] = [], field = 'input'): Promise<EmitEventResult> {
  const event = checkEvent(input, field);
  return engine.change(principal, (ctx) => emitEventIn(ctx, engine, principal, event, source, listeners));
}
