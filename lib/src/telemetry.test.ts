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
