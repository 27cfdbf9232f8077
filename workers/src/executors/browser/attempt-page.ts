import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { ExecutorContext } from '../types';
import type { BrowserHost } from './browser-host';
import { startGuardProxy } from './guard-proxy';
import { browserCrashed } from './runner';

/**
 * One attempt's page, as every browser executor (browser, browser.agent) opens it: a fresh context
 * on the worker's browser, every request through the attempt's own guard proxy, only http(s) leaving
 * the page, and closed however the attempt ends (at once on cancel: the running action fails with
 * "closed" and is not awaited).
 */

export interface GuardOptions {
  allowPrivateNetwork: boolean;
  isBlocked?: ((address: string) => boolean) | undefined;
}

export interface AttemptPage {
  page: Page;
  context: BrowserContext;
  /** Hosts the guard proxy refused so far. */
  refused: readonly string[];
  /** Resolves when the browser went away under the attempt. */
  gone: Promise<void>;
  /** Closes the context and the proxy (idempotent). */
  close(): Promise<void>;
}

export interface AttemptPageOptions {
  /** A top-level navigation the page may make (false: it is aborted, `onRefusedNavigation` hears of it). */
  allowNavigation?: (url: URL) => boolean;
  onRefusedNavigation?: (url: URL) => void;
}

const SCHEMES_ALLOWED = new Set(['http:', 'https:']);

export async function openAttemptPage(host: BrowserHost, guard: GuardOptions, contextOptions: BrowserContextOptions, ctx: ExecutorContext, options: AttemptPageOptions = {}): Promise<AttemptPage> {
  ctx.signal.throwIfAborted();
  const proxy = await startGuardProxy({ allowPrivate: guard.allowPrivateNetwork, ...(guard.isBlocked === undefined ? {} : { isBlocked: guard.isBlocked }) });
  let context: BrowserContext | undefined;
  let closing: Promise<void> | undefined;
  // Once, whoever asks first (cancel or the end of the run); later callers wait for the same close.
  const closeContext = (): Promise<void> => (closing ??= context === undefined ? Promise.resolve() : context.close().catch(() => undefined));
  const onAbort = () => void closeContext();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const close = async () => {
    ctx.signal.removeEventListener('abort', onAbort);
    await closeContext();
    await proxy.close();
  };
  try {
    let opened: Awaited<ReturnType<BrowserHost['newContext']>>;
    try {
      opened = await host.newContext({ ...contextOptions, serviceWorkers: 'block', proxy: { server: proxy.server } });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      throw browserCrashed();
    }
    context = opened.context;
    if (ctx.signal.aborted) {
      closing = undefined; // a cancel that came while the context opened found none to close
      throw new Error('cancelled');
    }
    const { allowNavigation, onRefusedNavigation } = options;
    // Only web addresses leave the page (file:, chrome: and the like are refused); the proxy checks hosts.
    await context.route('**/*', (route) => {
      const request = route.request();
      const url = new URL(request.url());
      if (!SCHEMES_ALLOWED.has(url.protocol)) return route.abort('blockedbyclient');
      if (allowNavigation && request.isNavigationRequest() && request.frame().parentFrame() === null && !allowNavigation(url)) {
        onRefusedNavigation?.(url);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    const page = await context.newPage();
    return { page, context, refused: proxy.refused, gone: opened.gone, close };
  } catch (error) {
    await close();
    throw error;
  }
}
