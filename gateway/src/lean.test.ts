import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The gateway starts lean (issue 11): loading it pulls in no PostgreSQL driver, subgraph server
 * (mercurius, @apollo/subgraph), migration tool, mail or test helper code, which lib's full entry
 * exports for the subgraphs; the gateway loads `@orchestra/lib/gateway` (eslint keeps it there).
 */
describe('the gateway process', () => {
  it('loads no PostgreSQL, subgraph server, gRPC server, migration, mail or test helper code', () => {
    const script = ["require('./src/gateway.ts');", "require('./src/config.ts');", 'process.stdout.write(JSON.stringify(Object.keys(require.cache)));'].join('');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    const loaded = JSON.parse(out) as string[];
    // What it does load, so the check below cannot pass by seeing nothing.
    expect(loaded.some((path) => path.includes('/@apollo/gateway/'))).toBe(true);
    expect(loaded.some((path) => /lib\/src\/access-token\.ts$/.test(path))).toBe(true);
    const heavy = loaded.filter(
      (path) =>
        /node_modules\/(pg|pg-pool|mercurius|@apollo\/subgraph|postgrator|nodemailer|s3rver|grpc-health-check)\//.test(path) ||
        /lib\/src\/(testing|launcher|openai-stand-in|db|subgraph|migrate|audit-relay|mail)\.ts$/.test(path),
    );
    expect(heavy).toEqual([]);
    // Apollo's usage telemetry is off (apollo-lean.ts), and what only it would use is not loaded.
    const telemetry = loaded.filter(
      (path) =>
        /node_modules\/(@opentelemetry\/(resource-detector-[a-z-]+|sdk-metrics|exporter-metrics-otlp-http|resources)|gcp-metadata|gaxios|make-fetch-happen|cacache)\//.test(path) ||
        /semantic-conventions\/.*incubating/.test(path),
    );
    expect(telemetry).toEqual([]);
    expect(loaded.some((path) => /@apollo\/gateway\/dist\/utilities\/opentelemetry\.js$/.test(path))).toBe(true);
    // Apollo's hashes go straight to node:crypto (apollo-lean.ts), not through a require per hash.
    expect(loaded.some((path) => /@apollo\/server\/dist\/cjs\/requestPipeline\.js$/.test(path))).toBe(true);
    expect(loaded.filter((path) => /node_modules\/@apollo\/utils\.createhash\//.test(path))).toEqual([]);
    // Composition loads only when something composes (live mode); the supergraph managers that use it are loaded.
    expect(loaded.filter((path) => /node_modules\/@apollo\/composition\//.test(path))).toEqual([]);
    expect(loaded.some((path) => /@apollo\/gateway\/dist\/supergraphManagers\/IntrospectAndCompose\/index\.js$/.test(path))).toBe(true);
  });

  it("hands Apollo Gateway's executeQueryPlan, and only it, federation-internals with the executed Operation remembered", () => {
    const script = [
      "require('./src/apollo-lean.ts');",
      "const Module = require('node:module');",
      "const real = require('@apollo/federation-internals');",
      "const asRequiredBy = (file) => Module.createRequire(require.resolve(file))('@apollo/federation-internals');",
      "const executing = asRequiredBy('@apollo/gateway/dist/executeQueryPlan.js');",
      "const planning = asRequiredBy('@apollo/gateway/dist/index.js');",
      'process.stdout.write(JSON.stringify({',
      '  view: Object.getPrototypeOf(executing) === real && Object.hasOwn(executing, "operationFromDocument"),',
      '  remembered: executing.operationFromDocument !== real.operationFromDocument,',
      '  same: executing.buildSchema === real.buildSchema,',
      '  planning: planning === real,',
      '}));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ view: true, remembered: true, same: true, planning: true });
  });

  it("gives Apollo Gateway's telemetry a tracer that makes no span while nothing records, and records once a provider is registered", () => {
    const script = [
      "require('./src/apollo-lean.ts');",
      "const { tracer } = require('@apollo/gateway/dist/utilities/opentelemetry.js');",
      "const { trace } = require('@opentelemetry/api');",
      "const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');",
      "const quiet = [tracer.startActiveSpan('gateway.request', { attributes: { a: 1 } }, (span) => span), tracer.startActiveSpan('gateway.plan', (span) => span)];",
      'const exporter = new InMemorySpanExporter();',
      'trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));',
      "tracer.startActiveSpan('gateway.fetch', (span) => span.end());",
      'process.stdout.write(JSON.stringify({',
      '  quiet: quiet.map((span) => span.isRecording()),',
      '  shared: quiet[0] === quiet[1],',
      '  recorded: exporter.getFinishedSpans().map((span) => span.name),',
      '}));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ quiet: [false, false], shared: true, recorded: ['gateway.fetch'] });
  });

  it('loads composition at the first use of it, and composes with it', () => {
    const script = [
      "require('./src/gateway.ts');",
      "const before = Object.keys(require.cache).some((p) => p.includes('/@apollo/composition/'));",
      "const { LocalCompose } = require('@apollo/gateway');",
      "const { parse } = require('graphql');",
      "const manager = new LocalCompose({ localServiceList: [{ name: 'a', url: 'http://a.invalid/graphql', typeDefs: parse('type Query { a: String }') }] });",
      'manager.initialize({ update() {}, healthCheck: async () => {}, getDataSource() {} }).then(({ supergraphSdl }) => {',
      "  const after = Object.keys(require.cache).some((p) => p.includes('/@apollo/composition/'));",
      '  process.stdout.write(JSON.stringify({ before, after, composed: /type Query/.test(supergraphSdl) }));',
      '});',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, after: true, composed: true });
  });
});
