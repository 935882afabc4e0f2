/**
 * OpenTelemetry tracing. Application code uses the OpenTelemetry API only (`withSpan`,
 * `injectTraceContext`, `withTraceContext`); `setupTracing` switches the SDK on at start-up:
 * a tracer provider, an AsyncLocalStorage context manager, the W3C trace-context propagator and
 * an OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Without an endpoint (and
 * without an injected exporter) nothing is registered and every span is a cheap no-op.
 */
import {
  context,
  diag,
  propagation,
  trace,
  DiagLogLevel,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";

/** Name of the tracer every Octoflow span is created with. */
export const TRACER_NAME = "octoflow";

export interface TracingOptions {
  env: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined };
  /** `service.name` resource attribute; defaults to "octoflow". */
  serviceName?: string;
  serviceVersion?: string;
  /**
   * An exporter to use instead of (or without) OTLP, e.g. the SDK's `InMemorySpanExporter` in
   * tests. Spans go to it synchronously through a `SimpleSpanProcessor`.
   */
  exporter?: SpanExporter;
  log?: Logger;
}

export interface Tracing {
  /** True when a tracer provider was registered (an endpoint or an exporter was given). */
  enabled: boolean;
  /** Exports buffered spans now (export errors are logged, never thrown). */
  forceFlush(): Promise<void>;
  /** Flushes, shuts the provider down and unregisters the global tracer, context manager and propagator. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL for a collector base endpoint (`http://collector:4318` → `…/v1/traces`). */
export function otlpTracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}

/**
 * Registers the OpenTelemetry SDK globally. Call once at start-up, before the first span, and
 * add `shutdown` to the runtime's closers so buffered spans are exported on exit.
 *
 * @example
 * const tracing = setupTracing({ env, serviceName: "octoflow" });
 * runtime.closers.push(() => tracing.shutdown());
 */
export function setupTracing(options: TracingOptions): Tracing {
  const endpoint = options.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const processors: SpanProcessor[] = [];
  if (options.exporter) processors.push(new SimpleSpanProcessor({ exporter: options.exporter }));
  if (endpoint) {
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: otlpTracesUrl(endpoint) }) }));
  }
  if (processors.length === 0) {
    return { enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
  }

  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": options.serviceName ?? "octoflow",
      ...(options.serviceVersion ? { "service.version": options.serviceVersion } : {}),
    }),
    spanProcessors: processors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const log = options.log;
  if (log) {
    // the SDK's own problems (an unreachable collector, dropped spans) become warnings in our log
    const warn = (message: string, ...args: unknown[]) => log.warn({ component: "opentelemetry", args: args.map(String) }, message);
    const ignore = () => {};
    diag.setLogger({ error: warn, warn, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
    log.info({ otlp: endpoint ? otlpTracesUrl(endpoint) : undefined }, "tracing enabled");
  }

  let shutDown = false;
  /** Exporting is best effort: a failing collector never fails a flush or the shutdown. */
  const reportExportError = (error: unknown) => {
    log?.warn({ component: "opentelemetry", error: error instanceof Error ? error.message : String(error) }, "exporting spans failed");
  };
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush().catch(reportExportError),
    async shutdown() {
      if (shutDown) return;
      shutDown = true;
      try {
        await provider.shutdown().catch(reportExportError);
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
        if (log) diag.disable();
      }
    },
  };
}

/** The Octoflow tracer from the global provider (a no-op tracer when tracing is off). */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

export interface WithSpanOptions {
  kind?: SpanKind;
  /** Defaults to `getTracer()`. */
  tracer?: Tracer;
  /** Parent context; defaults to the active one. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span. The span ends when `fn` settles; a thrown error is recorded
 * on the span (status ERROR) and re-thrown.
 *
 * @example
 * const output = await withSpan("step", { "octoflow.step": step.id, "octoflow.role": step.role }, async (span) => {
 *   const out = await agents.run(request);
 *   span.setAttribute("octoflow.tokens", out.usage.outputTokens);
 *   return out;
 * });
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: WithSpanOptions = {},
): Promise<T> {
  const tracer = options.tracer ?? getTracer();
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(name, { attributes, kind: options.kind ?? SpanKind.INTERNAL }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span as failed with the error's name and (scrubbed-by-caller) message. */
export function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

/**
 * Serialises the trace context (`traceparent`, `tracestate`, `baggage`) into a plain object that
 * can be stored with a run (`RunRecord.traceContext`) and carried through the queue.
 * Returns an empty object when tracing is off or there is no active span.
 */
export function injectTraceContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Restores a context serialised by `injectTraceContext` (the root context when the carrier is empty). */
export function extractTraceContext(carrier: Record<string, string> | undefined): Context {
  return propagation.extract(context.active(), carrier ?? {});
}

/**
 * Runs `fn` with the trace context of a stored carrier as the active context, so spans started
 * inside (e.g. the `run` span when a queued job executes) join the original trace.
 *
 * @example
 * await withTraceContext(run.traceContext, () => withSpan("run", { "octoflow.workflow": run.workflow }, execute));
 */
export function withTraceContext<T>(carrier: Record<string, string> | undefined, fn: () => T): T {
  return context.with(extractTraceContext(carrier), fn);
}

export { SpanKind };
export { traceMixin } from "./trace-mixin.ts";
