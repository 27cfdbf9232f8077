import { automationV1 } from '@orchestra/proto';
import { AppError, fromGrpcError } from './errors';
import { insecureCredentials, serverStreamCall } from './grpc';
import { createGrpcServer, type GrpcServer } from './grpc-server';
import { createMemoryLogger } from './log';
import { TEST_INTERNAL_TOKEN } from './testing';

// A server-stream handler that throws must reach the caller as its AppError (code, reason, field),
// whether it fails before or after writing messages.
let server: GrpcServer;
let client: automationV1.AutomationServiceClient;

beforeAll(async () => {
  server = createGrpcServer({ service: 'lib-stream-errors', log: createMemoryLogger(), internalToken: TEST_INTERNAL_TOKEN });
  server.add(
    automationV1.AutomationServiceService,
    {
      async execute(request, out) {
        if (request.capability === 'after-one') await out.write({ event: { $case: 'progress', value: { fraction: 0.5, message: 'half' } } });
        throw new AppError('RATE_LIMITED', 'all slots are busy', { reason: 'NO_FREE_SLOT', field: 'capability' });
      },
      cancel: () => Promise.resolve({ cancelled: false }),
      describe: () => Promise.reject(new Error('not used')),
      getAttempt: () => Promise.reject(new Error('not used')),
    },
    'orchestra.automation.v1.AutomationService',
  );
  const port = await server.listen('127.0.0.1', 0);
  server.setServing('SERVING');
  client = new automationV1.AutomationServiceClient(`127.0.0.1:${port}`, insecureCredentials());
});

afterAll(async () => {
  client.close();
  await server.stop(100);
});

const failureOf = (capability: string) =>
  new Promise<{ error: AppError; messages: number }>((resolve) => {
    let messages = 0;
    const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ capability }), { internalToken: TEST_INTERNAL_TOKEN });
    stream.on('data', () => (messages += 1));
    stream.on('error', (error: Parameters<typeof fromGrpcError>[0]) => resolve({ error: fromGrpcError(error), messages }));
  });

describe('server-stream handler errors', () => {
  it.each([
    ['before any message', 'at-once', 0],
    ['after a message', 'after-one', 1],
  ])('reach the caller with code, reason and field %s', async (_when, capability, messages) => {
    const failure = await failureOf(capability);
    expect(failure.messages).toBe(messages);
    expect(failure.error).toMatchObject({ code: 'RATE_LIMITED', reason: 'NO_FREE_SLOT', field: 'capability', message: 'all slots are busy' });
  });
});
