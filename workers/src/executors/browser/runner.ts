import { NonRetryableError } from '@orchestra/lib/worker';
import type { Download, Page } from 'playwright-core';
import { RetryableError, type ExecutorContext, type JsonValue } from '../types';
import { describeAction, type BrowserAction, type BrowserInput } from './actions';

/** At most this many values per `all` / `table` extract, and characters per value. */
const MAX_ITEMS = 1_000;
const MAX_TEXT = 100_000;

export interface ActionFailure {
  /** 1-based, as progress counts. */
  index: number;
  action: string;
  code: string;
  message: string;
}

export interface RunActionsOptions {
  /** Hosts the context's guard refused so far (the guard proxy's list). */
  refused: readonly string[];
  /** Resolves when the browser went away under the attempt. */
  gone: Promise<void>;
  maxDownloadBytes: number;
}

/** Thrown when the browser process went away under the attempt (a retry runs on a new browser). */
export const browserCrashed = () => new RetryableError('BROWSER_CRASHED', 'the browser exited while the task ran (it is started again for the next attempt)');

/** What the extract functions use of a DOM element (they run in the page; the worker has no DOM types). */
interface DomNode {
  textContent: string | null;
  innerText?: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): ArrayLike<DomNode>;
}

const clip = (text: string) => (text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);

/** What went wrong with one action, in words a workflow author can act on. */
function explain(action: BrowserAction, error: unknown, timeoutMs: number, refusedBefore: number, refused: readonly string[]): { code: string; message: string; retryable: boolean } {
  const newlyRefused = refused.slice(refusedBefore);
  if (error instanceof NonRetryableError) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof RetryableError) return { code: error.code, message: error.message, retryable: true };
  if (newlyRefused.length > 0 && action.action === 'goto') {
    return { code: 'PRIVATE_ADDRESS_BLOCKED', message: `navigation refused: ${newlyRefused[0]} is not an allowed address (the worker's network guard)`, retryable: false };
  }
  // playwright-core's TimeoutError, by name: the module is loaded only with the browser.
  if (error instanceof Error && error.name === 'TimeoutError') {
    const what =
      'selector' in action && action.selector !== undefined
        ? `selector ${action.selector} not found after ${timeoutMs} ms`
        : action.action === 'goto'
          ? `the page did not load within ${timeoutMs} ms`
          : `no result within ${timeoutMs} ms`;
    return { code: 'ACTION_TIMEOUT', message: what, retryable: false };
  }
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed';
  if (action.action === 'goto' && /net::ERR_/.test(message)) return { code: 'NAVIGATION_FAILED', message: `navigation failed: ${message}`, retryable: true };
  return { code: 'ACTION_FAILED', message, retryable: false };
}

