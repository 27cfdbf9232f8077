import { boundLogger, endSpan, newId, SpanKind, startSpan, traceIdOf, wellFormedText, type Logger, type SecretMasker } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { checkReportedArtifacts, type ArtifactVerdict, type ReportedArtifact } from '../../domain/artifacts';
import { gpuUsageOf, MAX_MODEL_CALLS_PER_ATTEMPT, modelCallRow } from '../../domain/usage';
import { insertArtifacts, type NewArtifact } from '../../store/artifacts';
import { insertGpuUsage, insertModelCalls, type NewModelCall } from '../../store/usage';
import type { Engine } from '../engine';
import { DISPATCH_STAGE_METRIC } from './batching';
import type { Claim } from './claim-policy';
import type { DispatchChange } from './commits';
import { createAttemptEventWriter, createEventBuffer, logEvent, progressEvent, recordAttemptEvents, type AttemptRef } from './event-buffer';
import { createEventGate } from './event-gate';
import { createOutputDeltaBatcher } from './output-deltas';
import { attemptOutcomeOf, consume, unreachableOutcome, type CallOutcome, type MappedOutcome } from './execute-call';
import { createProviderUsageTally, recordProviderUsage } from './provider-admission';
import type { AttemptResult, ResultApplied } from './results';
import type { SlotWaits } from './slot-waits';

/**
 * Runs one claimed attempt: its span and log lines, the Execute call through the endpoint's
 * circuit breaker (execute-call.ts), its streamed events buffered (event-buffer.ts), its outcome
 * applied (results.ts), and its slot handed on (slot-waits.ts).
 */
/** The outcome with the attempt's secrets masked in its output and error message. */
function maskOutcome(mapped: MappedOutcome, masker: SecretMasker): MappedOutcome {
  const { outcome } = mapped;
  if (!masker.active || outcome === undefined) return mapped;
  if (outcome.kind === 'succeeded') return { ...mapped, outcome: { ...outcome, output: masker.value(outcome.output) } };
  return { ...mapped, outcome: { ...outcome, error: { ...outcome.error, message: masker.text(outcome.error.message) } } };
}

/** Reports past this many on one stream are dropped unread (a worker gone wrong must not grow memory). */
const MAX_REPORTS_READ = 1_000;

/** The outcome failed with ARTIFACT_TOO_LARGE when the artifacts broke a size limit (the worker's own such failure is kept). */
function limitOutcome(mapped: MappedOutcome, verdict: ArtifactVerdict): MappedOutcome {
  const { outcome } = mapped;
  if (!verdict.tooLarge || outcome === undefined || outcome.kind === 'lost') return mapped;
  if (outcome.kind === 'failed' && outcome.error.code === 'ARTIFACT_TOO_LARGE') return mapped;
  return { ...mapped, label: 'artifact_too_large', outcome: { kind: 'failed', error: { ...verdict.tooLarge }, durationMs: outcome.durationMs } };
}

export interface AttemptExecutorOptions {
  engine: Engine;
  /** The streamed events' transactions (commits.ts). */
  change: DispatchChange;
  log: Logger;
  /** `slotTaken`: a claim that rode with the result took a slot (the one it freed, most likely): nobody else is told. */
  applyResult: (result: AttemptResult) => Promise<ResultApplied & { slotTaken?: boolean }>;
  slots: SlotWaits;
}

