/**
 * CPU per startRun-shaped request through the orchestration subgraph's HTTP app, in one process, with
 * no database: the real schema, resolvers, access and audit wrappers, principal verification and
 * Fastify hooks, and a stand-in RunStarts that answers at once. What it measures is the GraphQL/HTTP
 * path's own cost per request (issue 11: what startRun through GraphQL costs orchestration beyond gRPC).
 *
 *   node --expose-gc --import tsx bench/graphql-path-cpu.ts [root] [--mode inject|http] [--requests N] [--rounds R]
 *     [--concurrency C] [--variants '{};{"someOption":1}']
 *
 * `root` is a worktree (default: this one), so two commits can be compared by running this file against
 * each in alternation. `--variants` builds one app per JSON object of extra createSubgraphHttp options
 * in the same process and interleaves their rounds (ABBA); note that variants in one process share V8's
 * feedback for shared code, so for changes of object shapes compare separate processes instead.
 * Prints one JSON line per variant: µs of process CPU per request (client side included) for each round.
 * On a quiet machine (load 0.2, 2026-12-08, 9308641): ~195 µs per request with inject, ~218 with http.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { median } from './load';
import type * as LibModule from '../lib/src/index';
import type * as ResolversModule from '../subgraphs/orchestration/src/resolvers/index';
import type * as SchemaModule from '../subgraphs/orchestration/src/schema';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const root = resolve(args[0] && !args[0].startsWith('--') ? args[0] : resolve(__dirname, '..'));
const mode = flag('mode', 'inject');
const requests = Number(flag('requests', '4000'));
const rounds = Number(flag('rounds', '5'));
const concurrency = Number(flag('concurrency', '16'));
const query = flag('query', 'mutation($i:StartRunInput!){startRun(input:$i){run{id}}}');
/** In-process variants, rounds interleaved: JSON objects of createSubgraphHttp options, `;`-separated (default: one, as is). */
const variants = flag('variants', '{}').split(';').map((v) => JSON.parse(v) as Record<string, unknown>);

