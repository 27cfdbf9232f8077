import type { Logger } from '@orchestra/lib/worker';
import { BROWSER_BUDGET, defineExecutor, type BrowserEnvironment, type Executor, type ExecutorContext, type OptionalExecutorFactory } from '../types';
import { browserInput, type BrowserInput } from './actions';
import { openAttemptPage } from './attempt-page';
import { browserUnusable, createBrowserHost, type BrowserHost } from './browser-host';
import { runActions } from './runner';

export interface BrowserExecutorOptions {
  host: BrowserHost;
  maxContexts: number;
  allowPrivateNetwork: boolean;
  isBlocked?: ((address: string) => boolean) | undefined;
  /** Largest download kept (ARTIFACT_MAX_BYTES; the attempt's store enforces the rest). */
  maxDownloadBytes?: number;
}

/**
 * The `browser` executor on a given browser host: one fresh context per attempt, every request
 * through the attempt's guard proxy, closed however the attempt ends (at once on cancel).
 */
export function createBrowserExecutorOn({ host, maxContexts, allowPrivateNetwork, isBlocked, maxDownloadBytes = 25 * 1024 * 1024 }: BrowserExecutorOptions): Executor<never> {
  return defineExecutor<BrowserInput>({
    capability: 'browser',
    description: 'drives Chromium through a script of actions (goto, click, fill, extract, screenshot, pdf...)',
    input: browserInput,
    // One Chromium for both browser executors: their attempts share one budget of contexts.
    concurrency: { budget: BROWSER_BUDGET, limit: maxContexts },
    stop: () => host.stop(),
    async run(input: BrowserInput, ctx: ExecutorContext) {
      const attempt = await openAttemptPage(
        host,
        { allowPrivateNetwork, isBlocked },
        {
          viewport: input.viewport,
          ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
          ...(input.locale === undefined ? {} : { locale: input.locale }),
          acceptDownloads: input.actions.some((a) => a.action === 'click' && a.download),
        },
        ctx,
      );
      try {
        const { page } = attempt;
        const { extracted, failures } = await runActions(page, input, ctx, { refused: attempt.refused, gone: attempt.gone, maxDownloadBytes });
        const title = await page.title().catch(() => '');
        return {
          extracted,
          url: page.url(),
          title,
          artifacts: ctx.artifactsStored().map((a) => ({ name: a.name, contentType: a.contentType, sizeBytes: a.sizeBytes, sha256: a.sha256 })),
          ...(failures.length > 0 ? { errors: failures.map((f) => ({ index: f.index, action: f.action, code: f.code, message: f.message })) } : {}),
        };
      } finally {
        await attempt.close();
      }
    },
  });
}

const hosts = new WeakMap<BrowserEnvironment, BrowserHost>();
/** The worker's one Chromium, shared by its browser executors (browser, browser.agent): one per worker environment. */
export function browserHostOf(browser: BrowserEnvironment, log: Logger | undefined): BrowserHost {
  let host = hosts.get(browser);
  if (!host) {
    host = createBrowserHost({ executablePath: browser.executablePath, log });
    hosts.set(browser, host);
  }
  return host;
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
    host: browserHostOf(browser, log),
    maxContexts: browser.maxContexts,
    allowPrivateNetwork: browser.allowPrivateNetwork,
    isBlocked: browser.isBlocked,
    ...(browser.maxDownloadBytes === undefined ? {} : { maxDownloadBytes: browser.maxDownloadBytes }),
  });
};
