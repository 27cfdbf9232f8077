import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from './config';
import type { GrpcServer } from './grpc-server';
import type { Logger } from './log';
import { releaseStartupMemory } from './startup-memory';
import { startTelemetry, telemetryConfigSchema, type Telemetry } from './telemetry';

/**
 * What `createXService(deps)` returns: the service built but not listening. `main.ts` (or a test)
 * decides where it listens; `stop()` drains and closes what the service itself opened.
 */
export interface ServiceHandle {
  name: string;
  http: FastifyInstance;
  /**
   * /readyz in detail and /metrics on a port of their own, for a process whose `http` port is public
   * (the gateway): the cluster's probes and scrapers reach it, the public does not.
   */
  ops?: FastifyInstance | undefined;
  grpc?: GrpcServer | undefined;
  /** Background loops (relays, dispatchers, probes) start here, after listening. */
  start?(): Promise<void>;
  /** Stops background work and servers. Does not close the pool/redis it was given. */
  stop(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  httpPort: number;
  grpcPort?: number;
  /** Where the handle's `ops` app listens (0 picks a port). */
  opsPort?: number;
}

export interface ServiceAddresses {
  httpUrl: string;
  /** host:port */
  grpcAddress?: string | undefined;
  /** The ops app's base URL, when the handle has one. */
  opsUrl?: string | undefined;
}

const boundPort = (app: FastifyInstance, fallback: number): number => {
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
};

export async function listenService(handle: ServiceHandle, { host, httpPort, grpcPort = 0, opsPort = 0 }: ListenOptions): Promise<ServiceAddresses> {
  let grpcAddress: string | undefined;
  if (handle.grpc) {
    const port = await handle.grpc.listen(host, grpcPort);
    handle.grpc.setServing('SERVING');
    grpcAddress = `${host}:${port}`;
  }
  let opsUrl: string | undefined;
  if (handle.ops) {
    await handle.ops.listen({ host, port: opsPort });
    opsUrl = `http://${host}:${boundPort(handle.ops, opsPort)}`;
  }
  await handle.http.listen({ host, port: httpPort });
  if (handle.start) await handle.start();
  return { httpUrl: `http://${host}:${boundPort(handle.http, httpPort)}`, grpcAddress, ...(opsUrl === undefined ? {} : { opsUrl }) };
}

/**
 * The body of every main.ts: runs `main`, turns a ConfigError into one line on stderr and exit 1,
 * and on SIGINT/SIGTERM runs the returned stop function once (a second signal exits at once).
 */
export function runMain(name: string, main: () => Promise<{ stop: () => Promise<void>; log: Logger; stopTimeoutMs?: number }>): void {
  let telemetry: Telemetry | undefined;
  Promise.resolve()
    .then(async () => {
      // Tracing first, so that spans of the start itself (and of every request) are exported.
      telemetry = await startTelemetry(name, loadConfig(telemetryConfigSchema));
      return main();
    })
    .then(({ stop: stopService, log, stopTimeoutMs = 20_000 }) => {
      if (telemetry?.enabled) log.info('exporting traces over OTLP', { endpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] });
      const stop = async () => {
        await stopService();
        await telemetry?.shutdown();
      };
      let stopping = false;
      let firstSignalAt = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        // One Ctrl-C can arrive twice (npm and tsx relay it): only a later signal forces the exit.
        if (stopping && Date.now() - firstSignalAt < 1_500) return;
        if (stopping) {
          log.warn('second signal: exiting now', { signal });
          process.exit(1);
        }
        stopping = true;
        firstSignalAt = Date.now();
        log.info('stopping', { signal });
        // A process that drains long work (a worker) says how long its stop may take.
        const force = setTimeout(() => {
          log.error(`did not stop within ${Math.round(stopTimeoutMs / 1000)} s: exiting`);
          process.exit(1);
        }, stopTimeoutMs);
        force.unref();
        stop().then(
          () => {
            log.info('stopped');
            process.exit(0);
          },
          (err: unknown) => {
            log.error('stop failed', { err });
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Serving: give back what starting left behind (startup-memory.ts).
      const released = releaseStartupMemory({ onSettled: (youngAfterMiB) => log.debug('startup memory released', { youngBeforeMiB: released.youngBeforeMiB, youngAfterMiB }) });
      if (process.env['ORCHESTRA_SUPERVISED'] === '1') {
        // Started by launchService: when the supervisor goes away, so do we.
        process.stdin.on('close', () => onSignal('SIGTERM'));
        process.stdin.on('error', () => onSignal('SIGTERM'));
        process.stdin.resume();
      }
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`${name}: ${error.message}\n`);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`${name}: failed to start: ${message}\n`);
        if (process.env['LOG_LEVEL'] === 'debug' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
      }
      process.exit(1);
    });
}

/** Runs every stop function even if some fail; rethrows the first failure afterwards. */
export async function stopAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0] instanceof Error ? failures[0] : new Error(String(failures[0]));
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} stop steps failed`);
}
