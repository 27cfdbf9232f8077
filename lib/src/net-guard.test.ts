import { createServer, type Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import { AppError } from './errors';
import { createMemoryLogger } from './log';
import { createGuardedFetch, isPrivateAddress, type GuardedFetch, type ResolveAll } from './net-guard';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456:789a::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    'ff02::1',
  ])('refuses %s', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets %s through',
    (ip) => {
      expect(isPrivateAddress(ip)).toBe(false);
    },
  );

  it('throws BAD_USER_INPUT for something that is not an IP address', () => {
    expect(() => isPrivateAddress('example.com')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', reason: 'NOT_AN_IP_ADDRESS' }));
  });
});

describe('createGuardedFetch', () => {
  // A local HTTP server stands in for a third-party website: it lives on loopback, so only the
  // allowPrivate fetch may reach it, and it counts requests so a refusal is seen to send nothing.
  let server: Server;
  let port: number;
  let requests = 0;
  const guarded: GuardedFetch = createGuardedFetch({ allowPrivate: false });
  const open: GuardedFetch = createGuardedFetch({ allowPrivate: true });

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await guarded.close();
    await open.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reaches a private address when allowed', async () => {
    const response = await open(`http://127.0.0.1:${port}/hello`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: '/hello', method: 'POST' });
  });

  it.each([
    ['http://127.0.0.1:PORT/', '127.0.0.1'],
    ['http://10.0.0.1/', '10.0.0.1'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[::1]:PORT/', '::1'],
    ['http://[::ffff:127.0.0.1]:PORT/', '::ffff:7f00:1'],
    ['http://2130706433:PORT/', '127.0.0.1'],
    ['http://0x7f.1:PORT/', '127.0.0.1'],
    ['http://0.0.0.0:PORT/', '0.0.0.0'],
  ])('refuses %s', async (template, address) => {
    const before = requests;
    const url = template.replace('PORT', String(port));
    const refusal = guarded(url);
    await expect(refusal).rejects.toBeInstanceOf(AppError);
    await expect(refusal).rejects.toMatchObject({
      code: 'FORBIDDEN',
      reason: 'PRIVATE_ADDRESS_BLOCKED',
      message: `refusing to connect to ${address}: the address is not allowed`,
    });
    expect(requests).toBe(before);
  });

  it('resolves a hostname itself and refuses one that points at loopback', async () => {
    const before = requests;
    const refusal = guarded(`http://localhost:${port}/`);
    await expect(refusal).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'PRIVATE_ADDRESS_BLOCKED' });
    // The tenant learns that the name is refused, never what it resolved to (that is for the server's log).
    await expect(refusal).rejects.toThrow(/^refusing to connect to localhost: the address is not allowed$/);
    await expect(refusal).rejects.toMatchObject({ details: { host: 'localhost' } });
    expect(requests).toBe(before);
    // The same name is reachable when private networks are allowed: the refusal was the guard's.
    const response = await open(`http://localhost:${port}/ok`);
    expect(response.status).toBe(200);
  });

  it('refuses URLs that are not http(s) or not URLs at all', async () => {
    await expect(guarded('file:///etc/passwd')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'url', reason: 'UNSUPPORTED_URL_SCHEME' });
    await expect(open('ftp://127.0.0.1/')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    await expect(guarded('not a url')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'url', reason: 'INVALID_URL' });
  });

  it('passes network errors through as fetch failures', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(open(`http://127.0.0.1:${closedPort}/`)).rejects.toThrow(/fetch failed/);
  });
});

