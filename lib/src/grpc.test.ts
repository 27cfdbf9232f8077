import { auditV1, automationV1 } from '@orchestra/proto';
import { AppError, fromGrpcError } from './errors';
import { insecureCredentials, INTERNAL_CHANNEL_OPTIONS, serverStreamCall, unaryCall, type grpc } from './grpc';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from './grpc-server';
import { createMemoryLogger } from './log';
import { createPrincipalSigner, createPrincipalVerifier, generatePrincipalKeys, type Principal } from './principal';
import { TEST_INTERNAL_TOKEN } from './testing';

const keys = generatePrincipalKeys();
const log = createMemoryLogger();
let server: GrpcServer;
let address: string;
let seenPrincipal: Principal | undefined;
let aborted = false;
/** The signals of the last calls handled, by method. */
const signals: { record?: AbortSignal; execute?: AbortSignal } = {};

beforeAll(async () => {
  server = createGrpcServer({ service: 'lib-test', log, internalToken: TEST_INTERNAL_TOKEN, principalVerifier: createPrincipalVerifier(keys.publicKeyPem) });
  server.add(
    auditV1.AuditServiceService,
    {
      async record(request, ctx) {
        seenPrincipal = ctx.principal;
        signals.record = ctx.signal;
        if (request.events.some((e) => e.action === '')) throw new AppError('BAD_USER_INPUT', 'action is required', { field: 'events[0].action' });
        if (request.events.some((e) => e.action === 'crash')) throw new Error('database exploded');
        return { stored: request.events.length, duplicates: 0 };
      },
    },
    'orchestra.audit.v1.AuditService',
  );
  server.add(
    automationV1.AutomationServiceService,
    {
      async execute(request, out, ctx) {
        signals.execute = ctx.signal;
        for (let i = 1; i <= 3; i += 1) {
          await out.write({ event: { $case: 'progress', value: { fraction: i / 3, message: `step ${i}` } } });
        }
        if (request.capability === 'hang') {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted = true;
          return;
        }
        await out.write({ event: { $case: 'result', value: { outcome: { $case: 'success', value: { output: { ok: true } } }, durationMs: 1 } } });
      },
      async cancel() {
        return { cancelled: false };
      },
      async describe() {
        return { workerId: 'w', pool: 'default', capabilities: [], slotsTotal: 1, slotsFree: 1, labels: {}, version: 't', runningAttemptIds: [], llmEndpoints: [] };
      },
      async getAttempt() {
        return { state: 0, result: undefined };
      },
    },
    'orchestra.automation.v1.AutomationService',
  );
  address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  server.setServing('SERVING');
});

afterAll(async () => {
  await server.stop(100);
});

const opts = { internalToken: TEST_INTERNAL_TOKEN };
const event = (action: string): auditV1.AuditEvent => auditV1.AuditEvent.fromPartial({ eventId: 'e', action });

