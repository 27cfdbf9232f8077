import type { GrpcServiceImpl } from '@orchestra/lib';
import type { orchestrationV1 } from '@orchestra/proto';
import type { WorkerRegistry } from '../engine/worker-registry';

/** gRPC WorkerRegistry: how workers join the fleet, stay in it and leave. */
export function createWorkerRegistryGrpc(registry: WorkerRegistry): GrpcServiceImpl<typeof orchestrationV1.WorkerRegistryService> {
  return {
    register: (request) => registry.register(request),
    heartbeat: (request) => registry.heartbeat(request),
    deregister: (request) => registry.deregister(request),
  };
}