async function readDownload(download: Download, maxBytes: number): Promise<Buffer> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new NonRetryableError('ARTIFACT_TOO_LARGE', `download ${download.suggestedFilename()} is over the limit of ${maxBytes} bytes per artifact (ARTIFACT_MAX_BYTES)`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const safeName = (suggested: string) => {
  const cleaned = suggested.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return cleaned === '' ? 'download' : cleaned;
};

async function perform(page: Page, action: BrowserAction, timeout: number, ctx: ExecutorContext, options: RunActionsOptions, extracted: Record<string, JsonValue>): Promise<void> {
  switch (action.action) {
    case 'goto': {
      const response = await page.goto(action.url, { waitUntil: action.waitUntil, timeout });
      const status = response?.status() ?? 200;
      if (status >= 400) {
        const refused = status === 403 && (await response?.text().catch(() => ''))?.startsWith("refused by the worker's network guard");
        if (refused) throw new NonRetryableError('PRIVATE_ADDRESS_BLOCKED', `navigation refused: ${new URL(action.url).hostname} is not an allowed address (the worker's network guard)`);
        const message = `the main document answered HTTP ${status}`;
        throw status >= 500 || status === 429 ? new RetryableError('HTTP_STATUS', message) : new NonRetryableError('HTTP_STATUS', message);
      }
      return;
    }
    case 'click': {
      if (!action.download) return page.locator(action.selector).first().click({ timeout });
      const [download] = await Promise.all([page.waitForEvent('download', { timeout }), page.locator(action.selector).first().click({ timeout })]);
      const body = await readDownload(download, options.maxDownloadBytes);
      await ctx.storeArtifact(action.name ?? safeName(download.suggestedFilename()), body, 'application/octet-stream');
      return;
    }
    case 'fill':
      return page.locator(action.selector).first().fill(action.value, { timeout });
    case 'press':
      return action.selector === undefined ? page.keyboard.press(action.key) : page.locator(action.selector).first().press(action.key, { timeout });
    case 'select':
      await page.locator(action.selector).first().selectOption(action.value, { timeout });
      return;
    case 'check':
      return page.locator(action.selector).first().check({ timeout });
    case 'uncheck':
      return page.locator(action.selector).first().uncheck({ timeout });
    case 'waitFor':
      if (action.selector !== undefined) {
        await page.locator(action.selector).first().waitFor({ state: 'visible', timeout });
      } else if (action.urlMatches !== undefined) {
        const pattern = new RegExp(action.urlMatches);
        await page.waitForURL((url) => pattern.test(url.href), { timeout, waitUntil: 'commit' });
      } else {
        // A pause the page goes on living through; closed context (cancel) ends it through the page.
        await page.waitForTimeout(action.ms ?? 0);
      }
      return;
    case 'extract': {
      const locator = page.locator(action.selector);
      await locator.first().waitFor({ state: 'attached', timeout });
      if (action.table) {
        extracted[action.name] = await locator.first().evaluate(TABLE_ROWS, [MAX_ITEMS, MAX_TEXT] as const);
        return;
      }
      const attribute = action.attribute ?? null;
      if (action.all) {
        extracted[action.name] = (await locator.evaluateAll(
          (elements: unknown[], [attr, maxText, maxItems]) =>
            (elements as DomNode[])
              .slice(0, maxItems)
              .map((el) => (attr === null ? (el.innerText ?? el.textContent ?? '') : (el.getAttribute(attr) ?? '')).trim().slice(0, maxText)),
          [attribute, MAX_TEXT, MAX_ITEMS] as const,
        ));
      } else {
        extracted[action.name] = clip(attribute === null ? (await locator.first().innerText({ timeout })).trim() : ((await locator.first().getAttribute(attribute, { timeout })) ?? ''));
      }
      return;
    }
    case 'screenshot': {
      const body = action.selector === undefined ? await page.screenshot({ fullPage: action.fullPage, timeout }) : await page.locator(action.selector).first().screenshot({ timeout });
      await ctx.storeArtifact(withExtension(action.name, '.png'), body, 'image/png');
      return;
    }
    case 'pdf': {
      const body = await page.pdf({ printBackground: true });
      await ctx.storeArtifact(withExtension(action.name, '.pdf'), body, 'application/pdf');
      return;
    }
  }
}

/**
 * A table's rows as objects keyed by its header cells, run in the page. Made from source text, not
 * written as a function here: what the page runs must not lean on helpers a TypeScript toolchain
 * injects (tsx compiles with keepNames, which wraps inner functions in `__name(...)`, a name the page
 * does not have). Playwright sends the function's own text, so the page gets exactly this.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- a function made from our own constant source text, for the page
const TABLE_ROWS = new Function(`return (table, [maxItems, maxText]) => {
  const text = (cell) => (cell.textContent || '').trim().slice(0, maxText);
  const rows = Array.from(table.querySelectorAll('tr'));
  const headerRow = rows.find((row) => row.querySelector('th') !== null);
  const headers = headerRow ? Array.from(headerRow.querySelectorAll('th,td')).map(text) : [];
  return rows
    .filter((row) => row !== headerRow)
    .slice(0, maxItems)
    .map((row) => Object.fromEntries(Array.from(row.querySelectorAll('td,th')).map((cell, i) => [headers[i] || 'column' + (i + 1), text(cell)])));
}`)() as (table: unknown, limits: readonly [number, number]) => JsonValue;

/** `name` with the extension added when it has none (`home` → `home.png`); within the 100-character limit. */
export const withExtension = (name: string, extension: string) => (/\.[A-Za-z0-9]{1,8}$/.test(name) ? name : `${name.slice(0, 100 - extension.length)}${extension}`);

/**
 * Runs the script on the page: progress and a log line per action, a screenshot when one fails.
 * Returns what was extracted and, with stopOnError false, the failures it went past.
 */
export async function runActions(page: Page, input: BrowserInput, ctx: ExecutorContext, options: RunActionsOptions): Promise<{ extracted: Record<string, JsonValue>; failures: ActionFailure[] }> {
  const extracted: Record<string, JsonValue> = {};
  const failures: ActionFailure[] = [];
  const total = input.actions.length;
  let browserGone = false;
  void options.gone.then(() => (browserGone = true));
  const whenGone = options.gone.then(() => {
    throw browserCrashed();
  });
  whenGone.catch(() => undefined);

  for (const [position, action] of input.actions.entries()) {
    const index = position + 1;
    const label = describeAction(action);
    const timeout = action.timeoutMs ?? input.timeoutMs;
    ctx.progress(position / total, `${index} of ${total}: ${label}`);
    ctx.log('info', `action ${index} of ${total}: ${label}`);
    const refusedBefore = options.refused.length;
    try {
      await Promise.race([perform(page, action, timeout, ctx, options, extracted), whenGone]);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      if (browserGone || error instanceof RetryableError && error.code === 'BROWSER_CRASHED') throw browserCrashed();
      const why = explain(action, error, timeout, refusedBefore, options.refused);
      const message = `action ${index} (${label}) failed: ${why.message}`;
      ctx.log('error', message);
      await keepFailureScreenshot(page, index, ctx);
      if (input.stopOnError || why.code === 'ARTIFACT_TOO_LARGE') {
        throw why.retryable ? new RetryableError(why.code, message) : new NonRetryableError(why.code, message);
      }
      failures.push({ index, action: label, code: why.code, message: why.message });
    }
  }
  ctx.progress(1, `${total} of ${total}: done`);
  return { extracted, failures };
}

/** The page as it was when action `index` failed, kept as `failure-<index>.png` (best effort: the page may be gone). */
async function keepFailureScreenshot(page: Page, index: number, ctx: ExecutorContext): Promise<void> {
  try {
    const body = await page.screenshot({ timeout: 5_000 });
    await ctx.storeArtifact(`failure-${index}.png`, body, 'image/png');
  } catch (error) {
    ctx.log('warn', `no screenshot of the failure: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
  }
}
