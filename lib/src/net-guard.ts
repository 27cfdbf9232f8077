import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type Response } from 'undici';
import { AppError, badInput } from './errors';
import type { Logger } from './log';

/**
 * The guard against server-side request forgery for every outbound HTTP request a user can aim
 * (the workers' http.request executor, catalog health probes): private, loopback, link-local,
 * unique-local, CGNAT, unspecified, multicast and reserved addresses are refused unless allowed.
 *
 * The guard resolves DNS itself, checks every address a name resolves to, and hands the checked
 * address straight to the socket, so a name that answers "public" to the check and "private" to
 * the connect (DNS rebinding) cannot slip through. Redirects open new connections through the same
 * connector, so they are checked too.
 */

/** [first address, prefix length] for IPv4 ranges that are never a public destination. */
const BLOCKED_V4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast
];

const parseV4 = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
};

const BLOCKED_V4_MASKS = BLOCKED_V4.map(([base, bits]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { network: (parseV4(base)! & mask) >>> 0, mask };
});

const isPrivateV4 = (value: number): boolean => BLOCKED_V4_MASKS.some(({ network, mask }) => ((value & mask) >>> 0) === network);

/** Parses an IPv6 literal (with `::` and an optional dotted IPv4 tail, no zone) into eight 16-bit groups. */
const parseV6 = (ip: string): number[] | undefined => {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // "::ffff:127.0.0.1" is "::ffff:7f00:1" written with its last 32 bits in dotted form.
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
      groups.push(parseInt(group, 16));
    }
    return groups;
  };
  const head = toGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1) return explicit === 8 ? head : undefined;
  if (explicit > 7) return undefined;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
};

const embeddedV4 = (g: number[], high: number, low: number): number => (((g[high] ?? 0) << 16) >>> 0) + (g[low] ?? 0);

const isPrivateV6 = (g: number[]): boolean => {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0] = g;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0xffff) return isPrivateV4(embeddedV4(g, 6, 7)); // ::ffff:a.b.c.d, IPv4-mapped
  if (firstFiveZero && g5 === 0) {
    // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d all end up at a private or local host.
    return true;
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPrivateV4(embeddedV4(g, 6, 7)); // NAT64
  if (g0 === 0x2002) return isPrivateV4(embeddedV4(g, 1, 2)); // 6to4 carries an IPv4 address in bits 16-47
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated, still private)
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return true; // discard-only 100::/64
  if (g0 === 0x2001 && g1 === 0x0db8) return true; // documentation
  return false;
};

const stripBrackets = (host: string): string => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/**
 * True when `ip` is an address a user-aimed request must not reach without permission. Accepts
 * IPv4 and IPv6 literals (brackets and a `%zone` are ignored); anything else is not an address and
 * throws BAD_USER_INPUT, so a caller can never mistake a hostname for a checked address.
 */
export function isPrivateAddress(ip: string): boolean {
  const literal = stripBrackets(ip.trim());
  const family = isIP(literal.split('%')[0] ?? '');
  if (family === 4) return isPrivateV4(parseV4(literal)!);
  if (family === 6) {
    const groups = parseV6(literal.split('%')[0]!.toLowerCase());
    // isIP accepted it, so a parse failure here is a form we do not understand: refuse it.
    return groups === undefined ? true : isPrivateV6(groups);
  }
  throw badInput('ip', `not an IP address: ${JSON.stringify(ip)}`, 'NOT_AN_IP_ADDRESS');
}

/**
 * The refusal a tenant sees names the host it asked for and nothing the guard learnt: the address a
 * name resolved to would map the private network for whoever aims requests at it. The resolved
 * address goes to the server's log only (`onRefused`).
 */
const blocked = (host: string): AppError =>
  new AppError('FORBIDDEN', `refusing to connect to ${host}: the address is not allowed`, {
    reason: 'PRIVATE_ADDRESS_BLOCKED',
    details: { host },
  });

/** Resolves every address of a name, like `dns.lookup(name, { all: true })`. */
export type ResolveAll = (hostname: string, options: { family?: number | 'IPv4' | 'IPv6'; hints?: number }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolveAll: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback);

