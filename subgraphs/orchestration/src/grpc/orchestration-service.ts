import { AppError, isUuid, notFound, type GrpcCallContext, type GrpcServiceImpl, type Principal } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { cancelRun } from '../engine/commands';
import type { Engine } from '../engine/engine';
import type { RunStarts, StartRunInput } from '../engine/run-starts';
import type { RunStatus } from '../domain/states';
import type { RunRow } from '../store/rows';
import { readRun } from '../resolvers';
import { findArtifact } from '../store/artifacts';
import { emitEvent } from '../events/emit';
import { deliverWebhook, type WebhookDeps } from '../events/webhooks';

const STATUS: Record<RunStatus, orchestrationV1.RunStatus> = {
  SCHEDULED: orchestrationV1.RunStatus.RUN_STATUS_SCHEDULED,
  QUEUED: orchestrationV1.RunStatus.RUN_STATUS_QUEUED,
  RUNNING: orchestrationV1.RunStatus.RUN_STATUS_RUNNING,
  SUCCEEDED: orchestrationV1.RunStatus.RUN_STATUS_SUCCEEDED,
  FAILED: orchestrationV1.RunStatus.RUN_STATUS_FAILED,
  CANCELLED: orchestrationV1.RunStatus.RUN_STATUS_CANCELLED,
};

export const toProtoRun = (run: RunRow): orchestrationV1.Run => ({
  id: run.id,
  orgId: run.orgId,
  workflowId: run.workflowId,
  workflowVersion: run.workflowVersion,
  status: STATUS[run.status],
  input: run.input,
  createdAt: run.createdAt,
  finishedAt: run.finishedAt ?? undefined,
  startedByUserId: run.startedByUserId ?? '',
});

/** Internal callers act for the end user whose (gateway-signed) principal they forward. */
function actingPrincipal(ctx: GrpcCallContext): Principal {
  if (!ctx.principal || ctx.principal.orgId === undefined) {
    throw new AppError('UNAUTHENTICATED', 'forward the principal (x-orchestra-principal) of the user this call acts for', { reason: 'PRINCIPAL_REQUIRED' });
  }
  return ctx.principal;
}

/** A StartRunRequest as a start's input: `workflow` is an id when it is a UUID, else a name. */
const startInputOf = (request: orchestrationV1.StartRunRequest): StartRunInput => ({
  workflowId: isUuid(request.workflow) ? request.workflow : null,
  workflowName: isUuid(request.workflow) ? null : request.workflow,
  version: request.version,
  input: request.input ?? {},
  idempotencyKey: request.idempotencyKey === '' ? null : request.idempotencyKey,
});

/** gRPC OrchestrationService: start, cancel and read runs for internal services (same rules as GraphQL). */
export function createOrchestrationGrpc(engine: Engine, runStarts: RunStarts, webhooks: WebhookDeps): GrpcServiceImpl<typeof orchestrationV1.OrchestrationServiceService> {
  return {
    async emitEvent(request, ctx) {
      const { event, starts } = await emitEvent(engine, actingPrincipal(ctx), { name: request.name, payload: request.payload ?? {}, idempotencyKey: request.idempotencyKey === '' ? null : request.idempotencyKey }, 'GRPC', [], '');
      return {
        eventId: event.id,
        starts: starts.map((s) => ({ workflowId: s.workflowId, triggerId: s.triggerId ?? '', runId: s.runId ?? '', deduplicated: s.deduplicated, error: s.error ?? '' })),
      };
    },
    // Called by the gateway with no principal: the trigger names the organization.
    async deliverWebhook(request) {
      const { delivery, runIds } = await deliverWebhook(webhooks, {
        triggerId: request.triggerId,
        timestamp: request.timestamp,
        signature: request.signature,
        body: Buffer.from(request.body),
        bodyTooLarge: request.bodyTooLarge,
        bodyBytes: request.bodyBytes,
        idempotencyKey: request.idempotencyKey,
        sourceIp: request.sourceIp,
        requestId: request.requestId,
      });
      return { accepted: delivery.outcome === 'ACCEPTED', reason: delivery.reason ?? '', message: delivery.message ?? '', deliveryId: delivery.id, eventId: delivery.eventId ?? '', runIds };
    },
    async startRun(request, ctx) {
      const { run, deduplicated } = await runStarts.startRun(actingPrincipal(ctx), startInputOf(request));
      return { run: toProtoRun(run), deduplicated };
    },
    async startRuns(request, ctx) {
      const started = await runStarts.startRuns(actingPrincipal(ctx), request.items.map(startInputOf), 'items');
      return { results: started.map(({ run, deduplicated }) => ({ run: toProtoRun(run), deduplicated })) };
    },
    async cancelRun(request, ctx) {
      const run = await cancelRun(engine, actingPrincipal(ctx), request.runId, request.reason);
      return { run: toProtoRun(run) };
    },
    async getRun(request, ctx) {
      const run = await readRun(engine, actingPrincipal(ctx), request.runId);
      if (!run) throw notFound('run', request.runId);
      return { run: toProtoRun(run) };
    },
    async getArtifact(request, ctx) {
      const principal = actingPrincipal(ctx);
      // Under row-level security for the principal's org: another org's id is simply not there.
      const artifact = isUuid(request.artifactId) ? await engine.inTenant(principal, (tx) => findArtifact(tx, request.artifactId)) : undefined;
      if (!artifact) throw notFound('artifact', request.artifactId);
      const { id, orgId, name, contentType, sizeBytes, sha256, storageKey } = artifact;
      return { artifact: { id, orgId, name, contentType, sizeBytes, sha256, storageKey } };
    },
  };
}
