import { NonRetryableError } from '@orchestra/lib/worker';
import type { Locator, Page } from 'playwright-core';
import { RetryableError, type ExecutorContext } from '../types';
import { REF_ATTRIBUTE, maskSecrets } from './observation';
import type { ToolCall } from './tools';

/**
 * Does one of the model's browser actions on the attempt's page. What goes wrong with the action
 * itself (no such ref, an element that never became clickable, a navigation the guard or the
 * allowed domains refused) is an ActionProblem: told to the model, which may try something else.
 * What ends the attempt (the browser gone, an artifact over the limits, a cancel) is thrown as is.
 */

export class ActionProblem extends Error {
  override readonly name = 'ActionProblem';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ActionEnvironment {
  page: Page;
  ctx: ExecutorContext;
  /** The step's secrets by name (their values typed, never shown). */
  secrets: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Hosts the guard proxy refused so far (it grows). */
  refused: readonly string[];
  /** Top-level navigations refused by allowedDomains so far (it grows). */
  refusedNavigations: readonly string[];
  /** The step number, for artifact names. */
  step: number;
}

/** Characters of an extract handed back to the model. */
const MAX_EXTRACT = 20_000;
/** How long a page may keep loading after an action before the agent looks at it anyway. */
const SETTLE_MS = 3_000;

const refLocator = (page: Page, ref: string): Locator => page.locator(`[${REF_ATTRIBUTE}="${ref}"]`);

async function element(page: Page, ref: string): Promise<Locator> {
  const locator = refLocator(page, ref);
  if ((await locator.count()) === 0) throw new ActionProblem('UNKNOWN_REF', `there is no element [${ref}] on this page: use a ref of the latest observation`);
  return locator.first();
}

/** Lets what the action started (a navigation, a form post, a script) finish, within SETTLE_MS. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load', { timeout: SETTLE_MS }).catch(() => undefined);
  await page.waitForLoadState('networkidle', { timeout: SETTLE_MS }).catch(() => undefined);
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed';

/** What a failed action means for the model. */
function explain(call: ToolCall, error: unknown, env: ActionEnvironment, refusedBefore: number, navigationsRefusedBefore: number, timeoutMs: number): unknown {
  if (error instanceof ActionProblem || error instanceof NonRetryableError || error instanceof RetryableError) return error;
  const blockedByDomain = env.refusedNavigations.slice(navigationsRefusedBefore);
  if (blockedByDomain.length > 0) return new ActionProblem('DOMAIN_NOT_ALLOWED', `navigation to ${blockedByDomain[0]} refused: it is not one of the step's allowedDomains`);
  const refused = env.refused.slice(refusedBefore);
  if (refused.length > 0) return new ActionProblem('PRIVATE_ADDRESS_BLOCKED', `navigation refused: ${refused[0]} is not an allowed address (the worker's network guard)`);
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ActionProblem('ACTION_TIMEOUT', call.name === 'navigate' ? `the page did not load within ${timeoutMs} ms` : `the element did not become ready within ${timeoutMs} ms`);
  }
  const message = firstLine(error);
  if (/net::ERR_/.test(message)) return new ActionProblem('NAVIGATION_FAILED', `navigation failed: ${message}`);
  return new ActionProblem('ACTION_FAILED', message.slice(0, 500));
}

