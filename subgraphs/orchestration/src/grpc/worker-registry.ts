import { AppError, type GrpcCallContext, type GrpcServiceImpl } from '@orchestra/lib';
import type { orchestrationV1 } from '@orchestra/proto';
import type { WorkerRegistry } from '../engine/worker-registry';

/**
 * A worker acts for itself only: the caller must hold a worker token (not the services' token),
 * minted for the very worker id the request names. So a worker cannot register, heartbeat or
 * deregister another worker's id (and take over its tasks).
 */
function requireWorker(ctx: GrpcCallContext, workerId: string | undefined): void {
  if (ctx.caller.kind !== 'worker') {
    throw new AppError('FORBIDDEN', 'the worker registry takes calls from workers with their own worker token', { reason: 'WORKER_CREDENTIAL_REQUIRED' });
  }
  if (workerId !== ctx.caller.workerId) {
    throw new AppError('FORBIDDEN', `this worker token is for worker ${ctx.caller.workerId}, not ${JSON.stringify(workerId ?? '')}`, {
      reason: 'WORKER_ID_MISMATCH',
      field: 'worker_id',
    });
  }
}

/** gRPC WorkerRegistry: how workers join the fleet, stay in it and leave. */
export function createWorkerRegistryGrpc(registry: WorkerRegistry): GrpcServiceImpl<typeof orchestrationV1.WorkerRegistryService> {
  return {
    register: (request, ctx) => {
      requireWorker(ctx, request.worker?.workerId);
      return registry.register(request);
    },
    heartbeat: (request, ctx) => {
      requireWorker(ctx, request.workerId);
      return registry.heartbeat(request);
    },
    deregister: (request, ctx) => {
      requireWorker(ctx, request.workerId);
      return registry.deregister(request);
    },
  };
}
