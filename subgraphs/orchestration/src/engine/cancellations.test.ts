import { createMemoryLogger, createRedis, eventually, TEST_REDIS_URL, uniqueName, type Redis } from '@orchestra/lib';
import { createAttemptCancellations, type AttemptCancellations } from './cancellations';

/** Two orchestration processes' cancellation hubs on the real Redis, under a prefix of their own. */
let redis: Redis;
let here: AttemptCancellations;
let there: AttemptCancellations;
const log = createMemoryLogger('cancellations-test');

beforeAll(async () => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'cancellations-test', log });
  const prefix = uniqueName('test:cancel');
  here = createAttemptCancellations({ redis, prefix, log });
  there = createAttemptCancellations({ redis, prefix, log });
  await here.start();
  await there.start();
});

afterAll(async () => {
  await here?.stop();
  await there?.stop();
  await redis?.quit();
});

describe('attempt cancellations', () => {
  it('abort a call in whichever process runs it', async () => {
    const call = there.track('attempt-running');
    await here.cancel(['attempt-running'], 'cancelled');
    await eventually(() => call.controller.signal.aborted || undefined, { what: 'the call there to be aborted' });
    expect(call.reason).toBe('cancelled');
    there.untrack('attempt-running');
  });

  it('abort a call that starts just after the cancel (claimed, not yet executing), here or in another process', async () => {
    await here.cancel(['attempt-claimed-here', 'attempt-claimed-there'], 'cancelled');
    const local = here.track('attempt-claimed-here');
    expect(local.controller.signal.aborted).toBe(true);
    expect(local.reason).toBe('cancelled');
    here.untrack('attempt-claimed-here');
    // The other process hears of it through Redis: its call starts aborted once the message is in.
    await eventually(
      () => {
        const call = there.track('attempt-claimed-there');
        there.untrack('attempt-claimed-there');
        return call.controller.signal.aborted ? call : undefined;
      },
      { what: 'the call there to start aborted' },
    );
  });

  it('leave other calls alone', async () => {
    await here.cancel(['attempt-cancelled'], 'cancelled');
    const other = here.track('attempt-other');
    expect(other.controller.signal.aborted).toBe(false);
    expect(other.reason).toBeUndefined();
    here.untrack('attempt-other');
  });
});
