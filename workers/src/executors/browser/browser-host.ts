import { accessSync, constants } from 'node:fs';
import type { Logger } from '@orchestra/lib/worker';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';

/** Flags for Debian's chromium in a container, as root, with no outside traffic of its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Why the browser at `path` cannot be used, or undefined when it looks runnable. */
export function browserUnusable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `no browser at ${path} (BROWSER_EXECUTABLE_PATH): install it with \`apt-get install chromium\``
      : `the browser at ${path} (BROWSER_EXECUTABLE_PATH) is not executable (${code ?? 'unknown error'})`;
  }
}

/**
 * The worker's one Chromium: launched on the first browser task, shared by every attempt (each in
 * its own context), launched again after it exits or crashes. `onCrash` subscribers (the running
 * attempts) learn of an exit they did not cause.
 */
export interface BrowserHost {
  /**
   * A fresh, isolated context on the running browser (launching it when needed), and a promise that
   * resolves when that browser goes away (it never rejects).
   */
  newContext(options: BrowserContextOptions): Promise<{ context: BrowserContext; gone: Promise<void> }>;
  /** Contexts open right now. */
  openContexts(): number;
  stop(): Promise<void>;
}

export function createBrowserHost({ executablePath, log }: { executablePath: string; log?: Logger | undefined }): BrowserHost {
  let current: { browser: Promise<Browser>; crashed: Promise<void> } | undefined;
  let launchedBrowser: Browser | undefined;
  let stopping = false;

  const launch = () => {
    let markCrashed!: () => void;
    const crashed = new Promise<void>((resolve) => {
      markCrashed = resolve;
    });
    const started = Date.now();
    // Loaded on the first browser task: playwright-core takes seconds to load on a busy machine, and
    // most workers' starts (and every worker without browser tasks) need none of it.
    const browser = import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false })).then(
      (launched) => {
        log?.info('browser launched', { executablePath, version: launched.version(), ms: Date.now() - started });
        launchedBrowser = launched;
        launched.on('disconnected', () => {
          if (current?.browser === browser) current = undefined;
          if (launchedBrowser === launched) launchedBrowser = undefined;
          if (!stopping) log?.warn('browser exited; the next browser task launches it again', { executablePath });
          markCrashed();
        });
        return launched;
      },
      (error: unknown) => {
        if (current?.browser === browser) current = undefined;
        throw error;
      },
    );
    const entry = { browser, crashed };
    current = entry;
    return entry;
  };

  return {
    async newContext(options) {
      if (stopping) throw new Error('the browser is stopping');
      const entry = current ?? launch();
      const browser = await entry.browser;
      return { context: await browser.newContext(options), gone: entry.crashed };
    },
    openContexts: () => launchedBrowser?.contexts().length ?? 0,
    async stop() {
      stopping = true;
      const entry = current;
      current = undefined;
      if (entry) await (await entry.browser.catch(() => undefined))?.close();
    },
  };
}
