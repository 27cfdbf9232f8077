import type { Page } from 'playwright-core';

/**
 * What the model is shown of the page after each step: the URL, the title, the interactive elements
 * it can act on (links, buttons, fields, selects...), each with a ref that stays the same for the
 * same element while the page lives (`[e12] button "Sign in"`), and the page's visible text, the
 * whole bounded to `maxChars`. A password field says whether it is filled, never its value, and the
 * value of every secret of the step is replaced by its name wherever it would appear.
 */

/** The attribute the refs are kept in, on the page's own elements. */
export const REF_ATTRIBUTE = 'data-orchestra-ref';

export interface PageElement {
  ref: string;
  role: string;
  name: string;
  inputType?: string;
  field?: string;
  value?: string;
  filled?: boolean;
  checked?: boolean;
  options?: string[];
  href?: string;
}

export interface PageDigest {
  url: string;
  title: string;
  elements: PageElement[];
  /** Interactive elements on the page, also those past the limit. */
  elementCount: number;
  text: string;
  scroll: { y: number; height: number; viewport: number };
}

/** Elements listed at most, and characters of text read from the page before it is trimmed to fit. */
const MAX_ELEMENTS = 300;
const MAX_PAGE_TEXT = 200_000;
/** Characters of a form field's value the page script reads (`clean(el.value, FIELD_VALUE_CHARS)`). */
const FIELD_VALUE_CHARS = 200;

