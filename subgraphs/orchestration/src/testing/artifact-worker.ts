// A test worker that speaks the AutomationService protocol itself (the worker process's own executors
// cannot report artifacts yet): it registers like a worker, and each Execute streams the messages a
// script gives for the request (Artifact reports, then the result). It stands in for a browser worker
// in orchestration's own suites; tests/ runs the real one.
import { grpc, mintWorkerToken, TEST_WORKER_AUTH_SECRET, uniqueName, unaryCall } from '@orchestra/lib';
import { automationV1, orchestrationV1 } from '@orchestra/proto';

export type ExecuteScript = (request: automationV1.ExecuteRequest) => automationV1.ExecuteResponse[];

export interface ArtifactWorker {
  workerId: string;
  /** Every request it was sent, in order. */
  requests: automationV1.ExecuteRequest[];
  stop(): Promise<void>;
}

export const artifactReport = (request: Pick<automationV1.ExecuteRequest, 'orgId' | 'runId' | 'taskId' | 'attemptId'>, a: { name: string; contentType?: string; sizeBytes?: number; sha256?: string; storageKey?: string }): automationV1.ExecuteResponse => ({
  event: {
    $case: 'artifact',
    value: {
      name: a.name,
      contentType: a.contentType ?? 'image/png',
      sizeBytes: a.sizeBytes ?? 1234,
      sha256: a.sha256 ?? 'ab'.repeat(32),
      storageKey: a.storageKey ?? `${request.orgId}/${request.runId}/${request.taskId}/${request.attemptId}/${a.name}`,
    },
  },
});

export const successResult = (output: unknown = { ok: true }): automationV1.ExecuteResponse => ({
  event: { $case: 'result', value: { durationMs: 1, outcome: { $case: 'success', value: { output } } } },
});

export const failureResult = (code: string, message: string, retryable: boolean): automationV1.ExecuteResponse => ({
  event: { $case: 'result', value: { durationMs: 1, outcome: { $case: 'failure', value: { code, message, retryable, retryAfterMs: 0 } } } },
});

export async function startArtifactWorker(registryAddress: string, capability: string, script: ExecuteScript): Promise<ArtifactWorker> {
  const workerId = uniqueName('artifact-worker');
  const requests: automationV1.ExecuteRequest[] = [];
  const server = new grpc.Server();
  const impl: automationV1.AutomationServiceServer = {
    execute(call) {
      requests.push(call.request);
      for (const message of script(call.request)) call.write(message);
      call.end();
    },
    cancel(_call, callback) {
      callback(null, { cancelled: false });
    },
    describe(_call, callback) {
      callback(null, { workerId, pool: 'default', capabilities: [capability], slotsTotal: 4, slotsFree: 4, labels: {}, version: 'test', llmEndpoints: [], runningAttemptIds: [] });
    },
    getAttempt(_call, callback) {
      callback(null, { state: automationV1.AttemptState.ATTEMPT_STATE_UNSPECIFIED, result: undefined });
    },
  };
  server.addService(automationV1.AutomationServiceService, impl);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const client = new orchestrationV1.WorkerRegistryClient(registryAddress, grpc.credentials.createInsecure());
  const options = { internalToken: mintWorkerToken(TEST_WORKER_AUTH_SECRET, workerId), defaultDeadlineMs: 5_000 };
  const info: orchestrationV1.WorkerInfo = { workerId, endpoint: `127.0.0.1:${port}`, pool: 'default', capabilities: [capability], slotsTotal: 4, slotsFree: 4, labels: {}, version: 'test', llmEndpoints: [] };
  const answer = await unaryCall(client, client.register, { worker: info }, options);
  const heartbeat = setInterval(() => {
    unaryCall(client, client.heartbeat, { workerId, slotsFree: 4, runningAttemptIds: [] }, options).catch(() => undefined);
  }, answer.heartbeatIntervalMs || 200);
  return {
    workerId,
    requests,
    async stop() {
      clearInterval(heartbeat);
      await unaryCall(client, client.deregister, { workerId }, options).catch(() => undefined);
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
