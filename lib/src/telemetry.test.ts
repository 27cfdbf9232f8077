import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, loadConfig } from './config';
import { quietWhileNotRecording, SpanKind, startSpan, startTelemetry, telemetryConfigSchema } from './telemetry';

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

describe("a library's tracer, quiet while nothing records", () => {
  afterEach(() => trace.disable());

  it('runs active spans with the one non-recording span and no new context until a provider is registered, then records them', async () => {
    const tracer = quietWhileNotRecording(trace.getTracer('library'));
    const seen: Array<{ recording: boolean; active: unknown; span: unknown }> = [];
    const body = (span: { isRecording(): boolean }) => {
      seen.push({ recording: span.isRecording(), active: trace.getActiveSpan(), span });
      return 'answer';
    };
    expect(tracer.startActiveSpan('a', body)).toBe('answer');
    expect(tracer.startActiveSpan('b', { attributes: { n: 1 } }, body)).toBe('answer');
    expect(seen[0]).toEqual({ recording: false, active: undefined, span: seen[1]!.span });
    expect(seen[0]!.span).toBe(seen[1]!.span);

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    const answer = tracer.startActiveSpan('c', { attributes: { n: 2 } }, (span) => {
      const recording = span.isRecording();
      span.end();
      return recording;
    });
    expect(answer).toBe(true);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => ({ name: s.name, n: s.attributes['n'] }))).toEqual([{ name: 'c', n: 2 }]);
    await provider.shutdown();
  });
});
