/**
 * Mail content with a plain-text and an HTML part from one description, so both always say the same.
 * Every value is escaped in the HTML part; a link is shown in full in both parts.
 */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

export interface MailTemplate {
  subject: string;
  /** The first line (the greeting or headline). */
  heading: string;
  /** Paragraphs of plain text. */
  paragraphs: readonly string[];
  /** The one thing the mail asks the reader to do: a button in HTML, the URL on its own line in text. */
  action?: { label: string; url: string } | undefined;
  /** Small print under everything (why they got it, what to do if it was not them). */
  footer?: string | undefined;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

export function renderMail(t: MailTemplate): MailContent {
  const text = [
    t.heading,
    '',
    ...t.paragraphs.flatMap((p) => [p, '']),
    ...(t.action ? [`${t.action.label}: ${t.action.url}`, ''] : []),
    ...(t.footer ? ['--', t.footer] : []),
  ].join('\n');
  const button = t.action
    ? `<p><a href="${escapeHtml(t.action.url)}" style="display:inline-block;padding:10px 18px;background:#4f46e5;color:#ffffff;border-radius:6px;text-decoration:none">${escapeHtml(t.action.label)}</a></p>
<p style="font-size:12px;color:#555">Or open this link: <a href="${escapeHtml(t.action.url)}">${escapeHtml(t.action.url)}</a></p>`
    : '';
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(t.subject)}</title></head>
<body style="font-family:system-ui,sans-serif;color:#111;max-width:560px;margin:24px auto">
<h1 style="font-size:18px">${escapeHtml(t.heading)}</h1>
${t.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${button}
${t.footer ? `<hr><p style="font-size:12px;color:#555">${escapeHtml(t.footer)}</p>` : ''}
</body></html>`;
  return { subject: t.subject, text, html };
}