describe('gRPC helpers (real server on a port)', () => {
  it('calls a unary method and forwards a signed principal', async () => {
    const client = new auditV1.AuditServiceClient(address, insecureCredentials());
    const principal: Principal = { kind: 'user', id: 'u', userId: 'u', orgId: 'o', role: 'admin', scopes: [], requestId: 'req_x' };
    const header = await createPrincipalSigner(keys.privateKeyPem).sign(principal);
    await expect(unaryCall(client, client.record, { events: [event('a'), event('b')] }, opts, { principalHeader: header })).resolves.toEqual({ stored: 2, duplicates: 0 });
    expect(seenPrincipal).toEqual(principal);
    client.close();
  });

  it('dials dns:/// targets round-robin with the internal channel options (how the chart addresses services)', async () => {
    const port = address.split(':')[1];
    const client = new auditV1.AuditServiceClient(`dns:///localhost:${port}`, insecureCredentials(), INTERNAL_CHANNEL_OPTIONS);
    for (let i = 0; i < 3; i += 1) await expect(unaryCall(client, client.record, { events: [event('a')] }, opts)).resolves.toEqual({ stored: 1, duplicates: 0 });
    client.close();
  });

  it('refuses a caller without the service token', async () => {
    const client = new auditV1.AuditServiceClient(address, insecureCredentials());
    await expect(unaryCall(client, client.record, { events: [] }, { internalToken: 'wrong-token-wrong-token-wrong-token' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'SERVICE_TOKEN_INVALID',
    });
    client.close();
  });

  it('carries AppError code, reason and field to the caller; masks internal errors', async () => {
    const client = new auditV1.AuditServiceClient(address, insecureCredentials());
    await expect(unaryCall(client, client.record, { events: [event('')] }, opts)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'events[0].action' });
    const internal = unaryCall(client, client.record, { events: [event('crash')] }, opts, { requestId: 'req_crash' });
    await expect(internal).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(internal).rejects.not.toThrow(/database exploded/);
    expect(log.lines.some((l) => l['msg'] === 'grpc handler failed' && l['requestId'] === 'req_crash')).toBe(true);
    client.close();
  });

  it('streams server events in order', async () => {
    const client = new automationV1.AutomationServiceClient(address, insecureCredentials());
    const seen: string[] = [];
    const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ capability: 'noop' }), opts);
    for await (const message of stream as AsyncIterable<automationV1.ExecuteResponse>) seen.push(message.event?.$case ?? '?');
    expect(seen).toEqual(['progress', 'progress', 'progress', 'result']);
    client.close();
  });

  it('aborts the handler when the caller cancels', async () => {
    const client = new automationV1.AutomationServiceClient(address, insecureCredentials());
    const controller = new AbortController();
    const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ capability: 'hang' }), opts, { signal: controller.signal });
    let count = 0;
    const done = new Promise<void>((resolve) => {
      stream.on('data', () => {
        count += 1;
        if (count === 3) controller.abort();
      });
      stream.on('error', () => resolve());
    });
    await done;
    const deadline = Date.now() + 2_000;
    while (!aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(aborted).toBe(true);
    client.close();
  });

  it('leaves the signal of a call it answered alone (grpc-js says "cancelled" after every call)', async () => {
    const client = new automationV1.AutomationServiceClient(address, insecureCredentials());
    const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ capability: 'noop' }), opts);
    for await (const message of stream as AsyncIterable<automationV1.ExecuteResponse>) expect(message.event).toBeDefined();
    client.close();
    const audit = new auditV1.AuditServiceClient(address, insecureCredentials());
    await expect(unaryCall(audit, audit.record, { events: [event('x')] }, opts)).resolves.toEqual({ stored: 1, duplicates: 0 });
    audit.close();
    expect(signals.execute?.aborted).toBe(false);
    expect(signals.record?.aborted).toBe(false);
  });

  it('a connection recycle cuts a running stream, so servers of long calls never recycle (the worker\'s)', async () => {
    // The age is shortened to 300 ms and the client pings every 100 ms (production: 5 min, 20 s).
    const streamFor = async (connectionAge: GrpcServerOptions['connectionAge']): Promise<{ events: number; error: AppError | undefined }> => {
      const slow = createGrpcServer({ service: 'lib-test-age', log, internalToken: TEST_INTERNAL_TOKEN, connectionAge });
      slow.add(
        automationV1.AutomationServiceService,
        {
          async execute(_request, out, ctx) {
            for (let i = 1; i <= 12 && !ctx.signal.aborted; i += 1) {
              await new Promise((resolve) => setTimeout(resolve, 100));
              await out.write({ event: { $case: 'progress', value: { fraction: i / 12, message: `tick ${i}` } } });
            }
          },
          cancel: () => Promise.resolve({ cancelled: false }),
          describe: () => Promise.reject(new AppError('NOT_FOUND', 'not here')),
          getAttempt: () => Promise.reject(new AppError('NOT_FOUND', 'not here')),
        },
        'orchestra.automation.v1.AutomationService',
      );
      const port = await slow.listen('127.0.0.1', 0);
      slow.setServing('SERVING');
      const client = new automationV1.AutomationServiceClient(`127.0.0.1:${port}`, insecureCredentials(), { ...INTERNAL_CHANNEL_OPTIONS, 'grpc.keepalive_time_ms': 100 });
      const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ capability: 'tick' }), opts, { deadlineMs: 60_000 });
      let events = 0;
      const error = await new Promise<AppError | undefined>((resolve) => {
        stream.on('data', () => (events += 1));
        stream.on('error', (e: grpc.ServiceError) => resolve(fromGrpcError(e)));
        stream.on('end', () => resolve(undefined));
      });
      client.close();
      await slow.stop(100);
      return { events, error };
    };
    const recycled = await streamFor({ maxMs: 300, graceMs: 60_000 });
    expect(recycled.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(recycled.events).toBeLessThan(12);
    await expect(streamFor('unlimited')).resolves.toEqual({ events: 12, error: undefined });
  });

  it('answers the standard health check', async () => {
    const { loadPackageDefinition, credentials } = await import('@grpc/grpc-js');
    const protoLoader = await import('@grpc/proto-loader');
    const { protoPath } = await import('grpc-health-check');
    const def = loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: unknown) => { check: (r: object, cb: (e: Error | null, r: { status: string }) => void) => void; close(): void } } } };
    };
    const client = new def.grpc.health.v1.Health(address, credentials.createInsecure());
    const status = await new Promise<string>((resolve, reject) => client.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r.status))));
    expect(status).toBe('SERVING');
    client.close();
  });
});
