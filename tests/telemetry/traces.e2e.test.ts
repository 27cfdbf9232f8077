import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Platform } from '../src/platform';
import { as, createWorkflow, signUp, waitForRun, type Session } from '../orchestration/helpers';

/**
 * Issue 3's live path as one OpenTelemetry trace across processes: the gateway, the orchestration
 * subgraph, its dispatcher and the worker each export spans over OTLP/HTTP. The collector here is
 * a stand-in for an OpenTelemetry Collector (which we do not run): it keeps what it is sent.
 */
interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  status: { code?: number };
}

let collector: Server;
const spans: ExportedSpan[] = [];
let platform: Platform;
let owner: Session;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'service'>> }> }>;
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, OTEL_BSP_SCHEDULE_DELAY: '100' };
  platform = await startPlatform({ services: ['identity', 'catalog', 'orchestration'], workers: 1, env: { identity: otel, catalog: otel, orchestration: otel, worker: otel, gateway: otel } });
  owner = await signUp(platform, 'Traced Org');
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await new Promise((resolve) => collector?.close(resolve));
});

it('exports one trace from the gateway through the orchestration subgraph and the dispatcher to the worker', async () => {
  const id = await createWorkflow(platform, owner, 'traced', [
    { id: 'one', capability: 'noop' },
    { id: 'two', capability: 'noop', dependsOn: ['one'] },
  ]);
  const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const res = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId: id } }, {
    ...as(owner),
    headers: { traceparent: `00-${traceId}-1111111111111111-01` },
  });
  expect(res.errors).toBeUndefined();
  // The response names the gateway's span in the caller's trace.
  expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  expect((await waitForRun(platform, owner, res.data!.startRun.run.id)).status).toBe('SUCCEEDED');

  const trace = await eventually(
    () => {
      // Each process exports on its own schedule: wait for every span the assertions name.
      const mine = spans.filter((s) => s.traceId === traceId);
      const count = (name: string) => mine.filter((s) => s.name === name).length;
      return count('run noop') === 2 && count('execute noop') === 2 && count('graphql request') >= 1 && count('orchestration graphql') >= 1 ? mine : undefined;
    },
    { timeoutMs: 20_000, what: 'the gateway, subgraph, dispatcher and worker spans to be exported' },
  );
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const parentOf = (s: ExportedSpan) => byId.get(s.parentSpanId);
  const gateway = trace.find((s) => s.service === 'orchestra-gateway' && s.name === 'graphql request')!;
  expect(gateway.parentSpanId).toBe('1111111111111111');
  const subgraph = trace.find((s) => s.service === 'orchestra-orchestration' && s.name === 'orchestration graphql')!;
  expect(subgraph).toBeDefined();
  // The subgraph request hangs under the gateway's request (through Apollo Gateway's own spans).
  let up: ExportedSpan | undefined = subgraph;
  while (up && up !== gateway) up = parentOf(up);
  expect(up).toBe(gateway);
  for (const worker of trace.filter((s) => s.name === 'run noop')) {
    expect(worker.service).toBe('orchestra-worker');
    const dispatch = parentOf(worker)!;
    expect([dispatch.service, dispatch.name]).toEqual(['orchestra-orchestration', 'execute noop']);
    expect(parentOf(dispatch)).toBe(subgraph);
    expect([worker.status.code ?? 0, dispatch.status.code ?? 0]).not.toContain(2);
  }
});

it('continues the trace over internal gRPC: orchestration asking the catalog whether an app exists', async () => {
  const app = await platform.graphql<{ createApp: { id: string } }>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { slug: 'traced-app', name: 'Traced' } }, as(owner));
  expect(app.errors).toBeUndefined();
  const traceId = 'b1b2c3d4e5f60718293a4b5c6d7e8f91';
  const res = await platform.graphql(
    'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }',
    { input: { name: 'traced-with-app', appId: app.data!.createApp.id, steps: [{ id: 'a', capability: 'noop' }] } },
    { ...as(owner), headers: { traceparent: `00-${traceId}-2222222222222222-01` } },
  );
  expect(res.errors).toBeUndefined();
  const trace = await eventually(
    () => {
      const mine = spans.filter((s) => s.traceId === traceId);
      const getApps = mine.some((s) => s.service === 'orchestra-catalog' && s.name.endsWith('/GetApps'));
      return getApps && mine.some((s) => s.name === 'orchestration graphql') ? mine : undefined;
    },
    { timeoutMs: 20_000, what: 'the catalog span of the GetApps call to be exported' },
  );
  const getApps = trace.find((s) => s.service === 'orchestra-catalog' && s.name === 'grpc /orchestra.catalog.v1.CatalogService/GetApps')!;
  const parent = trace.find((s) => s.spanId === getApps.parentSpanId);
  expect([parent?.service, parent?.name]).toEqual(['orchestra-orchestration', 'orchestration graphql']);
});

