import { randomUUID } from 'node:crypto';
import { createMemoryLogger, createRedis, createRunEventHub, TEST_REDIS_URL, testRunEvent, uniqueName, type Redis, type RunEvent, type RunEventHub } from '@orchestra/lib';
import { createOrgFeeds } from './org-feeds';
import type { FeedSink } from './run-feeds';

/**
 * The organization feed (`runStatusChanged`) on a real Redis: a subscriber hears run status changes
 * from the moment it attaches, never the organization's history — even when a read starts before the
 * feed has found the stream's newest entry (a sweep or wake-up while the feed is starting on a slow
 * machine: the gateway's subscription test received an earlier test's runs under load ~25).
 */
const log = createMemoryLogger('org-feeds-test');
let redis: Redis;
let prefix: string;
/** Writes the feeds as orchestration does. */
let hub: RunEventHub;

beforeAll(() => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'org-feeds-test', log });
  prefix = uniqueName('orgfeed');
  hub = createRunEventHub({ redis, prefix, log });
});

afterAll(async () => {
  await hub.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Publishes a run's status changes, seq 1, 2, … (they reach its organization's feed). */
const publishStatuses = (orgId: string, runId: string, statuses: string[]) =>
  hub.publish(
    statuses.map((runStatus, i) => testRunEvent({ runId, orgId, workflowId: runId, seq: i + 1, kind: 'RUN_STATUS', runStatus })),
  );

describe('organization feeds', () => {
  it('give a subscriber attached while the feed starts only what follows, even when a read began from the start', async () => {
    const orgId = randomUUID();
    const old = randomUUID();
    await publishStatuses(orgId, old, ['QUEUED', 'RUNNING', 'SUCCEEDED']);
    let releaseListen!: () => void;
    const listening = new Promise<void>((resolve) => (releaseListen = resolve));
    const feeds = createOrgFeeds({
      redis,
      prefix,
      log,
      // Slow start: subscribing to the wake-up channel takes until the test lets it finish.
      listen: async () => {
        await listening;
        return async () => undefined;
      },
      // Slow reads: a read started before the start finished answers after it.
      readRange: async (key, from) => {
        const entries = (await redis.xrange(key, from, '+')) as Array<[string, string[]]>;
        await sleep(300);
        return entries;
      },
      remember: () => undefined,
      idleCheckMs: 10,
      lingerMs: 60_000,
    });
    const got: RunEvent[] = [];
    const failures: unknown[] = [];
    const sink: FeedSink = { offer: (event) => void got.push(event), complete: () => undefined, fail: (error) => void failures.push(error) };
    const detach = feeds.attach(orgId, sink);
    // A sweep while starting: the feed is quiet past idleCheckMs, so it reads.
    feeds.sweep(Date.now() + 1_000);
    await sleep(20);
    releaseListen();
    await sleep(100);
    const now = randomUUID();
    await publishStatuses(orgId, now, ['RUNNING']);
    feeds.resync();
    const deadline = Date.now() + 5_000;
    while (got.length === 0 && Date.now() < deadline) await sleep(50);
    await sleep(700);
    detach();
    feeds.stop();
    expect(failures).toEqual([]);
    expect(got.map((e) => [e.runId, e.runStatus])).toEqual([[now, 'RUNNING']]);
  });
});
