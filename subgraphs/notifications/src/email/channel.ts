import { newId } from '@orchestra/lib';
import type { FanoutChannel } from '../fanout/fanout';
import { insertDigestItems, insertEmails } from '../store/email';
import { eventMail } from './templates';
import type { Unsubscriber } from './unsubscribe';

/** The fan-out's e-mail channel: a mail now for users who get each event, a digest item for the others. */
export function emailChannel({ publicUrl, unsubscriber, wakeSender }: { publicUrl: string; unsubscriber: Unsubscriber; wakeSender: () => void }): FanoutChannel {
  return {
    name: 'email',
    async plan(tx, event, recipients) {
      const each = recipients.filter((r) => r.channels.email === 'each' && r.email !== '');
      const digest = recipients.filter((r) => r.channels.email === 'digest' && r.email !== '');
      const mails = each.map((r) => {
        const unsubscribeUrl = unsubscriber.url(event.orgId, r.userId);
        const content = eventMail(event, publicUrl, unsubscribeUrl);
        return { id: newId(), orgId: event.orgId, userId: r.userId, toAddress: r.email, kind: 'event' as const, eventId: event.id, subject: content.subject, text: content.text, html: content.html, unsubscribeUrl };
      });
      const added = await insertEmails(tx, mails);
      await insertDigestItems(
        tx,
        digest.map((r) => ({ id: newId(), orgId: event.orgId, userId: r.userId, toAddress: r.email, eventId: event.id, type: event.type, title: event.summary.title, body: event.summary.body, link: event.summary.link ?? null })),
      );
      // A digest item wakes the sender too: it then sleeps until the item's digest window ends (issue 11).
      return added > 0 || digest.length > 0 ? wakeSender : undefined;
    },
  };
}
