import { createServer, type Server } from 'node:http';
import { newId } from '@orchestra/lib';
import { startCatalog, userOf, type CatalogUnderTest } from '../test-kit';
import { decideHealthNotice, type NoticeState } from './notices';

/**
 * App health notices (issue 13): the prober writes `app.health_changed` to the catalog's
 * notification outbox only on a transition between up and down, in the transaction that records
 * it, and at most once per quiet period for a flapping app.
 */

const at = (ms: number) => new Date(1_800_000_000_000 + ms);
const QUIET = 60_000;

describe('deciding whether a probe is news', () => {
  const fresh: NoticeState = { notifiedStatus: null, notifiedAt: null, changesSinceNotice: 0 };

  it('remembers the first status it sees without announcing it', () => {
    expect(decideHealthNotice(fresh, 'up', true, at(0), QUIET)).toEqual({ state: { notifiedStatus: 'up', notifiedAt: null, changesSinceNotice: 0 } });
    expect(decideHealthNotice(fresh, 'down', true, at(0), QUIET)).toEqual({ state: { notifiedStatus: 'down', notifiedAt: null, changesSinceNotice: 0 } });
    expect(decideHealthNotice(fresh, 'unknown', false, at(0), QUIET)).toEqual({ state: fresh });
  });

  it('announces a change from the announced status at once when nothing was announced lately', () => {
    const up: NoticeState = { notifiedStatus: 'up', notifiedAt: null, changesSinceNotice: 0 };
    expect(decideHealthNotice(up, 'down', true, at(5), QUIET)).toEqual({
      state: { notifiedStatus: 'down', notifiedAt: at(5), changesSinceNotice: 0 },
      notice: { status: 'down', previousStatus: 'up', changes: 1 },
    });
    // The same status probe after probe is no news.
    expect(decideHealthNotice(up, 'up', false, at(5), QUIET)).toEqual({ state: up });
  });

  it('holds changes inside the quiet period and announces the settled status after it, with the count', () => {
    let state: NoticeState = { notifiedStatus: 'down', notifiedAt: at(0), changesSinceNotice: 0 };
    for (const [i, status] of (['up', 'down', 'up', 'down', 'up'] as const).entries()) {
      const decided = decideHealthNotice(state, status, true, at(1_000 * (i + 1)), QUIET);
      expect(decided.notice).toBeUndefined();
      state = decided.state;
    }
    expect(state).toEqual({ notifiedStatus: 'down', notifiedAt: at(0), changesSinceNotice: 5 });
    // Still up once the quiet period is over: announced, counting every change since the last notice.
    expect(decideHealthNotice(state, 'up', false, at(QUIET), QUIET)).toEqual({
      state: { notifiedStatus: 'up', notifiedAt: at(QUIET), changesSinceNotice: 0 },
      notice: { status: 'up', previousStatus: 'down', changes: 5 },
    });
    // Back in the announced status when it is over: nothing to say.
    const settledDown = decideHealthNotice({ ...state, changesSinceNotice: 6 }, 'down', false, at(QUIET + 1), QUIET);
    expect(settledDown.notice).toBeUndefined();
  });
});

interface OutboxRow {
  org_id: string;
  event: { type: string; orgId: string; service: string; data: Record<string, unknown> };
}

