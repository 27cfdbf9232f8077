import { createSecretMasker, type SecretMasker } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { InputLimitError, referencedSteps, TemplateError } from '../../domain/templates';
import { ProviderUnavailableError, resolveDispatchProviders } from '../../llm/dispatch-providers';
import type { ProviderLimit } from '../../llm/provider-limits';
import { resolveDispatchInput, secretReader, SecretUnavailableError } from '../../secrets/dispatch-secrets';
import { endAttempt } from '../../store/attempts';
import { recordRateLimitUsage } from '../../store/admission';
import { attemptsWithTasks, claimedAttemptsWithTasks, lockFreeSlots, lockRuns, startAttemptsOnFreeSlots, startAttemptsOnSlots, succeededStepOutputs, type AttemptOnSlot, type SlotCandidate } from '../../store/dispatch';
import { isDispatcherAlive } from '../../store/dispatchers';
import { deleteOutbox } from '../../store/outbox';
import type { AttemptGpu, AttemptRow, ErrorInfo, RunRow, TaskRow, WorkerRow } from '../../store/rows';
import type { Engine } from '../engine';
import type { AttemptJob } from '../task-queues';
import { applyAttemptOutcome, failTask, runStatusChanged, type TransitionContext } from '../transitions';
import { expandForEach } from '../for-each';
import { admitByFlowControl } from './admission';
import { placeGpuGroup } from './gpu-claims';
import { recordLocalProviderWaits } from './local-provider-claims';
import { localEndpointsOf } from './local-providers';
import { admitByProviderLimits, releaseUnstarted, type ProviderAdmissions } from './provider-admission';
import { queueTimeoutFailure } from './queue-timeout';
import { admitAttempt, checkPlacement, groupByNeeds, noSlotReason, placeInOrder, redelivery, type Claim, type PlacementPolicy } from './claim-policy';

/**
 * The claim transaction: queued attempts whose jobs arrive together are claimed in one
 * transaction (their runs locked in id order, then their rows read), each decided by the claim
 * policy (claim-policy.ts), and the startable ones placed on free slots and started, one statement
 * per kind of slot they need (two with a placement policy of the caller's, or for GPU steps). The
 * effects here (a redelivered attempt given up, a template that does not resolve) are the
 * policy's answers carried out; the rules live in the policy.
 */

/** A queued attempt that may start now, with its input resolved: it looks for a slot. */
interface Startable {
  attempt: AttemptRow;
  task: TaskRow;
  /** For the worker only (secrets resolved). */
  input: unknown;
  /** Stored as the task's input and shown (secrets masked). */
  shown: unknown;
  masker: SecretMasker;
  secretValues: string[];
  /** A model step's providers, with their API keys (for the worker only). */
  llmProviders: automationV1.LlmProvider[];
  /** Their requests and tokens per minute (provider-admission.ts). */
  llmLimits: ProviderLimit[];
  /** The LLM servers of its worker-local providers, which its worker must declare (local-providers.ts). */
  llmEndpoints: string[];
}

export interface ClaimerOptions {
  engine: Engine;
  dispatcherId: string;
  /** Which free slot each startable attempt takes (default: placeInOrder). */
  placement?: PlacementPolicy;
}

/**
 * Claims queued attempts inside a transaction (its runs locked already when `locked` is given); the
 * dispatch transactions (transactions.ts) batch them, with the results that are pending.
 */
export type ClaimsIn = (ctx: TransitionContext, requests: readonly AttemptJob[], locked?: Map<string, RunRow>) => Promise<Claim[]>;

