import Module from 'node:module';

/**
 * Apollo Gateway's usage telemetry, off — imported before anything loads @apollo/gateway.
 *
 * Unless APOLLO_TELEMETRY_DISABLED is set when it is constructed, ApolloGateway starts an OpenTelemetry
 * meter that probes cloud metadata addresses (AWS, GCP, Azure, Alibaba) and reports usage to
 * usage-reporting.api.apollographql.com every hour; an operator's control plane does not phone home.
 * With it off, the modules only that meter uses are dead weight Apollo still requires at import: the
 * four cloud resource detectors (with gcp-metadata, gaxios and their HTTP agents), the metrics SDK
 * and OTLP exporter, and the incubating semantic conventions — 15–17 MiB of the gateway's idle RSS
 * (`npm run bench -- lean`). Those requires, and only when Apollo's telemetry module makes them, get an
 * empty module: they are read only inside the functions the switch keeps from running.
 */
const UNUSED_WHEN_OFF = new Set([
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

process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';

type Load = (request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load & { apolloTelemetryOff?: true } };
if (!loader._load.apolloTelemetryOff) {
  const load = loader._load;
  const skipping: Load & { apolloTelemetryOff?: true } = function (this: unknown, request, parent, isMain) {
    if (UNUSED_WHEN_OFF.has(request) && APOLLO_TELEMETRY_MODULE.test(parent?.filename ?? '')) return {};
    return load.call(this, request, parent, isMain);
  };
  skipping.apolloTelemetryOff = true;
  loader._load = skipping;
}
