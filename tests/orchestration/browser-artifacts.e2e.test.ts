import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@orchestra/lib';
import type { Platform } from '../src/platform';
import { as, createWorkflow, signUp, startRun, waitForRun, type Session } from './helpers';
import { startPlatform } from '../src/platform';

/**
 * Issue 8 end to end, on real Chromium through the whole platform: a browser step signs in to a site
 * (served here on 127.0.0.1) with an organization secret, extracts a table, keeps a screenshot and a
 * PDF; both are downloaded through the gateway's signed URLs with the bytes their sha256 names. The
 * secret's value is in no stored row of the orchestration schema and in no run event. Another
 * organization cannot see the artifacts, nor download them with the URLs it is given.
 */

const SECRET = `Hunter-${randomBytes(8).toString('hex')}`;

function startSite(): Promise<{ url: string; signIns: string[]; close(): Promise<void> }> {
  const signIns: string[] = [];
  const page = (body: string) => `<!doctype html><html><head><title>Shop</title></head><body>${body}</body></html>`;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    if (url.pathname === '/login' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const password = new URLSearchParams(body).get('password') ?? '';
        signIns.push(password);
        res.writeHead(password === SECRET ? 303 : 401, password === SECRET ? { location: '/orders' } : { 'content-type': 'text/html' }).end(password === SECRET ? '' : page('<h1>Wrong</h1>'));
      });
      return;
    }
    if (url.pathname === '/orders') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        page('<h1>Orders</h1><table id="orders"><tr><th>id</th><th>total</th></tr><tr><td>A-1</td><td>12.50</td></tr><tr><td>A-2</td><td>7.00</td></tr></table>'),
      );
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(page('<h1>Sign in</h1><form method="post" action="/login"><input name="user" id="user"><input type="password" name="password" id="password"><button id="go">Go</button></form>'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, signIns, close: () => new Promise((r) => server.close(() => r())) }),
    ),
  );
}

interface ArtifactView {
  id: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  downloadUrl: string | null;
}

describe('a browser step through the whole platform', () => {
  let platform: Platform;
  let site: Awaited<ReturnType<typeof startSite>>;
  let owner: Session;
  let other: Session;

  beforeAll(async () => {
    site = await startSite();
    platform = await startPlatform({
      services: ['identity', 'orchestration'],
      workers: 1,
      env: {
        // The site is on 127.0.0.1: this worker may reach private addresses (the guard is tested in workers/).
        worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '2' },
      },
    });
    owner = await signUp(platform, 'Browser Org');
    other = await signUp(platform, 'Other Org');
  });
  afterAll(async () => {
    await platform?.stop();
    await site?.close();
  });

  const download = (url: string, auth?: Session) =>
    fetch(new URL(url, platform.gatewayUrl), { headers: auth ? { authorization: `Bearer ${auth.accessToken}` } : {} });

  it('signs in with a secret, extracts a table, and serves its screenshot and PDF through the gateway to its own organization only', async () => {
    // The worker advertises the capability once its Chromium is usable.
    await eventually(
      async () => {
        const res = await platform.graphql<{ capabilities: string[] }>('{ capabilities }', {}, as(owner));
        return res.data?.capabilities.includes('browser') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a worker offering browser' },
    );
    const created = await platform.graphql('mutation { createSecret(name: "SHOP_PASSWORD", value: "' + SECRET + '") { name } }', {}, as(owner));
    expect(created.errors).toBeUndefined();
    await createWorkflow(platform, owner, 'shop-orders', [
      {
        id: 'orders',
        capability: 'browser',
        input: {
          actions: [
            { action: 'goto', url: `${site.url}/` },
            { action: 'fill', selector: '#user', value: 'ada' },
            { action: 'fill', selector: '#password', value: '{{ secrets.SHOP_PASSWORD }}' },
            { action: 'click', selector: '#go' },
            { action: 'waitFor', urlMatches: '/orders$' },
            { action: 'extract', name: 'orders', selector: '#orders', table: true },
            { action: 'screenshot', name: 'orders.png', fullPage: true },
            { action: 'pdf', name: 'orders.pdf' },
          ],
        },
      },
    ]);
    const { id } = await startRun(platform, owner, { workflowName: 'shop-orders', input: {} });
    const run = await waitForRun(platform, owner, id, undefined, 120_000);
    expect([run.status, run.tasks[0]!.error]).toEqual(['SUCCEEDED', null]);
    expect(site.signIns).toEqual([SECRET]);
    const output = run.tasks[0]!.output as { extracted: Record<string, unknown>; url: string; title: string };
    expect(output.extracted['orders']).toEqual([
      { id: 'A-1', total: '12.50' },
      { id: 'A-2', total: '7.00' },
    ]);
    expect(output.url).toBe(`${site.url}/orders`);

    const query = 'query($id: ID!) { run(id: $id) { tasks { artifacts { id name contentType sizeBytes sha256 downloadUrl } } } }';
    const listed = await platform.graphql<{ run: { tasks: Array<{ artifacts: ArtifactView[] }> } }>(query, { id }, as(owner));
    const artifacts = listed.data!.run.tasks[0]!.artifacts;
    expect(artifacts.map((a) => [a.name, a.contentType]).sort()).toEqual([
      ['orders.pdf', 'application/pdf'],
      ['orders.png', 'image/png'],
    ]);
    for (const artifact of artifacts) {
      const res = await download(artifact.downloadUrl!, owner);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([artifact.name, bytes.length, createHash('sha256').update(bytes).digest('hex')]).toEqual([artifact.name, artifact.sizeBytes, artifact.sha256]);
      expect(bytes.subarray(0, 4).toString('latin1')).toBe(artifact.name.endsWith('.pdf') ? '%PDF' : '\x89PNG');
      // The signed URL is for the artifact's organization: a caller signed in to another one gets nothing.
      expect((await download(artifact.downloadUrl!, other)).status).toBe(404);
    }

    // The other organization cannot see the run, its tasks or its artifacts.
    const theirs = await platform.graphql<{ run: unknown }>(query, { id }, as(other));
    expect(theirs.data?.run ?? null).toBeNull();

    // The secret's value is in no row of any table of the orchestration schema (the task's input shows ****).
    const schema = platform.schemas.orchestration;
    const tables = await platform.pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'", [schema]);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { table_name } of tables.rows) {
      const found = await platform.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table_name} r WHERE strpos(to_jsonb(r)::text, $1) > 0`, [SECRET]);
      expect([table_name, Number(found.rows[0]!.n)]).toEqual([table_name, 0]);
    }
    const stored = await platform.pool.query<{ input: unknown }>(`SELECT input FROM ${schema}.tasks WHERE run_id = $1`, [id]);
    expect(JSON.stringify(stored.rows[0]!.input)).toContain('****');
    const events = await platform.graphql<{ run: { events: unknown[] } }>('query($id: ID!) { run(id: $id) { events(afterSeq: 0, first: 1000) { kind message } } }', { id }, as(owner));
    expect(JSON.stringify(events.data)).not.toContain(SECRET);
  });
});
