import { createLogger, type Logger, type LogLevel } from '@orchestra/lib/worker';

/** Lines kept before a write even within one turn of the event loop (a burst of failures). */
const MAX_PENDING_BYTES = 1024 * 1024;

/** process.stdout (synchronous for files and pipes on Linux, so what the exit flushes is written). */
function toStdout(): (chunk: string) => void {
  let closed = false;
  // As pino's own destination did: a reader that went away (EPIPE) ends the logging, not the worker.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return (chunk) => {
    if (!closed) process.stdout.write(chunk);
  };
}

/**
 * Where the worker's log lines go: stdout, the lines of one turn of the event loop in one write.
 * pino's own destination wrote each line with its own fs.write (a thread-pool job and its callback):
 * with one line per attempt that was ~6% of a worker's CPU on noop tasks. A line waits at most until
 * the loop's check phase (setImmediate); what is pending when the process exits is written then.
 */
export function createBatchedStdout(write: (chunk: string) => void = toStdout()) {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    bytes = 0;
    write(chunk);
  };
  process.once('exit', flush);
  return {
    write(line: string) {
      pending.push(line);
      bytes += line.length;
      if (bytes >= MAX_PENDING_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** The worker process's logger (main.ts): lib's JSON lines, to stdout through createBatchedStdout. */
export function createWorkerLogger(level: LogLevel): Logger {
  return createLogger({ service: 'worker', level, destination: createBatchedStdout() });
}
