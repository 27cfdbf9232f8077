import { createHash } from 'node:crypto';
import Module from 'node:module';
import type * as OpenTelemetry from '@opentelemetry/api';
import { quietWhileNotRecording } from '@orchestra/lib/gateway';
import { rememberExecutedOperations } from './executed-operations';

/**
 * What Apollo Gateway requires and Orchestra's gateway never uses, left unloaded — imported before
 * anything loads @apollo/gateway (main.ts, index.ts, federation.ts, subgraph-datasource.ts).
 *
 * - **Usage telemetry, off.** Unless APOLLO_TELEMETRY_DISABLED is set when it is constructed,
 *   ApolloGateway starts an OpenTelemetry meter that probes cloud metadata addresses (AWS, GCP, Azure,
 *   Alibaba) and reports usage to usage-reporting.api.apollographql.com every hour; an operator's
 *   control plane does not phone home. With it off, what only that meter uses — four cloud resource
 *   detectors (with gcp-metadata, gaxios and their HTTP agents), the metrics SDK and OTLP exporter,
 *   the incubating semantic conventions — is dead weight Apollo still requires at import.
 * - **Apollo's default fetcher** (make-fetch-happen, with cacache and its file-system helpers):
 *   RemoteGraphQLDataSource builds one in its constructor even when given a fetcher, and every data
 *   source here gets ours (subgraph-datasource.ts). Should anything ever use the default, it fails
 *   with an error saying so rather than silently.
 *
 * - **Composition, until something composes.** Apollo Gateway's supergraph managers (live
 *   introspect-and-compose, local compose, the legacy fetcher) require @apollo/composition at import;
 *   a gateway on a static supergraph (production, the chart) never composes. They get a stand-in
 *   that loads the real module at its first use, so live mode (SUPERGRAPH_MODE=live) composes as
 *   before and static mode never loads it.
 *
 * - **A require per hash.** @apollo/utils.createhash calls `module.require('crypto')` on every hash it
 *   makes, and Apollo Server hashes every request's query text (and Apollo Gateway every named
 *   operation's plan key): each a trip through Node's module loader (and tsx's resolver under tsx),
 *   2.3% of the gateway's busy time under the one-step bench. Apollo's modules get one that calls
 *   node:crypto directly, the same hash.
 *
 * - **Spans nothing records.** Apollo Gateway's tracer (four to five active spans per request) is
 *   made through @opentelemetry/api with getTracer quiet while no tracer provider is registered
 *   (lib's quietWhileNotRecording): no span or context per call then, Apollo's spans as ever when
 *   traces are exported.
 * - **An Operation per executed request.** Apollo Gateway's executeQueryPlan gets
 *   @apollo/federation-internals with operationFromDocument remembering the Operation it builds for
 *   the same parsed query (executed-operations.ts).
 *
 * Together 19–21 MiB of idle RSS in a bare require of @apollo/gateway and @apollo/server. Those
 * requires, and only when Apollo's own modules make them, get the small stand-ins below.
 */
const TELEMETRY_ONLY = new Set([
  '@opentelemetry/resource-detector-alibaba-cloud',
  '@opentelemetry/resource-detector-aws',
  '@opentelemetry/resource-detector-gcp',
  '@opentelemetry/resource-detector-azure',
  '@opentelemetry/exporter-metrics-otlp-http',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/semantic-conventions/incubating',
  '@opentelemetry/resources',
]);
const APOLLO_TELEMETRY_MODULE = /[\\/]@apollo[\\/]gateway[\\/]dist[\\/]utilities[\\/]opentelemetry\.js$/;
const APOLLO_GATEWAY_MODULE = /[\\/]@apollo[\\/]gateway[\\/]dist[\\/]/;
const APOLLO_EXECUTE_QUERY_PLAN = /[\\/]@apollo[\\/]gateway[\\/]dist[\\/]executeQueryPlan\.js$/;
const APOLLO_SUPERGRAPH_MANAGER = /[\\/]@apollo[\\/]gateway[\\/]dist[\\/]supergraphManagers[\\/]/;

const noDefaultFetcher = () => {
  throw new Error("Apollo's default fetcher (make-fetch-happen) is not loaded in Orchestra's gateway: give every data source the subgraph fetcher (createSubgraphFetcher)");
};
const DEFAULT_FETCHER_STAND_IN = { __esModule: true, default: { defaults: () => noDefaultFetcher } };

const CREATE_HASH_STAND_IN = { __esModule: true, createHash: (kind: string) => createHash(kind) };
const APOLLO_MODULE = /[\\/]@apollo[\\/]/;

type OpenTelemetryApi = typeof OpenTelemetry;
/** @opentelemetry/api as Apollo's telemetry module uses it (`default.trace.getTracer`), its tracers quiet while nothing records. */
const withQuietTracers = (api: OpenTelemetryApi): OpenTelemetryApi => {
  const trace = Object.create(api.trace, {
    getTracer: { value: (...args: Parameters<typeof api.trace.getTracer>) => quietWhileNotRecording(api.trace.getTracer(...args)) },
  }) as typeof api.trace;
  return Object.create(api, { trace: { value: trace, enumerable: true }, default: { value: { ...api.default, trace }, enumerable: true } }) as OpenTelemetryApi;
};

process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';

type Load = (request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load & { orchestraApolloLean?: true } };
if (!loader._load.orchestraApolloLean) {
  const load = loader._load;
  /** @apollo/composition, required on the first use of one of its exports (by whichever manager uses it first). */
  let composition: Record<string | symbol, unknown> | undefined;
  const lazyComposition = (parent: Parameters<Load>[1]) =>
    new Proxy({}, {
      get: (_target, name) => (composition ??= load.call(loader, '@apollo/composition', parent, false) as Record<string | symbol, unknown>)[name],
      has: (_target, name) => name in (composition ??= load.call(loader, '@apollo/composition', parent, false) as Record<string | symbol, unknown>),
    });
  let internalsForExecution: object | undefined;
  let apiForApollo: OpenTelemetryApi | undefined;
  const lean: Load & { orchestraApolloLean?: true } = function (this: unknown, request, parent, isMain) {
    const from = parent?.filename ?? '';
    if (TELEMETRY_ONLY.has(request) && APOLLO_TELEMETRY_MODULE.test(from)) return {};
    if (request === 'make-fetch-happen' && APOLLO_GATEWAY_MODULE.test(from)) return DEFAULT_FETCHER_STAND_IN;
    if (request === '@apollo/utils.createhash' && APOLLO_MODULE.test(from)) return CREATE_HASH_STAND_IN;
    if (request === '@opentelemetry/api' && APOLLO_TELEMETRY_MODULE.test(from)) {
      return (apiForApollo ??= withQuietTracers(load.call(this, request, parent, isMain) as OpenTelemetryApi));
    }
    if (request === '@apollo/federation-internals' && APOLLO_EXECUTE_QUERY_PLAN.test(from)) {
      return (internalsForExecution ??= rememberExecutedOperations(load.call(this, request, parent, isMain) as object));
    }
    if (request === '@apollo/composition' && APOLLO_SUPERGRAPH_MANAGER.test(from)) return composition ?? lazyComposition(parent);
    return load.call(this, request, parent, isMain);
  };
  lean.orchestraApolloLean = true;
  loader._load = lean;
}
