import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * The OpenTelemetry SDK part of tracing: registers a tracer provider exporting spans over OTLP/HTTP to
 * `<endpoint>/v1/traces`. Loaded by lib/telemetry.ts only when an endpoint is configured. Returns
 * the provider's shutdown (sends what is batched).
 */
export function exportTraces(service: string, endpoint: string, scheduledDelayMillis: number): () => Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: new Resource({ 'service.name': `orchestra-${service}`, 'service.namespace': 'orchestra' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis })],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return () => provider.shutdown();
}
