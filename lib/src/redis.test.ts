import { Pipeline } from 'ioredis';
import { createMemoryLogger } from './log';
import { createQueueConnection, createRedis, type Redis } from './redis';
import { TEST_REDIS_URL } from './testing';

/** Lua scripts defined on a connection, as BullMQ defines its ~64 on the one it is given. */
const defineScripts = (redis: Redis, count: number) => {
  for (let i = 0; i < count; i++) redis.defineCommand(`script${i}`, { numberOfKeys: 1, lua: `return ${i}` });
};

/** How many Pipelines `run` executes (each auto-pipelined turn builds and executes one). */
async function pipelinesDuring(run: () => Promise<void>): Promise<number> {
  const exec = jest.spyOn(Pipeline.prototype, 'exec');
  try {
    await run();
    return exec.mock.calls.length;
  } finally {
    exec.mockRestore();
  }
}

describe('createQueueConnection', () => {
  let redis: Redis;
  const opened: Redis[] = [];
  beforeAll(() => {
    redis = createRedis({ url: TEST_REDIS_URL, name: 'lib-redis-test', log: createMemoryLogger() });
    opened.push(redis);
  });
  afterAll(async () => {
    await Promise.all(opened.map((r) => r.quit()));
  });

  const tenCommandsOn = async (connection: Redis) => {
    defineScripts(connection, 64);
    await connection.ping();
    const key = `lib-redis-test:${process.pid}:${Date.now()}`;
    return pipelinesDuring(async () => {
      for (let i = 0; i < 10; i++) await connection.incr(key);
      await connection.del(key);
    });
  };

  it('sends each command without building a Pipeline (each copies every script defined on the connection)', async () => {
    const queue = createQueueConnection(redis, 'lib-redis-test-queue');
    opened.push(queue);
    expect(queue.options.maxRetriesPerRequest).toBeNull();
    expect(await tenCommandsOn(queue)).toBe(0);
  });

  it('a service connection (auto-pipelined) builds one per turn that sends a command', async () => {
    const service = redis.duplicate({ connectionName: 'lib-redis-test-service' });
    opened.push(service);
    expect(await tenCommandsOn(service)).toBe(11);
  });
});