describe('the prober writes app.health_changed to the notification outbox', () => {
  let catalog: CatalogUnderTest;
  let up = true;
  let server: Server;
  let url: string;
  const orgA = newId();
  const orgB = newId();

  beforeAll(async () => {
    // A local HTTP server standing in for an app's health endpoint (an outside service).
    server = createServer((_req, res) => res.writeHead(up ? 200 : 503).end(up ? 'ok' : 'unavailable'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/healthz`;
    // No NOTIFICATIONS_GRPC_ADDR: the events stay in the outbox, where this test reads them.
    catalog = await startCatalog({ env: { CATALOG_HEALTH_DOWN_AFTER: '2', CATALOG_HEALTH_INTERVAL_MS: '60000', CATALOG_HEALTH_NOTIFY_QUIET_MS: String(QUIET) } });
  });

  afterAll(async () => {
    await catalog.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const createApp = async (orgId: string, slug: string): Promise<string> => {
    const { data, errors } = await catalog.graphql(`mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }`, { input: { slug, name: `App ${slug}`, healthCheckUrl: url } }, userOf(orgId, 'admin'));
    expect(errors).toBeUndefined();
    return data.createApp.id as string;
  };

  /** Makes the app due and probes it once. */
  const probe = async (appId: string) => {
    await catalog.pool.query('UPDATE app_health SET next_check_at = now() WHERE app_id = $1', [appId]);
    await catalog.pool.query("UPDATE app_health SET next_check_at = 'infinity' WHERE app_id <> $1 AND next_check_at <> 'infinity'", [appId]);
    expect(await catalog.handle.prober!.probeDue()).toBe(1);
  };

  const notices = async (appId: string) =>
    (await catalog.pool.query<OutboxRow>("SELECT org_id, event FROM notification_outbox WHERE event->>'type' = 'app.health_changed' AND event->'data'->>'appId' = $1 ORDER BY created_at, id", [appId])).rows;

  /** As if the last notice was written longer ago than the quiet period. */
  const endQuietPeriod = (appId: string) => catalog.pool.query("UPDATE app_health SET notified_at = now() - interval '1 hour' WHERE app_id = $1", [appId]);

  it('announces up→down and down→up once each, not every probe, and not the first status seen', async () => {
    const appId = await createApp(orgA, 'watched');
    up = true;
    await probe(appId);
    expect(await notices(appId)).toEqual([]);

    up = false;
    await probe(appId); // one failure: still up (CATALOG_HEALTH_DOWN_AFTER 2)
    expect(await notices(appId)).toEqual([]);
    await probe(appId);
    await probe(appId);
    await probe(appId);
    const down = await notices(appId);
    expect(down).toHaveLength(1);
    expect(down[0]).toEqual({
      org_id: orgA,
      event: expect.objectContaining({
        type: 'app.health_changed',
        orgId: orgA,
        service: 'catalog',
        data: { appId, appName: 'App watched', status: 'down', previousStatus: 'up', httpStatus: 503, error: 'HTTP 503', changes: 1 },
      }) as unknown,
    });

    await endQuietPeriod(appId);
    up = true;
    await probe(appId);
    await probe(appId);
    const both = await notices(appId);
    expect(both.map((n) => `${String(n.event.data['previousStatus'])}->${String(n.event.data['status'])}`)).toEqual(['up->down', 'down->up']);
    expect(both[1]!.event.data).toMatchObject({ status: 'up', httpStatus: 200, changes: 1 });
  });

  it('holds a flapping app to one notice per quiet period, then announces where it settled', async () => {
    const appId = await createApp(orgA, 'flapping');
    up = true;
    await probe(appId);
    up = false;
    await probe(appId);
    await probe(appId);
    expect(await notices(appId)).toHaveLength(1); // up->down, announced at once

    // Inside the quiet period: up, down, up, down (two failures each time) — nothing more is written.
    for (let i = 0; i < 2; i += 1) {
      up = true;
      await probe(appId);
      up = false;
      await probe(appId);
      await probe(appId);
    }
    up = true;
    await probe(appId);
    expect(await notices(appId)).toHaveLength(1);
    const { rows } = await catalog.pool.query('SELECT status, notified_status, changes_since_notice FROM app_health WHERE app_id = $1', [appId]);
    expect(rows[0]).toEqual({ status: 'up', notified_status: 'down', changes_since_notice: 5 });

    // Once the quiet period is over, the next probe announces the status it settled in, with the count.
    await endQuietPeriod(appId);
    await probe(appId);
    const all = await notices(appId);
    expect(all).toHaveLength(2);
    expect(all[1]!.event.data).toMatchObject({ status: 'up', previousStatus: 'down', changes: 5 });
  });

  it("writes each notice under its app's organization only", async () => {
    const appB = await createApp(orgB, 'other-org');
    up = true;
    await probe(appB);
    up = false;
    await probe(appB);
    await probe(appB);
    const b = await notices(appB);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ org_id: orgB, event: { orgId: orgB } });
    const { rows } = await catalog.pool.query<{ org_id: string; n: string }>(
      "SELECT org_id, count(*) AS n FROM notification_outbox WHERE event->>'type' = 'app.health_changed' GROUP BY org_id ORDER BY org_id",
    );
    expect(Object.fromEntries(rows.map((r) => [r.org_id, Number(r.n)]))).toEqual({ [orgA]: 4, [orgB]: 1 });
  });
});