export function createClaimer({ engine, dispatcherId, placement = placeInOrder }: ClaimerOptions): ClaimsIn {
  const { config, cancellations, workerClients } = engine;

  /**
   * Looks at one queued attempt inside a claim transaction that holds its run's lock (`attempt` and
   * `task` were read after that lock was taken): decides to drop it or let it wait, or finds it
   * startable. Resolves also to the run as it is now, and whether other tasks of the run may have
   * changed (a later claim of the same batch then reads its rows again).
   */
  async function examine(ctx: TransitionContext, run: RunRow, attempt: AttemptRow | undefined, task: TaskRow | undefined): Promise<{ claim: Claim | Startable; run: RunRow; changedRun: boolean }> {
    const decided = (claim: Claim | Startable, changedRun = false, now: RunRow = run) => ({ claim, run: now, changedRun });
    const admission = admitAttempt(run, attempt, task, Date.now());
    switch (admission.kind) {
      case 'drop':
      case 'wait':
        return decided(admission);
      case 'redelivered': {
        // Delivered again while RUNNING: the job's previous holder stalled or died.
        const running = attempt as AttemptRow;
        const executingHere = cancellations.inFlight().some((c) => c.attemptId === running.id);
        const next = redelivery(running, { dispatcherId, executingHere });
        if (next.kind === 'drop') return decided(next);
        if (next.kind === 'check-holder') {
          if (await isDispatcherAlive(ctx.tx, next.holder, new Date(Date.now() - config.DISPATCHER_LEASE_TTL_MS))) return decided({ kind: 'drop', reason: 'another live dispatcher runs it' });
          // Its dispatcher died: the takeover (reconciler.ts) settles it, asking its worker first whether
          // it finished there (issue 9 item 18), which a claim transaction must not wait for.
          return decided({ kind: 'drop', reason: 'its dispatcher went away: the takeover settles it' });
        }
        if (task) {
          const lost = await applyAttemptOutcome(ctx, run, task, running.id, {
            kind: 'lost',
            error: { code: 'DISPATCHER_LOST', message: 'the dispatcher that ran it went away', retryable: true },
            countsAsLost: false,
          });
          run = lost.run;
          ctx.effects.cancel.push({ attemptId: running.id, workerId: running.workerId, reason: 'reassigned: its dispatcher went away' });
        }
        return decided({ kind: 'drop', reason: 'its dispatcher went away: a new attempt was queued' }, true);
      }
      case 'admit':
        break;
    }
    const admitted = admission;
    if (admitted.task.forEach && !admitted.task.parentTaskId) {
      // A forEach step runs on no worker: its attempt expands it into its item tasks (engine/for-each.ts).
      return decided({ kind: 'drop', reason: 'forEach step expanded into its items' }, true, await expandForEach(ctx, run, admitted.attempt, admitted.task));
    }
    const timedOut = queueTimeoutFailure(admitted.task, admitted.attempt, Date.now());
    if (timedOut) {
      const failed = await endAttempt(ctx.tx, admitted.attempt.id, ['QUEUED'], 'FAILED', timedOut);
      await deleteOutbox(ctx.tx, [admitted.attempt.id]);
      run = await failTask(ctx, run, admitted.task, failed ?? admitted.attempt, timedOut);
      return decided({ kind: 'drop', reason: 'it waited past its queue timeout' }, true);
    }
    try {
      const template = admitted.task.inputTemplate ?? {};
      const steps = await succeededStepOutputs(ctx.tx, run.id, referencedSteps(template));
      // Secrets are read here and only here (issue 8): the worker gets their values, the task row gets ****.
      const readSecrets = secretReader(ctx.tx, config.SECRETS_KEYS);
      const item = admitted.task.parentTaskId ? { item: { value: admitted.task.item, index: admitted.task.itemIndex ?? 0 } } : {};
      const resolved = await resolveDispatchInput(template, { input: run.input, steps, run: { id: run.id }, ...item }, run.orgId, readSecrets);
      // A model step's providers (issue 14), their API keys masked like the input's secrets.
      const llm = await resolveDispatchProviders(ctx.tx, run.orgId, admitted.task.capability, resolved.input, readSecrets);
      const masker = llm.keys.length === 0 ? resolved.masker : createSecretMasker([...resolved.values, ...llm.keys]);
      return decided({ attempt: admitted.attempt, task: admitted.task, input: resolved.input, shown: resolved.shown, masker, secretValues: resolved.values, llmProviders: llm.providers, llmLimits: llm.limits, llmEndpoints: localEndpointsOf(llm.providers) });
    } catch (error) {
      if (!(error instanceof TemplateError) && !(error instanceof SecretUnavailableError) && !(error instanceof InputLimitError) && !(error instanceof ProviderUnavailableError)) throw error;
      const code = error instanceof SecretUnavailableError || error instanceof InputLimitError || error instanceof ProviderUnavailableError ? error.code : 'TEMPLATE_ERROR';
      const failure: ErrorInfo = { code, message: `step "${admitted.task.stepId}": ${error.message}`, retryable: false };
      const failed = await endAttempt(ctx.tx, admitted.attempt.id, ['QUEUED'], 'FAILED', failure);
      await deleteOutbox(ctx.tx, [admitted.attempt.id]);
      run = await failTask(ctx, run, admitted.task, failed ?? admitted.attempt, failure);
      const reason =
        code === 'TEMPLATE_ERROR'
          ? 'input templates do not resolve'
          : error instanceof InputLimitError
            ? 'its resolved input is over the limits'
            : error instanceof ProviderUnavailableError
              ? 'its model providers cannot be given'
              : 'its secrets cannot be given';
      return decided({ kind: 'drop', reason }, true);
    }
  }

  /**
   * Startable attempts of runs that a later claim of the batch changed (failed a task, queued a
   * new attempt) may no longer be waiting: read again, only those still QUEUED and current stay.
   */
  async function stillWaiting(ctx: TransitionContext, startable: readonly Startable[], changedRuns: ReadonlySet<string>): Promise<Set<string>> {
    const stale = startable.filter((s) => changedRuns.has(s.task.runId));
    const ok = new Set(startable.filter((s) => !changedRuns.has(s.task.runId)).map((s) => s.attempt.id));
    if (stale.length === 0) return ok;
    const rows = await attemptsWithTasks(
      ctx.tx,
      stale.map((s) => s.attempt.id),
    );
    for (const s of stale) {
      const row = rows.get(s.attempt.id);
      if (row?.attempt.status === 'QUEUED' && row.task.status === 'QUEUED' && row.task.currentAttemptId === s.attempt.id) ok.add(s.attempt.id);
    }
    return ok;
  }

  /**
   * Claims queued attempts in one transaction: their runs locked in id order, then their rows read;
   * each examined; the startable ones placed on free slots and started, per kind of slot they need.
   */
  async function claimAll(ctx: TransitionContext, requests: readonly AttemptJob[], locked?: Map<string, RunRow>): Promise<Claim[]> {
    let providers: ProviderAdmissions | undefined;
    const started = new Set<string>();
    try {
      return await claimAllOnce(ctx, requests, (admitted) => (providers = admitted), started, locked);
    } finally {
      // Requests taken of providers' limits for attempts that did not start (or a claim that failed) go back.
      await releaseUnstarted(engine.providerLimits, providers, started);
    }
  }

  /** `locked`: the runs, locked already by the transaction's first statement (lockRunsStatement). */
  async function claimAllOnce(
    ctx: TransitionContext,
    requests: readonly AttemptJob[],
    onProviders: (admitted: ProviderAdmissions) => void,
    started: Set<string>,
    locked?: Map<string, RunRow>,
  ): Promise<Claim[]> {
    const runs =
      locked ??
      (await lockRuns(
        ctx.tx,
        requests.map((r) => r.runId),
      ));
    // The organizations' quotas come with the rows (flow control below needs them).
    const { rows, quotas } = await claimedAttemptsWithTasks(
      ctx.tx,
      requests.map((r) => r.attemptId),
    );
    const changedRuns = new Set<string>();
    /** Runs changed after a startable attempt of theirs was examined. */
    const changedAfter = new Set<string>();
    const startableRuns = new Set<string>();
    const seen = new Set<string>();
    const decisions: Array<Claim | Startable> = [];
    for (const { attemptId, runId } of requests) {
      const run = runs.get(runId);
      if (!run) {
        decisions.push({ kind: 'drop', reason: 'run not found' });
        continue;
      }
      if (seen.has(attemptId)) {
        decisions.push({ kind: 'drop', reason: 'delivered twice at once' });
        continue;
      }
      seen.add(attemptId);
      let row = rows.get(attemptId);
      if (changedRuns.has(runId)) row = (await attemptsWithTasks(ctx.tx, [attemptId])).get(attemptId);
      const attempt = row?.attempt.runId === runId ? row.attempt : undefined;
      const examined = await examine(ctx, run, attempt, attempt ? row?.task : undefined);
      runs.set(runId, examined.run);
      if (examined.changedRun) {
        changedRuns.add(runId);
        if (startableRuns.has(runId)) changedAfter.add(runId);
      }
      if (!('kind' in examined.claim)) startableRuns.add(runId);
      decisions.push(examined.claim);
    }

    const startable = decisions.filter((d): d is Startable => !('kind' in d));
    const waitingNow = await stillWaiting(ctx, startable, changedAfter);
    // Flow control (concurrency keys) admits what may look for a slot; the rest waits or was cancelled.
    const admission = await admitByFlowControl(
      ctx,
      runs,
      startable.filter((s) => waitingNow.has(s.attempt.id)),
      config,
      quotas,
    );
    // Model steps take a request of a provider with room, or wait (per-provider rate limits).
    const providers = await admitByProviderLimits(
      ctx.tx,
      engine.providerLimits,
      startable
        .filter((s) => admission.get(s.attempt.id)?.kind === 'admit' && s.llmLimits.length > 0)
        .map((s) => ({ attemptId: s.attempt.id, taskId: s.task.id, orgId: s.task.orgId, limits: s.llmLimits })),
    );
    onProviders(providers);
    // Place what can start, grouped by what it needs of a worker, and start it.
    const workers = new Map<string, WorkerRow>();
    const gpusOf = new Map<string, AttemptGpu[]>();
    /** Why attempts left out wait, already recorded on their tasks (a GPU step's, a worker-local provider's). */
    const recordedWaits = new Map<string, string>();
    const startedRuns = new Map<string, RunRow>();
    for (const { needs, startable: group } of groupByNeeds(
      startable.filter((s) => admission.get(s.attempt.id)?.kind === 'admit' && !providers.waits.has(s.attempt.id)),
      workerClients.avoided(),
    )) {
      let placed: ReadonlyMap<string, SlotCandidate>;
      /** The default placement: the free slots are found, locked and taken by one statement. */
      const oneStatement = !needs.gpus && placement === placeInOrder;
      if (oneStatement) {
        const started = await startAttemptsOnFreeSlots(
          ctx.tx,
          needs,
          group.map((s) => ({ runId: s.task.runId, attemptId: s.attempt.id, taskId: s.task.id, input: s.shown })),
          dispatcherId,
        );
        placed = started.placed;
        for (const run of started.startedRuns) startedRuns.set(run.id, run);
      } else {
        const requests = group.map((s) => ({ attemptId: s.attempt.id, task: s.task }));
        // A GPU step goes through the GPU filter instead (gpu-placement.ts), which also says why the rest wait.
        const onGpus = needs.gpus ? await placeGpuGroup(ctx.tx, needs, requests) : undefined;
        const candidates = onGpus ? onGpus.candidates : await lockFreeSlots(ctx.tx, needs, group.length);
        placed = onGpus ? onGpus.placed : placement(requests, candidates);
        checkPlacement(requests, candidates, placed);
        for (const [attemptId, gpus] of onGpus?.gpus ?? []) gpusOf.set(attemptId, gpus);
        for (const [attemptId, reason] of onGpus?.waiting ?? []) recordedWaits.set(attemptId, reason);
      }
      if (needs.llmEndpoints) {
        // A step of worker-local providers no declaring worker took says why (local-provider-claims.ts).
        const left = group.filter((s) => !placed.has(s.attempt.id)).map((s) => ({ attemptId: s.attempt.id, taskId: s.task.id, providers: s.llmProviders }));
        for (const [attemptId, reason] of await recordLocalProviderWaits(ctx.tx, needs, left, needs.gpus !== undefined)) recordedWaits.set(attemptId, reason);
      }
      const onSlots: AttemptOnSlot[] = [];
      for (const s of group) {
        const slot = placed.get(s.attempt.id);
        if (!slot) continue;
        onSlots.push({ runId: s.task.runId, attemptId: s.attempt.id, taskId: s.task.id, input: s.shown, workerId: slot.workerId, slot: slot.slot });
        workers.set(s.attempt.id, slot.worker);
      }
      if (!oneStatement) for (const run of await startAttemptsOnSlots(ctx.tx, onSlots, dispatcherId)) startedRuns.set(run.id, run);
      // What the started attempts consume of their rate limits (their locks are held until commit).
      await recordRateLimitUsage(
        ctx.tx,
        onSlots.flatMap((a) => {
          const admitted = admission.get(a.attemptId);
          return admitted?.kind === 'admit' ? admitted.consumes : [];
        }),
      );
    }

    return decisions.map((d): Claim => {
      if ('kind' in d) return d;
      const { attempt, task, input, shown, masker, secretValues } = d;
      const skipped = providers.skipped.get(attempt.id);
      const llmProviders = skipped ? d.llmProviders.map((p) => (skipped.includes(p.name) ? { ...p, rateLimited: `the organization's requests or tokens per minute for "${p.name}" are used up` } : p)) : d.llmProviders;
      const worker = workers.get(attempt.id);
      if (!worker) {
        const admitted = admission.get(attempt.id);
        if (!waitingNow.has(attempt.id) || admitted === undefined) return { kind: 'drop', reason: 'task moved on' };
        if (admitted.kind === 'cancelled') return { kind: 'drop', reason: admitted.reason };
        if (admitted.kind === 'wait') return { kind: 'wait', cause: 'flow', reason: admitted.reason.message, ...(admitted.delayMs === undefined ? {} : { delayMs: admitted.delayMs }) };
        const providerWait = providers.waits.get(attempt.id);
        if (providerWait) return { kind: 'wait', cause: 'flow', reason: providerWait.reason, delayMs: providerWait.delayMs };
        const recorded = recordedWaits.get(attempt.id);
        if (recorded !== undefined) return { kind: 'wait', cause: 'no-slot', reason: recorded, waitRecorded: true };
        return { kind: 'wait', cause: 'no-slot', reason: noSlotReason(task) };
      }
      let run = runs.get(task.runId) as RunRow;
      const startedRun = startedRuns.get(run.id);
      if (startedRun) {
        run = runStatusChanged(ctx, run, startedRun);
        startedRuns.delete(run.id);
        runs.set(run.id, run);
      }
      const claimed: AttemptRow = { ...attempt, status: 'RUNNING', workerId: worker.id, dispatcherId, startedAt: new Date(), gpus: gpusOf.get(attempt.id) ?? null };
      ctx.effects.event(run, {
        kind: 'TASK_STATUS',
        taskId: task.id,
        stepId: task.stepId,
        taskStatus: 'RUNNING',
        attemptId: attempt.id,
        attempt: claimed.attempt,
        message: `attempt ${claimed.attempt - task.attemptsAtReset} of ${task.maxAttempts} on worker ${worker.id}${claimed.gpus ? ` (GPU ${claimed.gpus.map((g) => g.index).join(', ')})` : ''}`,
      });
      started.add(attempt.id);
      return { kind: 'claimed', run, task: { ...task, status: 'RUNNING', input: shown }, attempt: claimed, worker, input, masker, secretValues, llmProviders };
    });
  }

  return claimAll;
}
