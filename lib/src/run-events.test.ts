import { randomUUID } from 'node:crypto';
import { createMemoryLogger } from './log';
import { createRedis, type Redis } from './redis';
import { orgRunFeedKey, runEventStreamKey, type RunEvent } from './run-event-stream';
import { createRunEventHub, type RunEventHub } from './run-events';
import { TEST_REDIS_URL, testRunEvent, uniqueName } from './testing';

const log = createMemoryLogger();
let redis: Redis;
let prefix: string;
const hubs: RunEventHub[] = [];

const hubFor = (options: { maxLen?: number; idleCheckMs?: number; ttlSeconds?: number; expireRefreshSeconds?: number } = {}) => {
  const hub = createRunEventHub({ redis, prefix, log, ...options });
  hubs.push(hub);
  return hub;
};

/**
 * The events of one run as PostgreSQL would hold them: the backfill reads from here, the way the
 * gateway reads `run(id) { events(afterSeq) }`.
 */
function makeRun(orgId = randomUUID()) {
  const runId = randomUUID();
  const store: RunEvent[] = [];
  const backfillCalls: number[] = [];
  const event = (kind: RunEvent['kind'], fields: Partial<RunEvent> = {}): RunEvent => {
    const e = testRunEvent({ runId, orgId, workflowId: 'wf', seq: store.length + 1, kind, ...fields });
    store.push(e);
    return e;
  };
  const backfill = (afterSeq: number, limit: number) => {
    backfillCalls.push(afterSeq);
    return Promise.resolve(store.filter((e) => e.seq > afterSeq).slice(0, limit));
  };
  return { runId, orgId, store, event, backfill, backfillCalls };
}

async function take(iterator: AsyncGenerator<RunEvent, void, undefined>, count: number): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done === true) break;
    out.push(next.value);
  }
  return out;
}

async function drain(iterator: AsyncGenerator<RunEvent, void, undefined>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of iterator) out.push(e);
  return out;
}

beforeAll(() => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'run-events-test', log });
  prefix = uniqueName('test:runevents');
});

