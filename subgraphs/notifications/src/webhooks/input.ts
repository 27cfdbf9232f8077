import { isIP } from 'node:net';
import { badInput, isNotificationEventType, isPrivateAddress, NOTIFICATION_EVENT_TYPES } from '@orchestra/lib';

const MAX_URL = 2048;

/**
 * An endpoint URL: http(s), no credentials, at most 2048 characters, and not an IP literal in a
 * private, loopback or link-local range (unless allowed). Host names are checked again on every
 * delivery, against what they resolve to then (lib's guard).
 */
export function parseEndpointUrl(field: string, raw: string, allowedPrivateIps: ReadonlySet<string>): string {
  if (raw.length > MAX_URL) throw badInput(field, `the URL is longer than ${MAX_URL} characters`, 'TOO_LONG');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput(field, `not a valid URL: ${JSON.stringify(raw.slice(0, 100))}`, 'INVALID_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(field, `webhooks are http or https, not ${url.protocol.replace(/:$/, '')}`, 'UNSUPPORTED_URL_SCHEME');
  if (url.username !== '' || url.password !== '') throw badInput(field, 'the URL must not carry credentials (the signature authenticates deliveries)', 'URL_WITH_CREDENTIALS');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && isPrivateAddress(host) && !allowedPrivateIps.has(host)) {
    throw badInput(field, `${host} is a private, loopback or link-local address: webhooks go to public endpoints`, 'PRIVATE_ADDRESS_BLOCKED');
  }
  return url.toString();
}

/** Event names an endpoint subscribes to: known ones, at least one, no repeats. */
export function parseEventList(field: string, events: readonly string[]): string[] {
  if (events.length === 0) throw badInput(field, 'choose at least one event', 'EVENTS_REQUIRED');
  const seen = new Set<string>();
  events.forEach((name, i) => {
    if (!isNotificationEventType(name)) throw badInput(`${field}[${i}]`, `unknown event "${name.slice(0, 60)}" (one of ${NOTIFICATION_EVENT_TYPES.join(', ')})`, 'UNKNOWN_EVENT_TYPE');
    if (seen.has(name)) throw badInput(`${field}[${i}]`, `event ${name} is named twice`, 'DUPLICATE_EVENT_TYPE');
    seen.add(name);
  });
  return [...seen];
}

export function parseDescription(field: string, raw: string | null | undefined): string | undefined {
  if (raw == null) return undefined;
  if (raw.length > 500) throw badInput(field, 'at most 500 characters', 'TOO_LONG');
  return raw;
}
