import { BROWSER_AGENT_FAILURE_CODES, NonRetryableError, browserAgentInputSchema, hostAllowed, type BrowserAgentInput } from '@orchestra/lib/worker';
import { openAttemptPage } from '../browser/attempt-page';
import { browserUnusable, type BrowserHost } from '../browser/browser-host';
import { browserHostOf } from '../browser';
import type { ModelGateway } from '../llm/model-gateway';
import { usageMeter } from '../llm';
import { BROWSER_BUDGET, defineExecutor, type Executor, type ExecutorContext, type OptionalExecutorFactory } from '../types';
import { runAgentLoop } from './agent-loop';

/**
 * `browser.agent`: a model drives the worker's Chromium toward a goal (README.md beside the
 * executors). The page is the browser executor's (a fresh context, the network guard on every
 * request, the artifact limits); the model is reached through the worker's model gateway (fallback,
 * circuit breakers, accounting), as the llm executor reaches it.
 */

export interface BrowserAgentExecutorOptions {
  host: BrowserHost;
  models: ModelGateway;
  maxContexts: number;
  allowPrivateNetwork: boolean;
  isBlocked?: ((address: string) => boolean) | undefined;
}

export function createBrowserAgentExecutorOn({ host, models, maxContexts, allowPrivateNetwork, isBlocked }: BrowserAgentExecutorOptions): Executor<never> {
  return defineExecutor<BrowserAgentInput>({
    capability: 'browser.agent',
    description: 'a model drives the browser toward a goal (navigate, click, type, extract... until done), with fallback and accounting',
    input: browserAgentInputSchema,
    // One Chromium for both browser executors: their attempts share one budget of contexts.
    concurrency: { budget: BROWSER_BUDGET, limit: maxContexts },
    stop: () => host.stop(),
    async run(input, outer) {
      // The loop's own signal: the attempt's (cancel, deadline) or maxDurationMs, whichever comes first.
      const overtime = AbortSignal.timeout(input.maxDurationMs);
      const signal = AbortSignal.any([outer.signal, overtime]);
      const { ctx: metered, totals } = usageMeter(outer);
      const ctx: ExecutorContext = { ...metered, signal };
      const refusedNavigations: string[] = [];
      const allowed = input.allowedDomains;
      const attempt = await openAttemptPage(host, { allowPrivateNetwork, isBlocked }, { viewport: input.viewport, acceptDownloads: false }, ctx, {
        ...(allowed === undefined
          ? {}
          : {
              allowNavigation: (url: URL) => hostAllowed(url.hostname, allowed),
              onRefusedNavigation: (url: URL) => {
                refusedNavigations.push(url.hostname);
                ctx.log('warn', `navigation to ${url.hostname} refused: not one of the allowedDomains`);
              },
            }),
      });
      try {
        const run = await runAgentLoop({
          page: attempt.page,
          ctx,
          input,
          models,
          refused: attempt.refused,
          refusedNavigations,
          gone: attempt.gone,
          tokensUsed: () => {
            const t = totals();
            return t.promptTokens + t.completionTokens;
          },
        });
        const spent = totals();
        return {
          result: run.result,
          finishReason: 'done',
          steps: run.steps.map((s) => ({ ...s })),
          url: run.url,
          title: run.title,
          provider: run.provider,
          model: run.model,
          usage: { promptTokens: spent.promptTokens, completionTokens: spent.completionTokens, totalTokens: spent.promptTokens + spent.completionTokens, modelCalls: spent.calls },
          costUsd: spent.costUsd,
          artifacts: outer.artifactsStored().map((a) => ({ name: a.name, contentType: a.contentType, sizeBytes: a.sizeBytes })),
          ...(run.skipped.length > 0 ? { skipped: run.skipped } : {}),
        };
      } catch (error) {
        if (overtime.aborted && !outer.signal.aborted) {
          throw new NonRetryableError(BROWSER_AGENT_FAILURE_CODES.AGENT_TIMEOUT, `the goal was not reached within maxDurationMs (${input.maxDurationMs} ms)`);
        }
        throw error;
      } finally {
        await attempt.close();
      }
    },
  });
}

/** The built-in: offered only where the browser is (it shares the browser executor's Chromium). */
export const createBrowserAgentExecutor: OptionalExecutorFactory = ({ browser, llm, log }) => {
  if (browser === undefined) return undefined;
  const unusable = browserUnusable(browser.executablePath);
  if (unusable !== undefined) {
    log?.warn(`browser.agent capability not offered: ${unusable}`, { executablePath: browser.executablePath });
    return undefined;
  }
  return createBrowserAgentExecutorOn({ host: browserHostOf(browser, log), models: llm.models, maxContexts: browser.maxContexts, allowPrivateNetwork: browser.allowPrivateNetwork, isBlocked: browser.isBlocked });
};