afterAll(async () => {
  await Promise.all(hubs.map((h) => h.stop()));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('run event streams', () => {
  it('delivers a run’s events in order and ends after its final status', async () => {
    const hub = hubFor();
    const run = makeRun();
    const events = [
      run.event('RUN_STATUS', { runStatus: 'QUEUED' }),
      run.event('TASK_STATUS', { taskStatus: 'RUNNING', stepId: 'a' }),
      run.event('TASK_LOG', { message: 'hello', level: 'INFO' }),
      run.event('RUN_STATUS', { runStatus: 'SUCCEEDED' }),
    ];
    const result = await hub.publish(events);
    expect(result).toEqual({ appended: 4, skipped: 0, failed: 0 });
    const ids = (await redis.xrange(runEventStreamKey(prefix, run.runId), '-', '+')).map(([id]) => id);
    expect(ids).toEqual(['1-0', '2-0', '3-0', '4-0']);
    const got = await drain(hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill }));
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(got[2]).toEqual(events[2]);
  });

  it('resumes after a sequence number without gaps', async () => {
    const hub = hubFor();
    const run = makeRun();
    await hub.publish([1, 2, 3, 4, 5].map(() => run.event('TASK_PROGRESS', { progress: 0.1 })));
    await hub.publish([run.event('RUN_STATUS', { runStatus: 'FAILED' })]);
    const got = await drain(hub.runEvents({ runId: run.runId, afterSeq: 3, backfill: run.backfill }));
    expect(got.map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('appends idempotently: a repeated or late append is skipped, and a reader fills the hole from the backfill', async () => {
    const hub = hubFor();
    const run = makeRun();
    const [e1, e2, e3] = [run.event('RUN_STATUS', { runStatus: 'RUNNING' }), run.event('TASK_STATUS', { taskStatus: 'RUNNING' }), run.event('TASK_STATUS', { taskStatus: 'SUCCEEDED' })];
    await hub.publish([e1]);
    // e3 overtakes e2 (two publishers racing after their commits): e2 can no longer be appended.
    expect(await hub.publish([e3])).toMatchObject({ appended: 1 });
    expect(await hub.publish([e2])).toMatchObject({ appended: 0, skipped: 1 });
    expect(await hub.publish([e1, e3])).toMatchObject({ appended: 0, skipped: 2 });
    const reader = hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill });
    const got = await take(reader, 3);
    await reader.return(undefined);
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(got[1]?.taskStatus).toBe('RUNNING');
  });

  it('backfills from the source of truth when the stream was flushed', async () => {
    const hub = hubFor();
    const run = makeRun();
    await hub.publish([run.event('RUN_STATUS', { runStatus: 'RUNNING' }), run.event('TASK_LOG', { message: 'one' })]);
    await redis.del(runEventStreamKey(prefix, run.runId));
    run.event('TASK_LOG', { message: 'two' }); // committed while Redis was away: never published
    run.event('RUN_STATUS', { runStatus: 'SUCCEEDED' });
    const got = await drain(hub.runEvents({ runId: run.runId, afterSeq: 1, backfill: run.backfill }));
    expect(got.map((e) => e.message ?? e.runStatus)).toEqual(['one', 'two', 'SUCCEEDED']);
    expect(run.backfillCalls[0]).toBe(1);
  });

  it('backfills what trimming removed', async () => {
    const hub = hubFor({ maxLen: 10 });
    const run = makeRun();
    const events = Array.from({ length: 300 }, (_, i) => run.event('TASK_LOG', { message: `line ${i + 1}` }));
    await hub.publish(events);
    expect(await redis.xlen(runEventStreamKey(prefix, run.runId))).toBeLessThan(300);
    const reader = hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill });
    const got = await take(reader, 300);
    await reader.return(undefined);
    expect(got.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it('wakes a waiting reader when events are published, and return() ends it while it waits', async () => {
    const hub = hubFor({ idleCheckMs: 60_000 });
    const run = makeRun();
    const reader = hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill });
    const first = reader.next();
    await new Promise((r) => setTimeout(r, 50));
    await hub.publish([run.event('RUN_STATUS', { runStatus: 'RUNNING' })]);
    expect((await first).value).toMatchObject({ seq: 1, runStatus: 'RUNNING' });
    const second = reader.next();
    // Nothing more is published: return() must not wait for the minute-long idle check.
    await reader.return(undefined);
    expect(await second).toEqual({ done: true, value: undefined });
  });

  it('keeps reading past a final status when the run was retried', async () => {
    const hub = hubFor();
    const run = makeRun();
    await hub.publish([
      run.event('RUN_STATUS', { runStatus: 'FAILED' }),
      run.event('RUN_STATUS', { runStatus: 'RUNNING' }),
      run.event('RUN_STATUS', { runStatus: 'SUCCEEDED' }),
    ]);
    const got = await drain(hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill }));
    expect(got.map((e) => e.runStatus)).toEqual(['FAILED', 'RUNNING', 'SUCCEEDED']);
  });

  it('feeds each org only its own run status changes', async () => {
    const hub = hubFor();
    const mine = makeRun();
    const theirs = makeRun();
    const feed = hub.orgRunStatus({ orgId: mine.orgId });
    const first = feed.next();
    // The feed carries what happens after it starts reading, and nothing says when that is: publish
    // the same three changes again until the first of ours arrives (on a loaded machine 50 ms was not
    // always enough, and the test then waited forever for changes published before the feed read).
    let got: IteratorResult<RunEvent, void> | undefined;
    for (let round = 0; got === undefined && round < 50; round += 1) {
      await hub.publish([
        theirs.event('RUN_STATUS', { runStatus: 'RUNNING' }),
        mine.event('TASK_STATUS', { taskStatus: 'RUNNING' }),
        mine.event('RUN_STATUS', { runStatus: 'SUCCEEDED' }),
      ]);
      got = await Promise.race([first, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
    }
    expect(got?.value).toMatchObject({ runId: mine.runId, kind: 'RUN_STATUS', runStatus: 'SUCCEEDED' });
    await feed.return(undefined);
  });

  it('sets a stream’s expiry when it is created and pushes it forward at most once per refresh interval, past the TTL by that interval', async () => {
    const hub = hubFor({ ttlSeconds: 10_000, expireRefreshSeconds: 100 });
    const run = makeRun();
    const key = runEventStreamKey(prefix, run.runId);
    const feed = orgRunFeedKey(prefix, run.orgId);
    await hub.publish([run.event('RUN_STATUS', { runStatus: 'QUEUED' })]);
    // ttlSeconds + the refresh interval: the stream outlives its last append by at least ttlSeconds.
    expect(await redis.ttl(key)).toBeGreaterThan(10_000);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(10_100);
    expect(await redis.ttl(feed)).toBeGreaterThan(10_000);
    // Within the interval an append leaves the expiry as it is (a shorter one set by hand stays).
    await redis.expire(key, 5_000);
    await redis.expire(feed, 5_000);
    await hub.publish([run.event('TASK_STATUS', { taskStatus: 'RUNNING' }), run.event('RUN_STATUS', { runStatus: 'RUNNING' })]);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(5_000);
    expect(await redis.ttl(feed)).toBeLessThanOrEqual(5_000);
    // Another hub (another process) sets it again on its first append of that key.
    await hubFor({ ttlSeconds: 10_000, expireRefreshSeconds: 100 }).publish([run.event('TASK_LOG', { message: 'x', level: 'INFO' })]);
    expect(await redis.ttl(key)).toBeGreaterThan(10_000);
  });

  it('reports an event Redis refuses as failed and appends the rest of the batch', async () => {
    const hub = hubFor();
    const broken = makeRun();
    const fine = makeRun();
    // Something else holds the run stream's key: Redis refuses the append (WRONGTYPE).
    await redis.set(runEventStreamKey(prefix, broken.runId), 'not a stream');
    const result = await hub.publish([broken.event('RUN_STATUS', { runStatus: 'QUEUED' }), fine.event('RUN_STATUS', { runStatus: 'QUEUED' }), fine.event('TASK_STATUS', { taskStatus: 'QUEUED' })]);
    expect(result).toEqual({ appended: 2, skipped: 0, failed: 1 });
    expect((await redis.xrange(runEventStreamKey(prefix, fine.runId), '-', '+')).map(([id]) => id)).toEqual(['1-0', '2-0']);
    // Both status changes still reached the org feed of each run's org.
    expect(await redis.xlen(orgRunFeedKey(prefix, fine.orgId))).toBe(1);
    expect(await redis.xlen(orgRunFeedKey(prefix, broken.orgId))).toBe(1);
  });

  it('pushes the expiry forward on every append when the refresh interval is 0', async () => {
    const hub = hubFor({ ttlSeconds: 10_000, expireRefreshSeconds: 0 });
    const run = makeRun();
    const key = runEventStreamKey(prefix, run.runId);
    await hub.publish([run.event('RUN_STATUS', { runStatus: 'QUEUED' })]);
    await redis.expire(key, 5_000);
    await hub.publish([run.event('TASK_STATUS', { taskStatus: 'RUNNING' })]);
    expect(await redis.ttl(key)).toBeGreaterThan(9_000);
  });

  it('stop() ends every reader', async () => {
    const hub = createRunEventHub({ redis, prefix, log, idleCheckMs: 60_000 });
    const run = makeRun();
    const reader = hub.runEvents({ runId: run.runId, afterSeq: 0, backfill: run.backfill });
    const pending = reader.next();
    await new Promise((r) => setTimeout(r, 50));
    await hub.stop();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