/**
 * A `net.connect` lookup that resolves every address of a name and refuses the connection when any
 * of them is blocked; the socket then connects to exactly the addresses that were checked.
 */
const guardedLookup =
  (resolveAll: ResolveAll, isBlocked: (address: string) => boolean, refuse: (host: string, address: string) => AppError): LookupFunction =>
  (hostname, options, callback) => {
    resolveAll(hostname, { ...(options.family === undefined ? {} : { family: options.family }), ...(options.hints === undefined ? {} : { hints: options.hints }) }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => isBlocked(a.address));
      if (refused) return callback(refuse(hostname, refused.address), '', 0);
      if (options.all) return (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };

export interface GuardedFetchInit {
  method?: string;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** `manual` returns 3xx answers instead of following them (default `follow`, each hop checked). */
  redirect?: 'follow' | 'manual' | 'error';
}

export type GuardedFetch = ((url: string, init?: GuardedFetchInit) => Promise<Response>) & {
  /** Closes the pooled connections (the fetch must not be used afterwards). */
  close(): Promise<void>;
};

export interface GuardedFetchOptions {
  /** Let requests reach private networks (a worker inside a trusted network, tests). */
  allowPrivate: boolean;
  /** TCP/TLS connect timeout. */
  connectTimeoutMs?: number;
  /** Which addresses are refused (default `isPrivateAddress`); for networks with their own rules. */
  isBlocked?: (address: string) => boolean;
  /** The resolver (default the system's, `dns.lookup`); tests use it to play a DNS server. */
  resolveAll?: ResolveAll;
  /** Where a refusal is logged with the address the host resolved to (the error itself does not carry it). */
  log?: Logger;
}

const findAppError = (error: unknown): AppError | undefined => {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof AppError) return current;
  }
  return undefined;
};

/**
 * A fetch that refuses private destinations (unless `allowPrivate`) and non-http(s) URLs. A refusal
 * is `AppError('FORBIDDEN', ..., { reason: 'PRIVATE_ADDRESS_BLOCKED' })`; a malformed or non-http(s)
 * URL is BAD_USER_INPUT on field `url`. Network failures reject as undici's `TypeError: fetch failed`.
 */
export function createGuardedFetch({ allowPrivate, connectTimeoutMs = 10_000, isBlocked = isPrivateAddress, resolveAll = systemResolveAll, log }: GuardedFetchOptions): GuardedFetch {
  const refuse = (host: string, address: string): AppError => {
    log?.warn('outbound request refused: private address', { host, address });
    return blocked(host);
  };
  const baseConnector = buildConnector(allowPrivate ? { timeout: connectTimeoutMs } : { timeout: connectTimeoutMs, lookup: guardedLookup(resolveAll, isBlocked, refuse) });
  const agent = new Agent({
    connect: (options, callback) => {
      // An IP literal never reaches the lookup (net.connect skips DNS for it), so it is checked here.
      const host = stripBrackets(options.hostname);
      if (!allowPrivate && isIP(host) !== 0 && isBlocked(host)) return callback(refuse(host, host), null);
      return baseConnector(options, callback);
    },
  });

  const guardedFetch = async (url: string, init: GuardedFetchInit = {}): Promise<Response> => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badInput('url', `not a valid URL: ${JSON.stringify(url)}`, 'INVALID_URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw badInput('url', `only http and https URLs are allowed, got ${parsed.protocol.replace(/:$/, '')}`, 'UNSUPPORTED_URL_SCHEME');
    }
    // Refuse an IP literal before any request is built, so the refusal needs no network at all.
    const host = stripBrackets(parsed.hostname);
    if (!allowPrivate && isIP(host) !== 0 && isBlocked(host)) throw refuse(host, host);
    try {
      return await undiciFetch(parsed, {
        dispatcher: agent,
        ...(init.method === undefined ? {} : { method: init.method }),
        ...(init.headers === undefined ? {} : { headers: init.headers }),
        ...(init.body === undefined ? {} : { body: init.body }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
        ...(init.redirect === undefined ? {} : { redirect: init.redirect }),
      });
    } catch (error) {
      throw findAppError(error) ?? error;
    }
  };
  return Object.assign(guardedFetch, { close: () => agent.close() });
}
