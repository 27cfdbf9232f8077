import pino, { type DestinationStream } from 'pino';

export type LogFields = Record<string, unknown>;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The one logging interface. Pass errors as `{ err }` so their cause chain is kept. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

const wrap = (p: pino.Logger): Logger => ({
  debug: (message, fields) => p.debug(fields ?? {}, message),
  info: (message, fields) => p.info(fields ?? {}, message),
  warn: (message, fields) => p.warn(fields ?? {}, message),
  error: (message, fields) => p.error(fields ?? {}, message),
  child: (bindings) => wrap(p.child(bindings)),
});

/**
 * `log.child(bindings())`, made when something is first logged through it: a per-request logger that
 * usually logs nothing costs no child logger (pino builds and redacts the bindings of every child).
 */
export function lazyChild(log: Logger, bindings: () => LogFields): Logger {
  let child: Logger | undefined;
  const made = () => (child ??= log.child(bindings()));
  return {
    debug: (message, fields) => made().debug(message, fields),
    info: (message, fields) => made().info(message, fields),
    warn: (message, fields) => made().warn(message, fields),
    error: (message, fields) => made().error(message, fields),
    child: (more) => made().child(more),
  };
}

/**
 * A logger that adds `bindings` to each line it writes, without making a pino child (which builds
 * and redacts its bindings once, then once more for each line only its own fields): for a logger made
 * per task attempt that writes a line or two, one pass per line instead of that plus the child's.
 * The lines are the same as a child's (the bindings first, then the line's own fields). A logger that
 * usually writes nothing is a lazyChild.
 */
export function boundLogger(parent: Logger, bindings: LogFields): Logger {
  const fields = (own: LogFields | undefined): LogFields => (own === undefined ? bindings : { ...bindings, ...own });
  return {
    debug: (message, own) => parent.debug(message, fields(own)),
    info: (message, own) => parent.info(message, fields(own)),
    warn: (message, own) => parent.warn(message, fields(own)),
    error: (message, own) => parent.error(message, fields(own)),
    child: (more) => parent.child({ ...bindings, ...more }),
  };
}

export interface LoggerOptions {
  service: string;
  level: LogLevel;
  destination?: DestinationStream;
}

/** JSON lines: `time`, `level` (as a word), `service`, `msg` and the fields. */
export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.errWithCause },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization'], censor: '[REDACTED]' },
  };
  return wrap(destination === undefined ? pino(options) : pino(options, destination));
}

/** A logger that keeps its lines in memory (tests read them) and prints them when LOG_TESTS=1. */
export function createMemoryLogger(service = 'test'): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const destination: DestinationStream = {
    write(line: string) {
      lines.push(JSON.parse(line) as LogFields);
      if (process.env['LOG_TESTS'] === '1') process.stderr.write(line);
    },
  };
  return Object.assign(createLogger({ service, level: 'debug', destination }), { lines });
}
