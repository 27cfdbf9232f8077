import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import { newRequestId } from './ids';

/** A named dependency check for /readyz; it throws (or rejects) when the dependency is not usable. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsRoutesOptions {
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  /** Set to false while the process drains so load balancers stop sending traffic. */
  isAccepting?: () => boolean;
  /**
   * `ops` (default): /healthz, /readyz with every check's answer, and /metrics, for a port only the
   * cluster reaches. `public`: /healthz and a /readyz that says only ok or unavailable, for a port
   * anyone reaches (the gateway's): which dependency failed, and how, stays off it, and so does /metrics.
   */
  exposure?: 'ops' | 'public';
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/** /healthz (the process is alive), /readyz (its dependencies answer) and /metrics (Prometheus). */
export function registerOpsRoutes(app: FastifyInstance, { metrics, readiness, isAccepting = () => true, exposure = 'ops' }: OpsRoutesOptions): void {
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = isAccepting();
    if (!ready) checks['process'] = 'draining';
    await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2_000);
          checks[name] = 'ok';
        } catch (error) {
          ready = false;
          checks[name] = error instanceof Error ? error.message : String(error);
        }
      }),
    );
    const status = ready ? 'ok' : 'unavailable';
    return reply.code(ready ? 200 : 503).send(exposure === 'public' ? { status } : { status, checks });
  });
  if (exposure === 'public') return;
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

export interface HttpAppOptions {
  log: Logger;
  metrics: Metrics;
  /** Largest accepted request body. */
  bodyLimit?: number;
  /**
   * Proxies whose X-Forwarded-For is believed (comma-separated addresses/CIDRs). Default none: the
   * socket's address is the client's, so a client cannot pick its own IP for rate limits and audit.
   */
  trustProxy?: string | false;
}

/** A Fastify app with request ids, request metrics and error logging wired the Orchestra way. */
export function createHttpApp({ log, metrics, bodyLimit = 1024 * 1024, trustProxy = false }: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit,
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && /^[\w-]{1,64}$/.test(sent) ? sent : newRequestId();
    },
    trustProxy,
  });
  const duration = metrics.histogram('http_request_duration_seconds', 'HTTP request duration', ['method', 'route', 'status']);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.addHook('onError', async (request, _reply, error) => {
    // A client's mistake (a body too large or not JSON) is the client's story: info, not error.
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      log.info('http request refused', { requestId: request.id, url: request.url, status, code: (error as { code?: unknown }).code, message: error.message });
    } else {
      log.error('http request failed', { err: error, requestId: request.id, url: request.url });
    }
  });
  return app;
}
