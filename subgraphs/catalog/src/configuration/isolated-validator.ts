import { Worker } from 'node:worker_threads';
import { AppError } from '@orchestra/lib';
import { createConfigValidator, type ConfigViolation } from './json-schema';

/** How long one config may take to validate before it is refused. */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 1_000;
/** How long a new worker may take to load its modules. */
const WORKER_START_TIMEOUT_MS = 30_000;

export interface IsolatedConfigValidator {
  /** As ConfigValidator.checkSchema (compiling runs no pattern, so it stays on this thread). */
  checkSchema(schema: unknown, field: string): void;
  /**
   * The ways `config` fails `schema`, computed on a worker thread. A validation that runs past the
   * time limit (a schema `pattern` backtracking catastrophically on this config, say) ends the
   * worker and is refused with BAD_USER_INPUT naming `field`; the service's event loop never stalls.
   */
  violations(schema: unknown, config: unknown, field: string): Promise<ConfigViolation[]>;
  close(): Promise<void>;
}

interface Reply {
  ready?: true;
  id?: number;
  violations?: ConfigViolation[];
  error?: { message: string };
}

// The worker loads the same json-schema module as this thread: compiled JavaScript (production's
// dist) with a plain require, TypeScript (npm start, jest) through tsx's CommonJS hook, which would
// otherwise add tsx's ~40 MiB to a compiled catalog.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createConfigValidator } = workerData.tsxApi
  ? require(workerData.tsxApi).require(workerData.module, workerData.module)
  : require(workerData.module);
const validator = createConfigValidator();
// Warm the validator (ajv's code generation, the regex engine) before saying ready, so the first
// validation's time limit measures the validation, not a cold isolate.
validator.violations({ type: 'object', properties: { a: { type: 'string', pattern: '^a+$', maxLength: 8 } } }, { a: 'aa' });
parentPort.postMessage({ ready: true });
parentPort.on('message', ({ id, schema, config }) => {
  try {
    parentPort.postMessage({ id, violations: validator.violations(schema, config) });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error instanceof Error ? error.message : String(error) } });
  }
});
`;

/**
 * Validates app configs against their JSON Schemas off the event loop. JSON Schema `pattern`s are
 * ECMAScript regexes written by org admins; one that backtracks catastrophically (`^(a+)+$` on a
 * long string, or a quadratic one on a 256 KiB config) would otherwise block every request of the
 * catalog. Validations run one at a time on one worker thread (each takes well under a millisecond
 * normally); one past `timeoutMs` terminates the worker, and the next validation starts a new one.
 */
export function createIsolatedConfigValidator({ timeoutMs = DEFAULT_VALIDATION_TIMEOUT_MS }: { timeoutMs?: number } = {}): IsolatedConfigValidator {
  const local = createConfigValidator();
  let nextId = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  interface Started {
    worker: Worker;
    ready: Promise<void>;
  }
  let current: Started | undefined;

  const validatorModule = require.resolve('./json-schema');
  const compiled = validatorModule.endsWith('.js');
  // The first worker starts with the first validation (an idle catalog holds no second V8 isolate);
  // after that one is kept ready (and started again after one is ended). A validation's time limit
  // starts once its worker is ready, so it never includes loading ajv on a new thread.
  const spawn = (): Started => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { tsxApi: compiled ? undefined : require.resolve('tsx/cjs/api'), module: validatorModule },
    });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`it did not start within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      timer.unref();
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        worker.off('message', onReady);
        if (error) reject(new AppError('INTERNAL', `the config validation worker failed to start: ${error.message}`));
        else resolve();
      };
      const onReady = (reply: Reply): void => {
        if (reply.ready) settle();
      };
      worker.on('message', onReady);
      worker.once('error', (error) => settle(error));
      worker.once('exit', (code) => settle(new Error(`exited with code ${code}`)));
    });
    const started = { worker, ready };
    const forget = (): void => {
      if (current === started) current = undefined;
    };
    // One that fails to start is dropped (the validation waiting on it fails); the next starts anew.
    ready.catch(() => {
      forget();
      void worker.terminate();
    });
    worker.on('error', forget);
    worker.on('exit', forget);
    return started;
  };
  const started = (): Started => (current ??= spawn());

  const runOnWorker = (w: Worker, schema: unknown, config: unknown, field: string): Promise<ConfigViolation[]> =>
    new Promise<ConfigViolation[]>((resolve, reject) => {
      const id = nextId++;
      const finish = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      const onMessage = (reply: Reply): void => {
        if (reply.id !== id) return;
        finish();
        if (reply.error) reject(new AppError('INTERNAL', `validating ${field} failed: ${reply.error.message}`));
        else resolve(reply.violations ?? []);
      };
      const onError = (error: Error): void => {
        finish();
        reject(new AppError('INTERNAL', `the config validation worker failed while validating ${field}: ${error.message}`));
      };
      const onExit = (code: number): void => {
        finish();
        reject(new AppError('INTERNAL', `the config validation worker exited (code ${code}) while validating ${field}`));
      };
      const timer = setTimeout(() => {
        finish();
        if (current?.worker === w) current = undefined;
        void w.terminate();
        if (!closed) started();
        reject(
          new AppError(
            'BAD_USER_INPUT',
            `${field} took longer than ${timeoutMs} ms to validate against the app's config schema: a "pattern" in the schema most likely backtracks catastrophically on this config (e.g. nested quantifiers such as "(a+)+"); simplify the schema's patterns`,
            { field, reason: 'CONFIG_VALIDATION_TIMEOUT' },
          ),
        );
      }, timeoutMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage({ id, schema, config });
    });

  return {
    checkSchema: (schema, field) => local.checkSchema(schema, field),
    async violations(schema, config, field) {
      if (closed) throw new AppError('UNAVAILABLE', 'the catalog is shutting down');
      // The schema is checked (and any error thrown) here first, naming the schema's own problem.
      local.checkSchema(schema, 'configSchema');
      const result = queue.then(async () => {
        const { worker, ready } = started();
        await ready;
        return runOnWorker(worker, schema, config, field);
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      closed = true;
      await queue;
      const last = current;
      current = undefined;
      if (last) await last.worker.terminate();
    },
  };
}