export function createAttemptExecutor({ engine, change, log, applyResult, slots }: AttemptExecutorOptions): (claim: Extract<Claim, { kind: 'claimed' }>) => Promise<void> {
  const { config, cancellations, workerClients, workerAuthority, metrics } = engine;
  const artifactLimits = { maxBytes: config.ARTIFACT_MAX_BYTES, maxAttemptBytes: config.ARTIFACT_MAX_ATTEMPT_BYTES };
  /** Objects the worker stored that are not recorded (over a limit): nothing would ever find or expire them. */
  const discardObjects = async (keys: string[], callLog: Logger): Promise<void> => {
    if (!engine.artifactObjects) return callLog.warn('artifacts over a limit left in the store (no artifact store configured here)', { count: keys.length });
    try {
      await engine.artifactObjects.delete(keys);
      callLog.info('artifacts over a limit deleted from the store', { count: keys.length });
    } catch (error) {
      callLog.warn('could not delete artifacts over a limit from the store', { err: error, count: keys.length });
    }
  };
  const [stageName, stageHelp, stageLabels, stageBuckets] = DISPATCH_STAGE_METRIC;
  const stages = metrics.histogram(stageName, stageHelp, [...stageLabels], [...stageBuckets]);
  const executions = metrics.histogram('task_attempt_duration_seconds', 'Execute calls from claim to result, by outcome', ['outcome'], [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800]);
  // Streamed events of all this dispatcher's attempts, written together while a write runs (event-buffer.ts).
  const writeEvents = createAttemptEventWriter({
    change,
    onGroupFailure: (error, size) => log.warn('a group of streamed event batches failed: writing them one by one', { err: error, size }),
  });

  return async function execute({ run, task, attempt, worker, input, masker, secretValues, llmProviders }) {
    // The attempt's span, under the request that started the run; the worker's span nests under it.
    const traced = startSpan(`execute ${task.capability}`, run.traceparent ?? undefined, SpanKind.CLIENT, {
      'orchestra.run_id': run.id,
      'orchestra.task_id': task.id,
      'orchestra.step_id': task.stepId,
      'orchestra.attempt_id': attempt.id,
      'orchestra.attempt': attempt.attempt,
      'orchestra.worker_id': worker.id,
    });
    // Bound, not a child: an attempt writes one line, and a pino child would serialize its bindings a second time.
    const callLog = boundLogger(log, { runId: run.id, orgId: run.orgId, traceId: traceIdOf(traced.traceparent), taskId: task.id, stepId: task.stepId, attemptId: attempt.id, attempt: attempt.attempt, workerId: worker.id, capability: task.capability });
    // One info line per attempt, when it ends (with the worker and how long it took); the start is
    // in the run's events (RUNNING on worker X) and at debug here.
    callLog.debug('task attempt dispatched', { endpoint: worker.endpoint, timeoutMs: task.timeoutMs });
    const call = cancellations.track(attempt.id);
    slots.callStarted(task.pool);
    const ref: AttemptRef = { run, task, attempt };
    const events = createEventBuffer({
      flushIntervalMs: config.EVENT_FLUSH_INTERVAL_MS,
      write: (batch) => writeEvents(ref, batch),
      onWriteFailure: (error, dropped) => callLog.warn('could not record progress/log events', { err: error, dropped }),
    });
    // Progress coalesced and log lines rate-bounded per attempt before they are buffered (event-gate.ts).
    const gate = createEventGate({
      sink: (event) => events.push(event),
      progressIntervalMs: config.TASK_PROGRESS_INTERVAL_MS,
      logPerSecond: config.TASK_LOG_LINES_PER_SECOND,
      logBurst: 100,
      maxLogLines: config.TASK_LOG_LINES_PER_ATTEMPT,
    });
    // Streamed output coalesced into at most ~20 TASK_OUTPUT_DELTA events a second (output-deltas.ts).
    const deltas = createOutputDeltaBatcher({
      push: (event) => events.push(event),
      flush: () => events.flush(),
      intervalMs: config.TASK_OUTPUT_DELTA_INTERVAL_MS,
      maxChars: config.TASK_OUTPUT_STREAM_MAX_CHARS,
    });
    const reported: ReportedArtifact[] = [];
    const usageKeys = { orgId: run.orgId, runId: run.id, taskId: task.id, attemptId: attempt.id, workflowId: run.workflowId, appId: run.appId };
    const modelCalls: NewModelCall[] = [];
    let modelCallsDropped = 0;
    // Every call counts against its provider's rate limits, also past the rows kept and however the attempt ends.
    const providerUsage = createProviderUsageTally(llmProviders.map((p) => p.name));
    const startedAt = Date.now();
    const endpoint = workerClients.get(worker.endpoint);
    const request: automationV1.ExecuteRequest = {
      taskId: task.id,
      attemptId: attempt.id,
      runId: run.id,
      orgId: run.orgId,
      stepId: task.stepId,
      capability: task.capability,
      input,
      attempt: attempt.attempt - task.attemptsAtReset,
      timeoutMs: task.timeoutMs,
      traceparent: traced.traceparent,
      secretValues,
      llmProviders,
      gpuIndices: attempt.gpus?.map((g) => g.index) ?? [],
    };
    const facts = () => ({
      stepId: task.stepId,
      timeoutMs: task.timeoutMs,
      workerId: worker.id,
      endpoint: worker.endpoint,
      elapsedMs: Date.now() - startedAt,
      abortReason: call.reason,
      retryDelayMs: config.DISPATCH_RETRY_DELAY_MS,
      leaseTtlMs: config.WORKER_LEASE_TTL_MS,
    });
    let mapped: MappedOutcome;
    try {
      const ended = (await endpoint.breaker.fire(() =>
        consume(endpoint.client, request, call, workerAuthority.dispatchToken(worker.id), {
          // The attempt's secrets are masked in everything that comes back before it is stored or published.
          // ...and made storable (NUL, lone surrogates: U+FFFD), so a line a web page wrote cannot fail the event write.
          progress: (p) => gate.offer(progressEvent({ ...p, message: wellFormedText(masker.text(p.message)) })),
          log: (l) => gate.offer(logEvent({ ...l, message: wellFormedText(masker.text(l.message)) })),
          delta: (d) => deltas.offer(wellFormedText(masker.text(d.text)), d.restart),
          modelCall: (c) => {
            providerUsage.add(c);
            if (modelCalls.length >= MAX_MODEL_CALLS_PER_ATTEMPT) modelCallsDropped += 1;
            else modelCalls.push(modelCallRow({ ...c, errorMessage: wellFormedText(masker.text(c.errorMessage)), provider: wellFormedText(c.provider), model: wellFormedText(c.model), requestedModel: wellFormedText(c.requestedModel) }, usageKeys, llmProviders, newId()));
          },
          artifact: (a) => {
            if (reported.length < MAX_REPORTS_READ) reported.push({ ...a, sizeBytes: Number(a.sizeBytes) });
          },
        }),
      )) as CallOutcome;
      mapped = maskOutcome(attemptOutcomeOf(ended, facts()), masker);
    } catch (error) {
      mapped = maskOutcome(unreachableOutcome(error, facts()), masker);
    } finally {
      gate.close();
      deltas.close();
      cancellations.untrack(attempt.id);
      slots.callEnded(task.pool, Date.now() - startedAt);
    }
    const verdict = checkReportedArtifacts(reported, { orgId: run.orgId, runId: run.id, taskId: task.id, attemptId: attempt.id }, artifactLimits);
    if (verdict.rejected.length > 0) callLog.warn('artifact reports ignored', { count: verdict.rejected.length, first: verdict.rejected.slice(0, 5) });
    mapped = limitOutcome(mapped, verdict);
    if (modelCallsDropped > 0) callLog.warn('model calls past the limit were not recorded', { dropped: modelCallsDropped, limit: MAX_MODEL_CALLS_PER_ATTEMPT });
    // Every attempt on a worker with GPUs, however it ended, spent GPU time.
    const gpuUsage = gpuUsageOf(usageKeys, worker, request.gpuIndices, Date.now() - startedAt);
    const recordUsage = async (tx: Parameters<typeof insertModelCalls>[0]) => {
      await insertModelCalls(tx, modelCalls);
      if (gpuUsage) await insertGpuUsage(tx, gpuUsage);
    };
    const artifactRows: NewArtifact[] = verdict.accepted.map((a) => ({ ...a, id: newId(), orgId: run.orgId, runId: run.id, taskId: task.id, attemptId: attempt.id }));
    if (mapped.suspectForMs !== undefined) workerClients.markSuspect(worker.id, mapped.suspectForMs);
    const { outcome } = mapped;
    let slotTaken = false;
    if (llmProviders.length > 0) {
      // Per-provider tokens and requests per minute count every call the attempt made (provider-admission.ts).
      await recordProviderUsage(engine.providerLimits, run.orgId, llmProviders[0]?.name, providerUsage).catch((error: unknown) => callLog.warn('could not count model calls against their provider limits', { err: error }));
    }
    executions.observe({ outcome: mapped.label }, (Date.now() - startedAt) / 1000);
    endSpan(traced.span, {
      attributes: { 'orchestra.outcome': outcome?.kind ?? 'stopped' },
      failure: outcome !== undefined && outcome.kind !== 'succeeded' ? `${outcome.error.code}: ${outcome.error.message}` : undefined,
    });
    if (outcome === undefined) {
      await events.flush();
      // A stopped (cancelled) attempt keeps what it stored before it stopped.
      if (artifactRows.length > 0) {
        await engine.inSystem((tx) => insertArtifacts(tx, artifactRows)).catch((error: unknown) => callLog.warn('could not record the artifacts of a stopped attempt', { err: error, count: artifactRows.length }));
      }
      if (modelCalls.length > 0 || gpuUsage) {
        await engine.inSystem(recordUsage).catch((error: unknown) => callLog.warn('could not record the usage of a stopped attempt', { err: error, modelCalls: modelCalls.length }));
      }
      callLog.info('task attempt stopped', { reason: call.reason });
    } else {
      const callEndedAt = Date.now();
      const rest = await events.rest();
      const applied = await applyResult({
        runId: run.id,
        task,
        attemptId: attempt.id,
        outcome,
        record: async (ctx) => {
          await recordAttemptEvents(ctx, ref, rest);
          await insertArtifacts(ctx.tx, artifactRows);
          await recordUsage(ctx.tx);
        },
      });
      stages.observe({ stage: 'result' }, (Date.now() - callEndedAt) / 1000);
      slotTaken = applied.slotTaken === true;
      if (applied.applied) {
        const fields = { outcome: outcome.kind, durationMs: Date.now() - startedAt, endpoint: worker.endpoint, ...(outcome.kind === 'succeeded' ? {} : { error: outcome.error }) };
        if (outcome.kind === 'succeeded') callLog.info('task attempt succeeded', fields);
        else callLog.warn(outcome.kind === 'lost' ? 'task attempt lost' : 'task attempt failed', fields);
      } else {
        callLog.info('task attempt result ignored', { outcome: outcome.kind, reason: applied.reason });
        // The provider was paid and the GPU was busy all the same (rows are keyed, so a repeat is harmless).
        if (modelCalls.length > 0 || gpuUsage) await engine.inSystem(recordUsage).catch((error: unknown) => callLog.warn('could not record the usage of an ignored result', { err: error }));
      }
    }
    if (verdict.discardKeys.length > 0) await discardObjects(verdict.discardKeys, callLog);
    // A slot is free on this worker, unless a claim that rode with the result took it.
    if (!slotTaken) slots.slotFreed(task.pool);
  };
}
