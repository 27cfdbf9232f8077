import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from './errors';
import { createGuardedFetch, isPrivateAddress, type GuardedFetch } from './net-guard';

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
      message: `refusing to connect to ${address} (${address}): private address`,
    });
    expect(requests).toBe(before);
  });

  it('resolves a hostname itself and refuses one that points at loopback', async () => {
    const before = requests;
    const refusal = guarded(`http://localhost:${port}/`);
    await expect(refusal).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'PRIVATE_ADDRESS_BLOCKED' });
    await expect(refusal).rejects.toThrow(/^refusing to connect to localhost \((127\.0\.0\.1|::1)\): private address$/);
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
