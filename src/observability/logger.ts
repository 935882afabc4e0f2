/**
 * pino logger with redaction. JSON in production, pretty in development.
 * Probot receives this logger, so every `context.log` inherits the redaction.
 */
import { pino, type Logger, type DestinationStream, type LoggerOptions } from "pino";
import { QUERY_SECRET, scrubSecrets } from "../security/scrub-secrets.ts";
import { traceMixin } from "./trace-mixin.ts";

export { scrubSecrets };

/** Paths (pino redact syntax) whose values never reach a log line. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "*.*.token",
  "accessToken",
  "*.accessToken",
  "apiKey",
  "*.apiKey",
  "privateKey",
  "*.privateKey",
  "secret",
  "*.secret",
  "webhookSecret",
  "*.webhookSecret",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "Authorization",
  "*.Authorization",
  "headers.authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
  "*.headers[\"x-api-key\"]",
  "*.headers[\"x-hub-signature-256\"]",
  "*.headers[\"x-hub-signature\"]",
  "env.PRIVATE_KEY",
  "env.WEBHOOK_SECRET",
  "env.OPENAI_API_KEY",
  "env.ANTHROPIC_API_KEY",
  "env.OPENAI_COMPATIBLE_API_KEY",
  "env.CODEGEN_TOKEN",
  "env.DASHBOARD_TOKEN",
];

/** Requests a probe or a scraper makes every few seconds: their access-log line is debug. */
const PROBE_PATH = /^\/(healthz|readyz|metrics|ping)(\?|$)/;

interface AccessLogRecord {
  res: { statusCode: number; req?: { id?: unknown; method?: string; url?: string; headers?: Record<string, unknown> } };
  responseTime: number;
}

/** Probot's HTTP access log (pino-http) calls `log[level]({ res, responseTime }, "GET /x 200 - 3ms")`. */
function isAccessLogRecord(value: unknown): value is AccessLogRecord {
  const record = value as Partial<AccessLogRecord> | null;
  return typeof record === "object" && record !== null && typeof record.responseTime === "number" && typeof record.res?.statusCode === "number";
}

/**
 * One short access-log line instead of the request and response objects pino-http attaches (a
 * 17-line dump each in the pretty format): the request id (GitHub's delivery id for webhooks), the
 * event, the status and the time. Health probes and metrics scrapes go to debug.
 */
function logAccess(root: Logger, record: AccessLogRecord, level: number, rest: unknown[]): void {
  const req = record.res.req;
  const probe = PROBE_PATH.test(req?.url ?? "");
  const label = probe ? "debug" : (pino.levels.labels[level] ?? "info");
  const event = req?.headers?.["x-github-event"];
  const fields = { reqId: req?.id, statusCode: record.res.statusCode, responseTime: record.responseTime, ...(typeof event === "string" ? { event } : {}) };
  const http = root.child({ name: "http" });
  const write = http[label as "info"].bind(http) as (obj: object, ...args: unknown[]) => void;
  if (http.isLevelEnabled(label)) write(fields, ...rest);
}

export interface LoggerConfig {
  level?: string;
  format?: "json" | "pretty";
  /** Where to write; defaults to stdout. Tests pass a stream to read the output back. */
  destination?: DestinationStream;
  name?: string;
  /**
   * Extra fields merged into every line. Defaults to `traceMixin` (the active span's `trace_id` and
   * `span_id`, nothing outside a span or with tracing off).
   */
  mixin?: () => Record<string, unknown>;
}

/**
 * Creates the process logger.
 *
 * @example
 * const log = createLogger({ level: "info", format: "json" });
 * log.child({ deliveryId, event, repo }).info("webhook received");
 */
export function createLogger(config: LoggerConfig = {}): Logger {
  let root: Logger | undefined;
  const options: LoggerOptions = {
    name: config.name ?? "octoflow",
    level: config.level ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    mixin: config.mixin ?? traceMixin,
    formatters: {
      log(object) {
        return scrubObject(object) as Record<string, unknown>;
      },
    },
    hooks: {
      // Last line of defence for values the formatter cannot reach (e.g. the URL of the request
      // object Probot's HTTP logger serialises): query-string secrets in the final JSON line.
      streamWrite: (line) => line.replace(QUERY_SECRET, "$1[REDACTED]"),
      logMethod(args, method, level) {
        if (root && isAccessLogRecord(args[0])) {
          logAccess(root, args[0], level, args.slice(1));
          return;
        }
        const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    serializers: {
      err: serializeError,
      error: (err: unknown) => (err instanceof Error ? serializeError(err) : err),
    },
  };
  if (config.format === "pretty" && !config.destination) {
    root = pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } });
  } else root = config.destination ? pino(options, config.destination) : pino(options);
  return root;
}

/** pino's error serializer, with secrets scrubbed from message, stack and any extra fields. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = pino.stdSerializers.err(err);
  withoutWebhookPayloads(serialized);
  try {
    return JSON.parse(scrubSecrets(JSON.stringify(serialized))) as unknown;
  } catch {
    return { type: serialized.type, message: scrubSecrets(serialized.message) };
  }
}

/**
 * `@octokit/webhooks` attaches the whole delivery (`event: { id, name, payload }`) to a handler's
 * error; issue bodies and comments may hold secrets, so only the delivery id and event name are kept.
 */
function withoutWebhookPayloads(serialized: Record<string, unknown>, depth = 0): void {
  const event = serialized.event as { id?: unknown; name?: unknown; payload?: unknown } | undefined;
  if (event && typeof event === "object" && "payload" in event) serialized.event = { id: event.id, name: event.name };
  const inner = serialized.aggregateErrors ?? serialized.errors;
  if (Array.isArray(inner) && depth < 3) for (const e of inner) if (e && typeof e === "object") withoutWebhookPayloads(e as Record<string, unknown>, depth + 1);
}

function scrubObject(value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === "string") return scrubSecrets(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubObject(v, depth + 1);
    return out;
  }
  return value;
}

export type { Logger };
