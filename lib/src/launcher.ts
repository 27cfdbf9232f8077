import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';

/** Set for children of launchService: runMain stops the process when its stdin (the lifeline) closes. */
export const SUPERVISED_ENV = 'ORCHESTRA_SUPERVISED';

export interface LaunchOptions {
  /** A name for messages and the log file. */
  name: string;
  /**
   * The service's main.ts (run with tsx as a loader), or its compiled dist/main.js (run by node alone
   * with the `orchestra-dist` condition, as production does: scripts/build-dist.mjs).
   */
  entry: string;
  /** Command-line arguments after the entry. */
  args?: string[];
  env: Record<string, string>;
  /** Where the child's JSON log lines are written (one file per service). */
  logDir: string;
  /** Also echo the child's output to this process's stdout. */
  echo?: boolean;
  /**
   * How long it may take to print its listening line (default 90 s: a cold tsx start of a service is
   * a few seconds on an idle machine, but a 2-core machine running several suites at once is not idle).
   */
  startTimeoutMs?: number;
  /** Aborting kills the child if it is still starting (the launch then rejects). */
  signal?: AbortSignal;
  /** Sees every line the child writes (parsed when it is JSON), e.g. to pick out a one-time message. */
  onLine?: (line: string, parsed: Record<string, unknown> | undefined) => void;
}

export interface LaunchedService {
  name: string;
  process: ChildProcess;
  httpUrl: string;
  grpcAddress: string | undefined;
  /** The ops port's base URL (/readyz, /metrics) of a process that has one (the gateway). */
  opsUrl: string | undefined;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (crash tests). */
  kill(): Promise<void>;
}

// tsx as a loader of this one node process (not the tsx CLI, which runs the service in a grandchild
// that a SIGKILL of the CLI would leave orphaned).
const TSX_LOADER = pathToFileURL(require.resolve('tsx/package.json').replace(/package\.json$/, 'dist/loader.mjs')).href;

/**
 * Runs a service's main.ts as a child process and resolves once it logs `listening` with its
 * addresses. If it exits first, rejects with the last lines it wrote (the config error, say).
 */
export function launchService({ name, entry, args = [], env, logDir, echo = false, startTimeoutMs = 90_000, onLine, signal }: LaunchOptions): Promise<LaunchedService> {
  if (['warn', 'error', 'fatal', 'silent'].includes(env['LOG_LEVEL'] ?? '')) {
    // The start is seen through the service's `listening` line, an info line.
    return Promise.reject(new Error(`${name}: launchService needs LOG_LEVEL info or lower (got ${env['LOG_LEVEL']}): it waits for the 'listening' line`));
  }
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const logStream = createWriteStream(logFile, { flags: 'a' });
  // ORCHESTRA_CHILD_NODE_ARGS adds node flags to every child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile.
  const nodeArgs = (process.env['ORCHESTRA_CHILD_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const runner = entry.endsWith('.js') ? ['--conditions=orchestra-dist'] : ['--import', TSX_LOADER];
  const child = spawn(process.execPath, [...nodeArgs, ...runner, entry, ...args], {
    env: { ...process.env, ...env, NODE_OPTIONS: '', [SUPERVISED_ENV]: '1' },
    // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops children in
    // order. The stdin pipe is the child's lifeline: it closes when this process dies, and the child
    // then shuts itself down (see runMain), so nothing is orphaned.
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    logStream.write(`${line}\n`);
    if (echo) process.stdout.write(`${line}\n`);
    if (onLine) {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      onLine(line, parsed);
    }
  };
  createInterface({ input: child.stderr }).on('line', remember);
  const stopper = (signal: NodeJS.Signals, graceMs: number) => async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    logStream.end();
  };

  return new Promise<LaunchedService>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${startTimeoutMs} ms; last output:\n${tail.join('\n')}`));
    }, startTimeoutMs);
    const exitedEarly = (code: number | null, exitSignal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`${name} exited (${exitSignal ?? `code ${code}`}) before it was listening${signal?.aborted ? ' (start aborted)' : ''}; last output:\n${tail.join('\n')}`));
    };
    const onAbort = () => child.kill('SIGKILL');
    child.once('exit', exitedEarly);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let listening = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      remember(line);
      if (listening) return;
      let parsed: { msg?: string; httpUrl?: string; grpcAddress?: string; opsUrl?: string } | undefined;
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return;
      }
      if (parsed?.msg === 'listening' && typeof parsed.httpUrl === 'string') {
        listening = true;
        clearTimeout(timer);
        child.off('exit', exitedEarly);
        signal?.removeEventListener('abort', onAbort);
        resolve({
          name,
          process: child,
          httpUrl: parsed.httpUrl,
          grpcAddress: parsed.grpcAddress,
          opsUrl: parsed.opsUrl,
          logFile,
          stop: (graceMs = 10_000) => stopper('SIGTERM', graceMs)(),
          kill: () => stopper('SIGKILL', 0)(),
        });
      }
    });
  });
}
