import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { z } from 'zod';
import { env } from './config';
import type { Logger } from './log';
import { ensureTraceparent } from './trace';

export { SpanKind, SpanStatusCode, type Span };

/**
 * Tracing (OpenTelemetry). Every process continues the W3C trace context it is given (the gateway's
 * request, the principal a subgraph receives, the traceparent a run keeps for its tasks, the one an
 * Execute call carries), and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, exports its spans over
 * OTLP/HTTP: gateway request (with Apollo Gateway's own plan and fetch spans under it) → subgraph
 * request → dispatcher's task attempt → worker's execution, one trace per request. Unset, spans
 * are not recorded and the trace context still flows (log lines carry its trace id either way).
 */
export const telemetryConfigSchema = z.object({
  /** An OTLP/HTTP collector, e.g. http://otel-collector:4318 (spans go to <it>/v1/traces). */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url(['http', 'https']).optional(),
  /** How long finished spans are batched before they are sent. */
  OTEL_BSP_SCHEDULE_DELAY: env.int(2_000, { min: 10, max: 60_000 }),
});
export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;

export interface Telemetry {
  enabled: boolean;
  /** Sends what is batched and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Registers the process's tracer provider when an endpoint is configured (once per process). The
 * OpenTelemetry SDK and exporter (~15 MiB resident) load only then (lib/telemetry-export.ts): a
 * process that does not export traces does not carry them (issue 11, lean processes).
 */
export async function startTelemetry(service: string, config: TelemetryConfig, log?: Logger): Promise<Telemetry> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return { enabled: false, shutdown: () => Promise.resolve() };
  const { exportTraces } = await import('./telemetry-export');
  const shutdown = exportTraces(service, endpoint, config.OTEL_BSP_SCHEDULE_DELAY);
  log?.info('exporting traces', { endpoint });
  return {
    enabled: true,
    async shutdown() {
      await shutdown().catch((err: unknown) => log?.warn('could not flush traces', { err }));
    },
  };
}

/**
 * The tracer spans are recorded by, or undefined while no tracer provider is registered (nothing
 * exports: OTEL_EXPORTER_OTLP_ENDPOINT unset). Asked per span, so a provider registered later is used.
 */
const recordingTracer = (): Tracer | undefined => {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer('orchestra') : provider.getTracer('orchestra');
};

/**
 * What startSpan hands out while nothing records: the span OpenTelemetry's no-op tracer would make (it
 * records nothing and ends as a no-op), one for all, and the context holding it. Without a provider
 * there is no propagator either, so the parent's context would not have been read: only the
 * traceparent handed on carries the trace.
 */
const NOT_RECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
const NOT_RECORDED_CONTEXT = trace.setSpan(ROOT_CONTEXT, NOT_RECORDED);

/** The context a W3C traceparent names (the root context when there is none). */
export function contextOf(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
}

export interface TracedSpan {
  span: Span;
  /** The context with this span active (for `context.with` and child spans). */
  context: Context;
  /**
   * The traceparent to hand on: this span's when spans are recorded; otherwise the parent's (or a
   * new one), so the trace id still flows to the next process and its log lines.
   */
  traceparent: string;
}

/** Starts a span under the given traceparent (or a new trace). End it with `endSpan`. */
export function startSpan(name: string, parent: string | undefined, kind: SpanKind, attributes: Attributes = {}): TracedSpan {
  const tracer = recordingTracer();
  // Not exporting: no span, context or attributes made per call (issue 11: tracing costs nothing unless configured).
  if (tracer === undefined) return { span: NOT_RECORDED, context: NOT_RECORDED_CONTEXT, traceparent: ensureTraceparent(parent) };
  const parentContext = contextOf(parent);
  const span = tracer.startSpan(name, { kind, attributes }, parentContext);
  const active = trace.setSpan(parentContext, span);
  const carrier: Record<string, string> = {};
  if (span.isRecording()) propagation.inject(active, carrier);
  return { span, context: active, traceparent: carrier['traceparent'] ?? ensureTraceparent(parent) };
}

/**
 * A library's tracer (Apollo Gateway's) that, while nothing records, runs each active span's function
 * with the one non-recording span and makes no span or context for it: without a tracer provider
 * OpenTelemetry's own would make a non-recording span and a context per call that nothing reads (no
 * context manager either). With a provider, every call is the tracer's own.
 */
export function quietWhileNotRecording(tracer: Tracer): Tracer {
  return {
    startSpan: (name, options, parentContext) => tracer.startSpan(name, options, parentContext),
    // Its overloads all end with the function: (name, fn), (name, options, fn), (name, options, context, fn).
    startActiveSpan: (...args: unknown[]) => {
      if (recordingTracer() !== undefined) return (tracer.startActiveSpan as (...all: unknown[]) => unknown).apply(tracer, args);
      const fn = args[args.length - 1] as (span: Span) => unknown;
      return fn(NOT_RECORDED);
    },
  };
}

/** Ends a span; an error (or a failure message) marks it failed. */
export function endSpan(span: Span, outcome: { error?: unknown; failure?: string | undefined; attributes?: Attributes } = {}): void {
  if (outcome.attributes) span.setAttributes(outcome.attributes);
  if (outcome.error !== undefined) {
    const error = outcome.error instanceof Error ? outcome.error : new Error(typeof outcome.error === 'string' ? outcome.error : JSON.stringify(outcome.error));
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else if (outcome.failure !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.failure });
  }
  span.end();
}

/** Runs `fn` with `ctx` active (library spans started inside, e.g. Apollo Gateway's, nest under it). */
export const withContext = <T>(ctx: Context, fn: () => T): T => context.with(ctx, fn);