/** Runs the call (not done/fail) and says what happened, for the model. Throws an ActionProblem when it did not work. */
export async function performAction(call: ToolCall, env: ActionEnvironment): Promise<string> {
  const { page, timeoutMs } = env;
  const refusedBefore = env.refused.length;
  const navigationsRefusedBefore = env.refusedNavigations.length;
  const urlBefore = page.url();
  try {
    switch (call.name) {
      case 'navigate': {
        const response = await page.goto(call.args.url, { waitUntil: 'load', timeout: timeoutMs });
        const status = response?.status() ?? 200;
        if (status === 403 && (await response?.text().catch(() => ''))?.startsWith("refused by the worker's network guard")) {
          throw new ActionProblem('PRIVATE_ADDRESS_BLOCKED', `navigation refused: ${new URL(call.args.url).hostname} is not an allowed address (the worker's network guard)`);
        }
        await settle(page);
        return status >= 400 ? `the page answered HTTP ${status}` : 'navigated';
      }
      case 'click':
        await (await element(page, call.args.ref)).click({ timeout: timeoutMs });
        await settle(page);
        return 'clicked';
      case 'type': {
        let value: string;
        if (call.args.secret !== undefined) {
          const secret = env.secrets[call.args.secret];
          if (secret === undefined) {
            const names = Object.keys(env.secrets);
            throw new ActionProblem('UNKNOWN_SECRET', `there is no secret named ${JSON.stringify(call.args.secret)} (${names.length === 0 ? 'this step has none' : `the secrets: ${names.join(', ')}`})`);
          }
          value = secret;
        } else value = call.args.text ?? '';
        const field = await element(page, call.args.ref);
        await field.fill(value, { timeout: timeoutMs });
        if (call.args.submit) {
          await field.press('Enter', { timeout: timeoutMs });
          await settle(page);
        }
        return call.args.secret !== undefined ? `typed the secret ${call.args.secret}${call.args.submit ? ' and submitted' : ''}` : `typed${call.args.submit ? ' and submitted' : ''}`;
      }
      case 'select': {
        const field = await element(page, call.args.ref);
        const chosen = await field.selectOption({ label: call.args.option }, { timeout: timeoutMs }).catch(() => field.selectOption(call.args.option, { timeout: timeoutMs }));
        await settle(page);
        return `selected ${JSON.stringify(chosen)}`;
      }
      case 'scroll': {
        const viewport = page.viewportSize()?.height ?? 800;
        await page.mouse.wheel(0, (call.args.direction === 'down' ? 1 : -1) * Math.round(viewport * 0.8));
        await page.waitForTimeout(200);
        return `scrolled ${call.args.direction}`;
      }
      case 'extract': {
        let text: string;
        if (call.args.ref !== undefined) text = await (await element(page, call.args.ref)).innerText({ timeout: timeoutMs });
        else if (call.args.selector !== undefined) {
          const found = page.locator(call.args.selector);
          if ((await found.count()) === 0) throw new ActionProblem('NOT_FOUND', `nothing on the page matches ${call.args.selector}`);
          text = await found.first().innerText({ timeout: timeoutMs });
        } else text = await page.locator('body').innerText({ timeout: timeoutMs });
        const masked = maskSecrets(text.trim(), env.secrets);
        return `extracted text:\n${masked.length > MAX_EXTRACT ? `${masked.slice(0, MAX_EXTRACT)}\n(… trimmed)` : masked}`;
      }
      case 'wait':
        await page.waitForTimeout(call.args.ms);
        return `waited ${call.args.ms} ms`;
      case 'screenshot': {
        const name = `step-${String(env.step).padStart(2, '0')}-${call.args.name ?? 'screenshot'}.png`;
        await env.ctx.storeArtifact(name, await page.screenshot({ timeout: timeoutMs }), 'image/png');
        return `kept the screenshot ${name}`;
      }
      case 'done':
      case 'fail':
        return '';
    }
  } catch (error) {
    if (env.ctx.signal.aborted) throw error;
    const problem = explain(call, error, env, refusedBefore, navigationsRefusedBefore, timeoutMs);
    // A refused or failed navigation leaves an error page: the agent goes on from the page it was on.
    if (call.name === 'navigate' && problem instanceof ActionProblem && urlBefore !== 'about:blank') {
      // Chromium commits its error page a moment after the navigation failed.
      if (page.url() === urlBefore) await page.waitForURL((u) => u.href !== urlBefore, { timeout: 2_000, waitUntil: 'commit' }).catch(() => undefined);
      if (page.url() !== urlBefore) await page.goto(urlBefore, { timeout: timeoutMs }).catch(() => undefined);
    }
    throw problem;
  }
}
