import { createServer, type Server, type ServerResponse } from 'node:http';
import { eventually, newId } from '@orchestra/lib';
import { startCatalog, userOf, type CatalogUnderTest } from '../test-kit';
import { nextHealthStatus } from './prober';

/**
 * A local HTTP server standing in for an app's real health endpoint (an outside service we do not
 * run): it answers 200 while "up", 503 while "down", and never answers while "hanging".
 */
async function startFakeAppEndpoint() {
  let mode: 'up' | 'down' | 'hanging' = 'up';
  let hits = 0;
  const hung: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    hits += 1;
    if (mode === 'hanging') {
      hung.push(res);
      return;
    }
    res.writeHead(mode === 'up' ? 200 : 503, { 'content-type': 'text/plain' }).end(mode);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    set: (next: typeof mode) => {
      mode = next;
    },
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const HEALTH = `query ($id: ID!) { app(id: $id) { health {
  status since lastCheckedAt lastHttpStatus lastError checksTotal checksFailed monitoringSince
  uptime(windowSeconds: 3600) { ratio upSeconds downSeconds unknownSeconds windowSeconds }
  history(first: 50) { edges { node { status previousStatus httpStatus error changedAt } } }
} } }`;

describe('the next health status', () => {
  it('comes up on one success and goes down only after `downAfter` failures in a row', () => {
    expect(nextHealthStatus({ status: 'unknown', consecutiveFailures: 0 }, true, 2)).toEqual({ status: 'up', consecutiveFailures: 0 });
    expect(nextHealthStatus({ status: 'up', consecutiveFailures: 0 }, false, 2)).toEqual({ status: 'up', consecutiveFailures: 1 });
    expect(nextHealthStatus({ status: 'up', consecutiveFailures: 1 }, false, 2)).toEqual({ status: 'down', consecutiveFailures: 2 });
    expect(nextHealthStatus({ status: 'down', consecutiveFailures: 2 }, true, 2)).toEqual({ status: 'up', consecutiveFailures: 0 });
    // Never seen up: there is no good state to protect, so the first failure says down.
    expect(nextHealthStatus({ status: 'unknown', consecutiveFailures: 0 }, false, 3)).toEqual({ status: 'down', consecutiveFailures: 1 });
  });
});

describe('health probing with the background loop (local endpoint going up and down)', () => {
  let catalog: CatalogUnderTest;
  let endpoint: Awaited<ReturnType<typeof startFakeAppEndpoint>>;
  const admin = userOf(newId(), 'admin');
  let appId: string;

  beforeAll(async () => {
    endpoint = await startFakeAppEndpoint();
    catalog = await startCatalog({
      runBackground: true,
      env: {
        CATALOG_HEALTH_INTERVAL_MS: '100',
        CATALOG_HEALTH_JITTER_PERCENT: '20',
        CATALOG_HEALTH_TIMEOUT_MS: '1000',
        CATALOG_HEALTH_DOWN_AFTER: '2',
        CATALOG_HEALTH_CONCURRENCY: '4',
      },
    });
  });

  afterAll(async () => {
    await catalog.stop();
    await endpoint.close();
  });

  const health = async () => (await catalog.graphql(HEALTH, { id: appId }, admin)).data.app.health;

  it('records up, down after consecutive failures, and up again: only the changes, with counters', async () => {
    const { data, errors } = await catalog.graphql(
      `mutation ($input: CreateAppInput!) { createApp(input: $input) { id health { status checksTotal } } }`,
      { input: { slug: 'probed', name: 'Probed', healthCheckUrl: endpoint.url } },
      admin,
    );
    expect(errors).toBeUndefined();
    appId = data.createApp.id;

    const up = await eventually(async () => {
      const h = await health();
      return h.status === 'UP' && h;
    }, { what: 'the app to be reported UP' });
    expect(up.lastHttpStatus).toBe(200);

    endpoint.set('down');
    const down = await eventually(async () => {
      const h = await health();
      return h.status === 'DOWN' && h;
    }, { what: 'the app to be reported DOWN' });
    expect(down).toMatchObject({ lastHttpStatus: 503, lastError: 'HTTP 503' });
    expect(down.checksFailed).toBeGreaterThanOrEqual(2);

    // Several more failed probes change nothing but the counters.
    const failedBefore = down.checksFailed;
    await eventually(async () => (await health()).checksFailed >= failedBefore + 3, { what: 'more failed probes' });

    endpoint.set('up');
    const back = await eventually(async () => {
      const h = await health();
      return h.status === 'UP' && h;
    }, { what: 'the app to be reported UP again' });

    expect(back.history.edges.map((e: any) => [e.node.previousStatus, e.node.status, e.node.httpStatus])).toEqual([
      ['DOWN', 'UP', 200],
      ['UP', 'DOWN', 503],
      ['UNKNOWN', 'UP', 200],
    ]);
    expect(back.checksTotal).toBeGreaterThan(back.checksFailed);
    const { rows } = await catalog.pool.query<{ n: string }>('SELECT count(*) AS n FROM app_health_changes WHERE app_id = $1', [appId]);
    expect(Number(rows[0]!.n)).toBe(3);
    expect(Number(back.checksTotal)).toBeGreaterThan(3);

    // The window holds up and down time; unknown time (before the first probe) is not counted as either.
    expect(back.uptime.windowSeconds).toBe(3600);
    expect(back.uptime.upSeconds).toBeGreaterThan(0);
    expect(back.uptime.downSeconds).toBeGreaterThan(0);
    expect(back.uptime.ratio).toBeGreaterThan(0);
    expect(back.uptime.ratio).toBeLessThan(1);

    const changes = catalog.log.lines.filter((l) => l['msg'] === 'app health changed' && l['appId'] === appId).map((l) => `${String(l['from'])}->${String(l['to'])}`);
    expect(changes).toEqual(['unknown->up', 'up->down', 'down->up']);
  });

  it('counts an endpoint that does not answer within the timeout as down', async () => {
    // The endpoint accepts the connection and never answers: each probe is cut off by the timeout.
    endpoint.set('hanging');
    const down = await eventually(
      async () => {
        const h = await health();
        return h.status === 'DOWN' && h;
      },
      { what: 'the hanging app to be reported DOWN', timeoutMs: 20_000 },
    );
    expect(down.lastError).toBe('no answer within 1000 ms');
    expect(down.lastHttpStatus).toBeNull();
    endpoint.set('up');
  });

  it('never runs more probes at once than its concurrency (4 here), however many apps are due', async () => {
    // A second stand-in endpoint that answers slowly and counts the requests it holds at once.
    let open = 0;
    let most = 0;
    let served = 0;
    const slow = createServer((_req, res) => {
      open += 1;
      most = Math.max(most, open);
      setTimeout(() => {
        open -= 1;
        served += 1;
        res.writeHead(200).end('ok');
      }, 100);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const address = slow.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/healthz`;
    const ids: string[] = [];
    try {
      for (let i = 0; i < 8; i += 1) {
        const { data } = await catalog.graphql(`mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`, { input: { slug: `crowd-${i}`, name: `Crowd ${i}`, healthCheckUrl: `${url}?app=${i}` } }, admin);
        ids.push(data.createApp.id);
      }
      await eventually(() => served >= 24, { what: '24 probes of the slow endpoint', timeoutMs: 20_000 });
      expect(most).toBeLessThanOrEqual(4);
      expect(most).toBeGreaterThanOrEqual(2);
    } finally {
      for (const id of ids) {
        await catalog.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { id } }`, { id }, admin);
      }
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('restarts monitoring when the URL changes, noting it in the history', async () => {
    await eventually(async () => (await health()).status === 'UP', { what: 'UP before the URL change' });
    // Stop the loop so the reset state can be read before the next probe.
    await catalog.handle.prober!.stop();
    const { errors } = await catalog.graphql(`mutation ($id: ID!, $url: String) { updateApp(id: $id, input: { healthCheckUrl: $url }) { id } }`, { id: appId, url: `${endpoint.url}?v=2` }, admin);
    expect(errors).toBeUndefined();
    const reset = await health();
    expect(reset).toMatchObject({ status: 'UNKNOWN', checksTotal: 0, checksFailed: 0, lastCheckedAt: null });
    expect(reset.history.edges[0].node).toMatchObject({ previousStatus: 'UP', status: 'UNKNOWN', error: 'health-check URL changed' });
  });
});

describe('health probing, one round at a time', () => {
  let catalog: CatalogUnderTest;
  let endpoint: Awaited<ReturnType<typeof startFakeAppEndpoint>>;
  const orgId = newId();
  const admin = userOf(orgId, 'admin');

  beforeAll(async () => {
    endpoint = await startFakeAppEndpoint();
    // The production default: private addresses are refused.
    catalog = await startCatalog({ env: { CATALOG_ALLOW_PRIVATE_NETWORK: 'false', CATALOG_HEALTH_INTERVAL_MS: '60000' } });
  });

  afterAll(async () => {
    await catalog.stop();
    await endpoint.close();
  });

  const create = async (slug: string, url: string) =>
    (await catalog.graphql(`mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`, { input: { slug, name: slug, healthCheckUrl: url } }, admin)).data.createApp.id as string;

  it('refuses to probe a private address unless allowed, and says so', async () => {
    // Saved while private probing was allowed (today such a URL is refused when saved, see
    // health-url-guard.test.ts), or a name that resolves to a private address: the prober refuses it.
    const id = await create('private-target', 'https://private-target.example.com/health');
    await catalog.pool.query('UPDATE apps SET health_check_url = $2 WHERE id = $1', [id, endpoint.url]);
    expect(await catalog.handle.prober!.probeDue()).toBe(1);
    const { data } = await catalog.graphql(`query ($id: ID!) { app(id: $id) { health { status lastError lastHttpStatus } } }`, { id }, admin);
    expect(data.app.health).toEqual({ status: 'DOWN', lastError: expect.stringContaining('the address is not allowed'), lastHttpStatus: null });
    expect(endpoint.hits()).toBe(0);
    // Not due again before its interval.
    expect(await catalog.handle.prober!.probeDue()).toBe(0);
  });

  it('does not probe archived apps', async () => {
    const id = await create('archived-target', 'https://archived-target.example.com/health');
    await catalog.graphql(`mutation ($id: ID!) { archiveApp(id: $id) { status } }`, { id }, admin);
    expect(await catalog.handle.prober!.probeDue()).toBe(0);
    const { rows } = await catalog.pool.query('SELECT checks_total FROM app_health WHERE app_id = $1', [id]);
    expect(rows[0]).toEqual({ checks_total: '0' });
  });

  it('computes uptime over a window from the status changes in it', async () => {
    const id = await create('uptime-math', 'https://uptime.example.com/health');
    // An hour of history: up from 2 h ago, down 30 min ago, up again 15 min ago.
    await catalog.pool.query(
      `INSERT INTO app_health_changes (id, org_id, app_id, status, previous_status, changed_at) VALUES
       ($1, $4, $5, 'up', 'unknown', now() - interval '2 hours'),
       ($2, $4, $5, 'down', 'up', now() - interval '30 minutes'),
       ($3, $4, $5, 'up', 'down', now() - interval '15 minutes')`,
      [newId(), newId(), newId(), orgId, id],
    );
    const { data } = await catalog.graphql(`query ($id: ID!) { app(id: $id) { health { uptime(windowSeconds: 3600) { ratio upSeconds downSeconds unknownSeconds } } } }`, { id }, admin);
    const uptime = data.app.health.uptime;
    expect(uptime.ratio).toBeCloseTo(0.75, 3);
    expect(uptime.upSeconds).toBeCloseTo(2700, 0);
    expect(uptime.downSeconds).toBeCloseTo(900, 0);
    expect(uptime.unknownSeconds).toBe(0);

    const tooLong = await catalog.graphql(`query ($id: ID!) { app(id: $id) { health { uptime(windowSeconds: 99999999) { ratio } } } }`, { id }, admin);
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'windowSeconds' });
  });

  it('prunes history past the retention window, keeping the change that tells the status at its start', async () => {
    const id = await create('pruned', 'https://pruned.example.com/health');
    const old = [newId(), newId(), newId()];
    await catalog.pool.query(
      `INSERT INTO app_health_changes (id, org_id, app_id, status, previous_status, changed_at) VALUES
       ($1, $5, $6, 'up', 'unknown', now() - interval '40 days'),
       ($2, $5, $6, 'down', 'up', now() - interval '35 days'),
       ($3, $5, $6, 'up', 'down', now() - interval '31 days'),
       ($4, $5, $6, 'down', 'up', now() - interval '1 day')`,
      [...old, newId(), orgId, id],
    );
    expect(await catalog.handle.prober!.pruneHistory()).toBeGreaterThanOrEqual(2);
    const { rows } = await catalog.pool.query<{ id: string; status: string }>('SELECT id, status FROM app_health_changes WHERE app_id = $1 ORDER BY changed_at', [id]);
    expect(rows.map((r) => r.status)).toEqual(['up', 'down']);
    expect(rows[0]!.id).toBe(old[2]);
  });
});
