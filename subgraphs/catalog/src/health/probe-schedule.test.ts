import { createServer, type Server } from 'node:http';
import { eventually, newId, type LogFields } from '@orchestra/lib';
import { startCatalog, userOf, type CatalogUnderTest } from '../test-kit';

/**
 * When the background prober looks, with the real loop, PostgreSQL and a local HTTP server standing
 * in for apps' health endpoints (an outside service we do not run). The longest idle sleep is set to
 * 10 minutes, so a probe that is run at all within these tests' waits was run because the loop
 * planned for it (its due time) or was woken (a change), not because a capped sleep ran out.
 */

const IDLE = 'health prober idle until the next probe is due';
const TEN_MINUTES = '600000';

/** A stand-in endpoint answering 200 to any path, recording when each request arrived. */
async function startRecordingEndpoint() {
  const hits: Array<{ path: string; at: number }> = [];
  const server: Server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', at: Date.now() });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    urlOf: (path: string) => `${base}${path}`,
    hitsOf: (path: string) => hits.filter((h) => h.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface IdleSleep {
  sleepMs: number;
  /** null: no probe scheduled at all. */
  dueInMs: number | null;
}

/**
 * The first idle sleep logged after line `from` that `matches` (the loop logs one each time it goes idle for longer
 * than a poll; `matches` tells a sleep planned for a due probe from the one at start, when nothing was scheduled).
 */
const idleSleepAfter = (catalog: CatalogUnderTest, from: number, matches: (sleep: IdleSleep) => boolean) =>
  eventually(
    () =>
      catalog.log.lines
        .slice(from)
        .filter((l: LogFields) => l['msg'] === IDLE)
        .map((l) => l as unknown as IdleSleep)
        .find(matches),
    { what: 'the health prober to go idle', timeoutMs: 20_000 },
  );
const planned = (sleep: IdleSleep) => sleep.dueInMs !== null;

const createApp = async (catalog: CatalogUnderTest, admin: ReturnType<typeof userOf>, slug: string, url: string): Promise<string> => {
  const { data, errors } = await catalog.graphql(`mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`, { input: { slug, name: slug, healthCheckUrl: url } }, admin);
  expect(errors).toBeUndefined();
  return data.createApp.id as string;
};

describe('the health prober sleeping until a probe is due', () => {
  let catalog: CatalogUnderTest;
  let endpoint: Awaited<ReturnType<typeof startRecordingEndpoint>>;
  const admin = userOf(newId(), 'admin');

  beforeAll(async () => {
    endpoint = await startRecordingEndpoint();
    catalog = await startCatalog({
      runBackground: true,
      env: { CATALOG_HEALTH_INTERVAL_MS: '3000', CATALOG_HEALTH_JITTER_PERCENT: '0', CATALOG_HEALTH_IDLE_MAX_MS: TEN_MINUTES },
    });
  });

  afterAll(async () => {
    await catalog.stop();
    await endpoint.close();
  });

  it('runs the next probe when its time comes: not before, and without waiting out the longest sleep', async () => {
    const mark = catalog.log.lines.length;
    const appId = await createApp(catalog, admin, 'due-later', endpoint.urlOf('/due-later'));
    await eventually(() => endpoint.hitsOf('/due-later').length >= 1, { what: 'the first probe, at once' });
    // Recorded: the second probe is due an interval after the first.
    const dueAt = await eventually(
      async () => {
        const { rows } = await catalog.pool.query<{ next_check_at: Date; checks_total: string }>('SELECT next_check_at, checks_total FROM app_health WHERE app_id = $1', [appId]);
        return rows[0]?.checks_total === '1' ? rows[0].next_check_at : undefined;
      },
      { what: 'the first probe recorded' },
    );
    // Nothing else is due: the loop sleeps until then (a plan of at most the interval, not the 10 minutes).
    const idle = await idleSleepAfter(catalog, mark, planned);
    expect(idle.sleepMs).toBeLessThanOrEqual(3000);

    const second = await eventually(() => endpoint.hitsOf('/due-later')[1], { what: 'the second probe, when due', timeoutMs: 20_000 });
    expect(second.at).toBeGreaterThanOrEqual(Math.floor(dueAt.getTime()));
  });
});

describe('the health prober woken by a change to an app it is not due to probe for 10 minutes', () => {
  let catalog: CatalogUnderTest;
  let endpoint: Awaited<ReturnType<typeof startRecordingEndpoint>>;
  const admin = userOf(newId(), 'admin');
  let appId: string;

  beforeAll(async () => {
    endpoint = await startRecordingEndpoint();
    catalog = await startCatalog({
      runBackground: true,
      env: { CATALOG_HEALTH_INTERVAL_MS: TEN_MINUTES, CATALOG_HEALTH_JITTER_PERCENT: '0', CATALOG_HEALTH_IDLE_MAX_MS: TEN_MINUTES },
    });
    const mark = catalog.log.lines.length;
    appId = await createApp(catalog, admin, 'rescheduled', endpoint.urlOf('/first'));
    await eventually(() => endpoint.hitsOf('/first').length === 1, { what: 'the first probe, at once' });
    // Asleep until the next probe, 10 minutes away.
    const idle = await idleSleepAfter(catalog, mark, planned);
    expect(idle.sleepMs).toBeGreaterThan(60_000);
  });

  afterAll(async () => {
    await catalog.stop();
    await endpoint.close();
  });

  it('probes a changed health-check URL at once', async () => {
    const { errors } = await catalog.graphql(`mutation ($id: ID!, $url: String) { updateApp(id: $id, input: { healthCheckUrl: $url }) { id } }`, { id: appId, url: endpoint.urlOf('/second') }, admin);
    expect(errors).toBeUndefined();
    await eventually(() => endpoint.hitsOf('/second').length === 1, { what: 'the new URL probed', timeoutMs: 20_000 });
    expect(endpoint.hitsOf('/first')).toHaveLength(1);
  });

  it('does not probe an archived app, and probes it at once when restored', async () => {
    await eventually(() => endpoint.hitsOf('/second').length === 1, { what: 'the URL of the test before' });
    const mark = catalog.log.lines.length;
    expect((await catalog.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { id } }`, { id: appId }, admin)).errors).toBeUndefined();
    // Woken by the archive, it finds no probe scheduled at all (dueInMs null) and sleeps the longest sleep.
    const idle = await idleSleepAfter(catalog, mark, (sleep) => sleep.dueInMs === null);
    expect(idle.sleepMs).toBe(600_000);

    expect((await catalog.graphql(`mutation ($id: ID!) { restoreApp(id: $id) { id } }`, { id: appId }, admin)).errors).toBeUndefined();
    await eventually(() => endpoint.hitsOf('/second').length === 2, { what: 'the restored app probed', timeoutMs: 20_000 });
  });
});