/**
 * Runs in the page. Made from source text, not written as a function here (as the browser runner's
 * table reader): what the page runs must not lean on helpers a TypeScript toolchain injects.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- a function made from our own constant source text, for the page
const READ_PAGE = new Function(`return ([maxElements, maxText, attr]) => {
  const w = window;
  if (typeof w.__orchestraRefCounter !== 'number') w.__orchestraRefCounter = 0;
  const selector = 'a[href],button,input,select,textarea,summary,[role=button],[role=link],[role=checkbox],[role=radio],[role=tab],[role=menuitem],[role=option],[role=switch],[contenteditable=""],[contenteditable=true],[onclick]';
  const clean = (t, n) => String(t || '').replace(/\\s+/g, ' ').trim().slice(0, n);
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  };
  const labelOf = (el) => {
    const aria = el.getAttribute('aria-label');
    if (aria) return aria;
    const by = el.getAttribute('aria-labelledby');
    if (by) { const l = document.getElementById(by); if (l) return l.innerText; }
    if (el.id) { const l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]'); if (l) return l.innerText; }
    const wrap = el.closest('label');
    if (wrap && wrap !== el) return wrap.innerText;
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' || tag === 'textarea' || tag === 'select') return el.getAttribute('placeholder') || el.getAttribute('title') || el.getAttribute('name') || '';
    return el.innerText || el.getAttribute('title') || el.getAttribute('alt') || el.value || '';
  };
  const roleOf = (el, tag, type) => {
    const role = el.getAttribute('role');
    if (role) return role;
    if (tag === 'a') return 'link';
    if (tag === 'button' || tag === 'summary') return 'button';
    if (tag === 'select') return 'select';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') {
      if (type === 'checkbox' || type === 'radio') return type;
      if (type === 'submit' || type === 'button' || type === 'reset' || type === 'image') return 'button';
      return 'textbox';
    }
    if (el.isContentEditable) return 'textbox';
    return 'clickable';
  };
  const elements = [];
  let count = 0;
  for (const el of Array.from(document.querySelectorAll(selector))) {
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'input' && type === 'hidden') continue;
    if (el.disabled || !visible(el)) continue;
    count += 1;
    if (elements.length >= maxElements) continue;
    let ref = el.getAttribute(attr);
    if (!ref || !/^e\\d+$/.test(ref)) { w.__orchestraRefCounter += 1; ref = 'e' + w.__orchestraRefCounter; el.setAttribute(attr, ref); }
    const item = { ref, role: roleOf(el, tag, type), name: clean(labelOf(el), 120) };
    if (tag === 'input' || tag === 'textarea') {
      if (tag === 'input') item.inputType = type || 'text';
      if (el.name) item.field = clean(el.name, 60);
      if (type === 'password') item.filled = el.value !== '';
      else if (type === 'checkbox' || type === 'radio') item.checked = el.checked;
      else if (!['submit', 'button', 'reset', 'image'].includes(type)) item.value = clean(el.value, ${FIELD_VALUE_CHARS});
    } else if (tag === 'select') {
      item.options = Array.from(el.options).slice(0, 40).map((o) => clean(o.textContent, 60));
      const chosen = el.options[el.selectedIndex];
      item.value = chosen ? clean(chosen.textContent, 60) : '';
    } else if (tag === 'a') {
      item.href = String(el.getAttribute('href') || '').slice(0, 200);
    }
    elements.push(item);
  }
  const raw = document.body ? document.body.innerText || '' : '';
  const text = raw.slice(0, maxText).replace(/\\t+/g, ' | ').replace(/[ \\u00a0]+/g, ' ').replace(/ *\\n[\\s]*/g, '\\n').trim();
  return { elements, elementCount: count, text, scroll: { y: Math.round(window.scrollY), height: document.documentElement.scrollHeight, viewport: window.innerHeight } };
}`)() as (args: readonly [number, number, string]) => Omit<PageDigest, 'url' | 'title'>;

export async function readPage(page: Page): Promise<PageDigest> {
  const url = page.url();
  const title = await page.title().catch(() => '');
  try {
    const read = await page.evaluate(READ_PAGE, [MAX_ELEMENTS, MAX_PAGE_TEXT, REF_ATTRIBUTE] as const);
    return { url, title, ...read };
  } catch (error) {
    // A page between two documents (a navigation under way) has nothing to read for a moment.
    return { url, title, elements: [], elementCount: 0, text: `(the page could not be read: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`, scroll: { y: 0, height: 0, viewport: 0 } };
  }
}

/** One element as the model reads it: `[e4] textbox "Email" field=email value="a@b.c"`. */
export function describeElement(e: PageElement): string {
  const parts = [`[${e.ref}] ${e.role}`, JSON.stringify(e.name)];
  if (e.inputType !== undefined && e.inputType !== 'text' && e.role === 'textbox') parts.push(`type=${e.inputType}`);
  if (e.field !== undefined && e.field !== '') parts.push(`field=${e.field}`);
  if (e.filled !== undefined) parts.push(e.filled ? '(filled)' : '(empty)');
  if (e.checked !== undefined) parts.push(e.checked ? '(checked)' : '(not checked)');
  if (e.value !== undefined) parts.push(`value=${JSON.stringify(e.value)}`);
  if (e.options !== undefined) parts.push(`options=${JSON.stringify(e.options)}`);
  if (e.href !== undefined && e.href !== '') parts.push(`→ ${e.href}`);
  return parts.join(' ');
}

/**
 * The forms a secret's value can take in what the page script reads: as typed, with its whitespace
 * collapsed (the script collapses it), and each cut to a field value's length (a longer secret typed
 * into a field shows cut, and must be masked cut too).
 */
function secretForms(value: string): string[] {
  const collapsed = value.replace(/\s+/g, ' ').trim();
  const forms = new Set([value, collapsed]);
  for (const form of [value, collapsed]) if (form.length > FIELD_VALUE_CHARS) forms.add(form.slice(0, FIELD_VALUE_CHARS));
  return [...forms].filter((form) => form !== '');
}

/** Replaces every secret's value, in each of its forms, by `[secret NAME]` (longest first, so one inside another is caught whole). */
export function maskSecrets(text: string, secrets: Readonly<Record<string, string>>): string {
  const forms = Object.entries(secrets)
    .filter(([, value]) => value !== '')
    .flatMap(([name, value]) => secretForms(value).map((form) => [name, form] as const))
    .sort(([, a], [, b]) => b.length - a.length);
  let out = text;
  for (const [name, form] of forms) out = out.split(form).join(`[secret ${name}]`);
  return out;
}

/** The digest as text for the model, at most `maxChars` characters: elements get up to 60%, the page's text the rest. */
export function formatObservation(digest: PageDigest, maxChars: number, secrets: Readonly<Record<string, string>>): string {
  const head = `URL: ${digest.url.slice(0, 2_000)}\nTitle: ${digest.title.slice(0, 300)}\nScroll: ${digest.scroll.y} of ${Math.max(0, digest.scroll.height - digest.scroll.viewport)} px\n`;
  const elementBudget = Math.floor(maxChars * 0.6) - head.length;
  const lines: string[] = [];
  let used = 0;
  for (const element of digest.elements) {
    const line = maskSecrets(describeElement(element), secrets);
    if (used + line.length + 1 > elementBudget) break;
    lines.push(line);
    used += line.length + 1;
  }
  const omitted = digest.elementCount - lines.length;
  const elements = `Interactive elements (${digest.elementCount}):\n${lines.join('\n')}${omitted > 0 ? `\n(${omitted} more not listed: scroll or extract to see them)` : ''}\n`;
  const textHeader = 'Page text:\n';
  const textBudget = Math.max(0, maxChars - head.length - elements.length - textHeader.length - 20);
  const text = maskSecrets(digest.text, secrets);
  const shown = text.length > textBudget ? `${text.slice(0, textBudget)}\n(… trimmed)` : text;
  return `${head}${elements}${textHeader}${shown}`.slice(0, maxChars);
}
