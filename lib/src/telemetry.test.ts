import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, loadConfig } from './config';
import { SpanKind, startSpan, startTelemetry, telemetryConfigSchema } from './telemetry';

describe('telemetry config', () => {
  it('is off without an endpoint, and refuses an endpoint that is not an http(s) URL in one line naming it', async () => {
    const off = await startTelemetry('test', loadConfig(telemetryConfigSchema, {}));
    expect(off.enabled).toBe(false);
    await off.shutdown();
    expect(() => loadConfig(telemetryConfigSchema, { OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' })).toThrow(ConfigError);
    expect(() => loadConfig(telemetryConfigSchema, { OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('spans while not exporting', () => {
  // (Exporting is exercised across processes by tests/telemetry/traces.e2e.test.ts.)
  it('hand on the caller’s traceparent unchanged, or start a trace when there is none or it is malformed', () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const continued = startSpan('x', sent, SpanKind.SERVER);
    expect(continued.traceparent).toBe(sent);
    continued.span.end();
    for (const parent of [undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']) {
      const fresh = startSpan('x', parent, SpanKind.SERVER);
      expect(fresh.traceparent).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      fresh.span.end();
    }
  });
});

describe('spans and the tracer provider', () => {
  afterEach(() => trace.disable());

  it('make nothing per span while no provider is registered, and are recorded once one is', async () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const a = startSpan('a', sent, SpanKind.SERVER, { n: 1 });
    const b = startSpan('b', undefined, SpanKind.SERVER);
    expect(a.span).toBe(b.span);
    expect(a.context).toBe(b.context);
    expect(a.span.isRecording()).toBe(false);
    expect(a.traceparent).toBe(sent);
    a.span.end();

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    const recorded = startSpan('recorded', undefined, SpanKind.SERVER, { n: 2 });
    expect(recorded.span.isRecording()).toBe(true);
    expect(recorded.span).not.toBe(a.span);
    expect(trace.getSpan(recorded.context)).toBe(recorded.span);
    recorded.span.end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => ({ name: s.name, n: s.attributes['n'] }))).toEqual([{ name: 'recorded', n: 2 }]);
    await provider.shutdown();
  });
});