describe('createGuardedFetch: DNS pinning and redirects', () => {
  // Without the internet, 127.0.0.1 plays a public website here: the guard is given a rule that
  // blocks only 127.0.0.2, and a resolver the test controls in place of a DNS server. Names under
  // .test do not resolve on this machine, so a request that arrives proves the connection went to
  // the address the guard resolved and checked itself.
  let site: Server;
  let sitePort: number;
  let internal: Server;
  let internalPort: number;
  const siteRequests: Array<{ url: string | undefined; host: string | undefined }> = [];
  let internalRequests = 0;
  const answers = new Map<string, LookupAddress[][]>();
  const asked: string[] = [];
  const resolveAll: ResolveAll = (hostname, _options, callback) => {
    asked.push(hostname);
    const queue = answers.get(hostname) ?? [];
    const next = queue.length > 1 ? queue.shift()! : queue[0];
    if (!next) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    return callback(null, next);
  };
  const guardLog = createMemoryLogger('net-guard');
  const fetchAsPublic = createGuardedFetch({ allowPrivate: false, isBlocked: (address) => address === '127.0.0.2', resolveAll, log: guardLog });
  const v4 = (address: string): LookupAddress => ({ address, family: 4 });

  beforeAll(async () => {
    site = createServer((req, res) => {
      siteRequests.push({ url: req.url, host: req.headers.host });
      if (req.url === '/redirect') {
        res.statusCode = 302;
        res.setHeader('location', `http://127.0.0.2:${internalPort}/secret`);
        res.end();
        return;
      }
      // Closing the connection makes the next request connect (and so resolve) again.
      res.setHeader('connection', 'close');
      res.end('public');
    });
    internal = createServer((_req, res) => {
      internalRequests += 1;
      res.end('internal');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
    sitePort = (site.address() as AddressInfo).port;
    internalPort = (internal.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await fetchAsPublic.close();
    await new Promise<void>((resolve) => site.close(() => resolve()));
    await new Promise<void>((resolve) => internal.close(() => resolve()));
  });

  it('connects to the address its own resolver checked', async () => {
    answers.set('public.example.test', [[v4('127.0.0.1')]]);
    const response = await fetchAsPublic(`http://public.example.test:${sitePort}/pinned`);
    expect(await response.text()).toBe('public');
    expect(siteRequests.at(-1)).toEqual({ url: '/pinned', host: `public.example.test:${sitePort}` });
    expect(asked).toContain('public.example.test');
  });

  it('refuses a name when any one of its addresses is blocked', async () => {
    answers.set('mixed.example.test', [[v4('127.0.0.1'), v4('127.0.0.2')]]);
    const before = siteRequests.length;
    await expect(fetchAsPublic(`http://mixed.example.test:${sitePort}/`)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      reason: 'PRIVATE_ADDRESS_BLOCKED',
      message: 'refusing to connect to mixed.example.test: the address is not allowed',
    });
    expect(siteRequests.length).toBe(before);
    // The address it resolved to is in the server's log, not in the error a tenant reads.
    expect(guardLog.lines).toContainEqual(expect.objectContaining({ msg: 'outbound request refused: private address', host: 'mixed.example.test', address: '127.0.0.2' }));
  });

  it('checks a name again at every connection, so rebinding it to a blocked address fails', async () => {
    answers.set('rebind.example.test', [[v4('127.0.0.1')], [v4('127.0.0.2')]]);
    expect(await (await fetchAsPublic(`http://rebind.example.test:${sitePort}/first`)).text()).toBe('public');
    await expect(fetchAsPublic(`http://rebind.example.test:${sitePort}/second`)).rejects.toMatchObject({ reason: 'PRIVATE_ADDRESS_BLOCKED' });
    expect(siteRequests.map((r) => r.url)).not.toContain('/second');
  });

  it('checks every redirect hop', async () => {
    const before = internalRequests;
    await expect(fetchAsPublic(`http://127.0.0.1:${sitePort}/redirect`)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      reason: 'PRIVATE_ADDRESS_BLOCKED',
      message: 'refusing to connect to 127.0.0.2: the address is not allowed',
    });
    expect(internalRequests).toBe(before);
    expect(siteRequests.at(-1)?.url).toBe('/redirect');
  });
});
