import { renderMail, type MailContent } from '@orchestra/lib';
import type { FanoutEvent } from '../fanout/fanout';
import type { DigestItem } from '../store/email';

const FOOTER = (unsubscribeUrl: string) => `You get this because of your notification preferences in Orchestra. Unsubscribe from these e-mails: ${unsubscribeUrl}`;

const absolute = (publicUrl: string, link: string | undefined | null) => (link ? `${publicUrl.replace(/\/$/, '')}${link}` : undefined);

/** One event's e-mail: plain text and HTML from the registry's summary. */
export function eventMail(event: FanoutEvent, publicUrl: string, unsubscribeUrl: string): MailContent {
  const url = absolute(publicUrl, event.summary.link);
  return renderMail({
    subject: `[Orchestra] ${event.summary.title}`,
    heading: event.summary.title,
    paragraphs: [event.summary.body],
    action: url ? { label: 'Open in Orchestra', url } : undefined,
    footer: FOOTER(unsubscribeUrl),
  });
}

/** The most events a digest lists one by one (the rest are counted). */
export const DIGEST_LISTED = 50;

/** A digest: what happened in the window, counted by kind, the first DIGEST_LISTED listed. */
export function digestMail(items: readonly DigestItem[], publicUrl: string, unsubscribeUrl: string): MailContent {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.type, (counts.get(item.type) ?? 0) + 1);
  const summary = [...counts].map(([type, n]) => `${type}: ${n}`).join(', ');
  const listed = items.slice(0, DIGEST_LISTED).map((i) => `• ${i.title} — ${i.body}${i.link ? ` (${absolute(publicUrl, i.link)})` : ''}`);
  const more = items.length > DIGEST_LISTED ? [`… and ${items.length - DIGEST_LISTED} more.`] : [];
  return renderMail({
    subject: `[Orchestra] Digest: ${items.length} notification${items.length === 1 ? '' : 's'}`,
    heading: `${items.length} notification${items.length === 1 ? '' : 's'} since your last digest (${summary})`,
    paragraphs: [...listed, ...more],
    action: { label: 'Open the notification centre', url: `${publicUrl.replace(/\/$/, '')}/notifications` },
    footer: FOOTER(unsubscribeUrl),
  });
}
