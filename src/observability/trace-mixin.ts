/**
 * Log/trace correlation: the active span's ids for every log line. Depends on the OpenTelemetry
 * API only, so the logger can use it without loading the SDK.
 */
import { trace } from "@opentelemetry/api";

/**
 * A pino `mixin` adding the active span's `trace_id` and `span_id` to every log line, so logs
 * and traces can be joined. Returns nothing outside a span (and always when tracing is off).
 *
 * @example
 * const log = createLogger({ level: "info", mixin: traceMixin }); // the default mixin
 */
export function traceMixin(): Record<string, unknown> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