async function main(): Promise<void> {
  const lib = (await import(`${root}/lib/src/index.ts`)) as typeof LibModule;
  const orch = (await import(`${root}/subgraphs/orchestration/src/resolvers/index.ts`)) as typeof ResolversModule;
  const schemaMod = (await import(`${root}/subgraphs/orchestration/src/schema.ts`)) as typeof SchemaModule;
  const keys = lib.generatePrincipalKeys();
  const signer = lib.createPrincipalSigner(keys.privateKeyPem);
  const verifier = lib.createPrincipalVerifier(keys.publicKeyPem);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const log = lib.createLogger({ service: 'orchestration', level: 'info', destination: sink });
  const metrics = lib.createMetrics('orchestration', { defaultMetrics: false });
  const orgId = randomUUID();
  const now = new Date();
  const runStarts = {
    startRun: (_principal: unknown, input: { workflowName?: string }) =>
      Promise.resolve({
        run: { id: randomUUID(), orgId, workflowId: randomUUID(), workflowName: input.workflowName, status: 'QUEUED', createdAt: now, updatedAt: now, input: {} },
        deduplicated: false,
      }),
    startRuns: () => Promise.resolve([]),
  };
  const engine = { inTenant: () => Promise.reject(new Error('no database in this bench')) };
  const caller = { kind: 'user', id: randomUUID(), userId: randomUUID(), orgId, role: 'admin', scopes: [], display: 'bench@example.com', requestId: 'x' } as const;
  const makeApp = (extra: Record<string, unknown>) =>
    lib.createSubgraphHttp({
      name: 'orchestration',
      typeDefs: schemaMod.typeDefs,
      resolvers: orch.resolvers,
      verifier,
      log,
      metrics,
      readiness: {},
      extendContext: orch.extendContext(engine as never, runStarts as never),
      audit: { service: 'orchestration', pool: {} as never, log },
      ...extra,
    });
  /**
   * The baseline ({"bare":true}): Fastify and mercurius alone on the same federated schema and resolvers,
   * without what Orchestra adds (principal verification, @access and @audit wrappers, spans, request
   * metrics, error shaping): the caller is put in the context as it is.
   */
  const makeBareApp = async () => {
    const { default: Fastify } = await import('fastify');
    const { default: mercurius } = await import('mercurius');
    const { buildSubgraphSchema } = await import('@apollo/subgraph');
    const app = Fastify({ logger: false });
    const schema = buildSubgraphSchema([{ typeDefs: schemaMod.typeDefs, resolvers: orch.resolvers as never }]);
    const context = orch.extendContext(engine as never, runStarts as never);
    await app.register(mercurius, {
      schema,
      path: '/graphql',
      graphiql: false,
      context: (request) => {
        const requestId = String(request.headers['x-request-id']);
        return context({ principal: { ...caller, scopes: [], requestId }, principalHeader: '', requestId, log });
      },
    });
    return app;
  };
  const apps: Array<Awaited<ReturnType<typeof makeBareApp>>> = [];
  for (const v of variants) apps.push(v['bare'] === true ? await makeBareApp() : makeApp(v));
  for (const app of apps) await app.ready();
  // As the gateway does: the caller's identity header, signed again while it lives (every 5 s here).
  let header = await signer.signIdentity({ ...caller, scopes: [] });
  const refresh = setInterval(() => void signer.signIdentity({ ...caller, scopes: [] }).then((h) => (header = h)), 5_000);
  refresh.unref();
  let n = 0;
  const bodyOf = () => JSON.stringify({ query, variables: { i: { workflowName: 'one-step', input: { i: n++ } } } });
  const headersOf = () => ({
    'content-type': 'application/json',
    [lib.PRINCIPAL_HEADER]: header,
    'x-request-id': lib.newRequestId(),
    traceparent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
  });
  const closers: Array<() => Promise<void>> = [];
  const senders: Array<() => Promise<void>> = [];
  for (const app of apps) {
    if (mode === 'http') {
      const { Pool } = await import('undici');
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const pool = new Pool(address, { connections: concurrency });
      senders.push(async () => {
        const res = await pool.request({ path: '/graphql', method: 'POST', headers: headersOf(), body: bodyOf() });
        const text = await res.body.text();
        if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`answer ${res.statusCode}: ${text}`);
      });
      closers.push(() => pool.close());
    } else {
      senders.push(async () => {
        const res = await app.inject({ method: 'POST', url: '/graphql', headers: headersOf(), payload: bodyOf() });
        if (res.statusCode !== 200 || res.body.includes('"errors"')) throw new Error(`answer ${res.statusCode}: ${res.body}`);
      });
    }
  }
  const batch = async (send: () => Promise<void>, count: number): Promise<void> => {
    let left = count;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await send();
      }),
    );
  };
  for (const send of senders) await batch(send, Math.max(2000, requests));
  const perRequest: number[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Interleaved, the order turned every round (ABBA …).
    const order = variants.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const v of order) {
      // Each round starts from a collected heap (run with --expose-gc), so one variant does not pay for another's garbage.
      (globalThis as { gc?: () => void }).gc?.();
      const before = process.cpuUsage();
      await batch(senders[v]!, requests);
      const used = process.cpuUsage(before);
      if (process.env['BENCH_HEAP']) console.error(`round ${r} variant ${v}: heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
      perRequest[v]!.push(Math.round(((used.user + used.system) / requests) * 10) / 10);
    }
  }
  for (const close of closers) await close();
  for (const app of apps) await app.close();
  const medians = perRequest.map(median);
  for (const [i, v] of variants.entries()) {
    console.log(JSON.stringify({ variant: v, mode, requests, concurrency, usPerRequest: perRequest[i], median: medians[i], ratioToFirst: Math.round((medians[i]! / medians[0]!) * 1000) / 1000 }));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
