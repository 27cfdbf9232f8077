import type { BrowserContext, Page } from 'playwright-core';
import { defineExecutor, type Executor, type ExecutorContext, type OptionalExecutorFactory } from '../types';
import { browserInput, type BrowserInput } from './actions';
import { browserUnusable, createBrowserHost, type BrowserHost } from './browser-host';
import { startGuardProxy } from './guard-proxy';
import { browserCrashed, runActions } from './runner';

export interface BrowserExecutorOptions {
  host: BrowserHost;
  maxContexts: number;
  allowPrivateNetwork: boolean;
  isBlocked?: ((address: string) => boolean) | undefined;
  /** Largest download kept (ARTIFACT_MAX_BYTES; the attempt's store enforces the rest). */
  maxDownloadBytes?: number;
}

const SCHEMES_ALLOWED = new Set(['http:', 'https:']);

/**
 * The `browser` executor on a given browser host: one fresh context per attempt, every request
 * through the attempt's guard proxy, closed however the attempt ends (at once on cancel).
 */
export function createBrowserExecutorOn({ host, maxContexts, allowPrivateNetwork, isBlocked, maxDownloadBytes = 25 * 1024 * 1024 }: BrowserExecutorOptions): Executor<never> {
  return defineExecutor<BrowserInput>({
    capability: 'browser',
    description: 'drives Chromium through a script of actions (goto, click, fill, extract, screenshot, pdf...)',
    input: browserInput,
    maxConcurrent: maxContexts,
    stop: () => host.stop(),
    async run(input: BrowserInput, ctx: ExecutorContext) {
      ctx.signal.throwIfAborted();
      const proxy = await startGuardProxy({ allowPrivate: allowPrivateNetwork, ...(isBlocked === undefined ? {} : { isBlocked }) });
      let context: BrowserContext | undefined;
      let closing: Promise<void> | undefined;
      // Once, whoever asks first (cancel or the end of the run); later callers wait for the same close.
      const closeContext = (): Promise<void> => (closing ??= context === undefined ? Promise.resolve() : context.close().catch(() => undefined));
      // Cancel closes the context at once: the running action fails with "closed" and is not awaited.
      const onAbort = () => void closeContext();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        let opened: Awaited<ReturnType<BrowserHost['newContext']>>;
        try {
          opened = await host.newContext({
            viewport: input.viewport,
            ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
            ...(input.locale === undefined ? {} : { locale: input.locale }),
            acceptDownloads: input.actions.some((a) => a.action === 'click' && a.download),
            serviceWorkers: 'block',
            proxy: { server: proxy.server },
          });
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          throw browserCrashed();
        }
        context = opened.context;
        if (ctx.signal.aborted) {
          closing = undefined; // a cancel that came while the context opened found none to close
          throw new Error('cancelled');
        }
        // Only web addresses leave the page (file:, chrome: and the like are refused); the proxy checks hosts.
        await context.route('**/*', (route) => (SCHEMES_ALLOWED.has(new URL(route.request().url()).protocol) ? route.continue() : route.abort('blockedbyclient')));
        const page: Page = await context.newPage();
        const { extracted, failures } = await runActions(page, input, ctx, { refused: proxy.refused, gone: opened.gone, maxDownloadBytes });
        const title = await page.title().catch(() => '');
        return {
          extracted,
          url: page.url(),
          title,
          artifacts: ctx.artifactsStored().map((a) => ({ name: a.name, contentType: a.contentType, sizeBytes: a.sizeBytes, sha256: a.sha256 })),
          ...(failures.length > 0 ? { errors: failures.map((f) => ({ index: f.index, action: f.action, code: f.code, message: f.message })) } : {}),
        };
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await closeContext();
        await proxy.close();
      }
    },
  });
}

/** The built-in: offered only when the worker's browser is there (else one log line says why). */
export const createBrowserExecutor: OptionalExecutorFactory = ({ browser, log }) => {
  if (browser === undefined) return undefined;
  const unusable = browserUnusable(browser.executablePath);
  if (unusable !== undefined) {
    log?.warn(`browser capability not offered: ${unusable}`, { executablePath: browser.executablePath });
    return undefined;
  }
  return createBrowserExecutorOn({
    host: createBrowserHost({ executablePath: browser.executablePath, log }),
    maxContexts: browser.maxContexts,
    allowPrivateNetwork: browser.allowPrivateNetwork,
    isBlocked: browser.isBlocked,
    ...(browser.maxDownloadBytes === undefined ? {} : { maxDownloadBytes: browser.maxDownloadBytes }),
  });
};
