/**
 * The one classification of failures, for both retry layers.
 *
 * `classifyError` turns whatever a provider call threw (AI SDK `APICallError`, our `HttpResponseError`,
 * network errors, idle timeouts, aborts, schema failures) into one of our error classes, with a clear,
 * secret-free message:
 *
 * - retriable with a server hint (429/503 + `retry-after[-ms]`) → `RetryAfterError` (cause: `ExternalServiceError`)
 * - retriable (408, 409, 429, 5xx, 529, network, stream cut, nothing received for the idle limit)
 *   → `ExternalServiceError { retriable: true }`
 * - not retriable (400, 401, 403, 404, 422, quota exhausted) → `NonRetriableError`
 *   (cause: `ExternalServiceError { retriable: false }` for HTTP answers)
 * - an answer in the wrong format → `InvalidOutputError` (not sent again as it is; a new step attempt may do better)
 * - cancellation → the abort reason, unchanged
 *
 * `isRetriable` decides for a call's retries (`withRetry`), `isStepRetriable` for a step's.
 */
import { APICallError } from "ai";
import { ExternalServiceError } from "../errors/external-service-error.ts";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import { ProviderUnavailableError } from "../errors/provider-unavailable-error.ts";
import { RetryAfterError } from "../errors/retry-after-error.ts";
import { BudgetExceededError } from "../errors/budget-exceeded-error.ts";
import { ConfigError } from "../errors/config-error.ts";
import { IdleTimeoutError } from "../errors/idle-timeout-error.ts";
import { InvalidOutputError } from "../errors/invalid-output-error.ts";
import { RetriesExhaustedError } from "../errors/retries-exhausted-error.ts";
import { scrubSecrets } from "../security/scrub-secrets.ts";
import { HttpResponseError } from "../errors/http-response-error.ts";
import { parseRetryAfter } from "./retry-after.ts";

const RETRIABLE_STATUSES = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529]);

/** Names the env variable holding a service's credential, for auth error messages. */
const CREDENTIAL_HINT: Record<string, string> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  "openai-compatible": "OPENAI_COMPATIBLE_API_KEY",
  codegen: "CODEGEN_TOKEN",
};

/** True for errors that mean "the caller cancelled". */
export function isAbortError(error: unknown): error is Error {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/**
 * A call's retries: true for the classified transient failures (`RetryAfterError`,
 * `ExternalServiceError { retriable }`), never for a call whose retries already ran out.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof RetriesExhaustedError) return false;
  return error instanceof RetryAfterError || (error instanceof ExternalServiceError && error.retriable);
}

/**
 * A later, durable retry (a run's delivery retried until its deadline, across restarts): true for
 * every transient failure, the calls whose own retries ran out included. `retryAfterMs` on the error
 * (`RetryAfterError`, or a `RetriesExhaustedError` whose server asked to wait) says when.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof RetryAfterError || (error instanceof ExternalServiceError && error.retriable);
}

/** The server's "try again after" for a failure, in milliseconds, when it gave one. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof RetryAfterError || error instanceof RetriesExhaustedError) return error.retryAfterMs === undefined ? undefined : Math.max(0, error.retryAfterMs);
  return undefined;
}

/**
 * A step's retries are for the step's own failures: a timeout, an answer in the wrong format, an
 * unexpected error. Never for what a call's retry layer already retried to exhaustion
 * (`RetriesExhaustedError`), nor for what retrying cannot fix (a bad request, credentials, a budget,
 * the configuration, an open breaker). A transient error that no call layer retried (a custom agent
 * backend's) is retried like any other failure.
 */
export function isStepRetriable(error: unknown): boolean {
  if (error instanceof InvalidOutputError) return true;
  if (error instanceof NonRetriableError || error instanceof BudgetExceededError || error instanceof ConfigError || error instanceof ProviderUnavailableError) return false;
  if (error instanceof ExternalServiceError) return isRetriable(error);
  return true;
}

/**
 * Classifies a failure of a call to `service`.
 *
 * @param now - epoch ms, for `retry-after` HTTP dates
 */
export function classifyError(error: unknown, service: string, now: number = Date.now()): Error {
  if (
    error instanceof NonRetriableError ||
    error instanceof ExternalServiceError ||
    error instanceof RetryAfterError ||
    error instanceof ProviderUnavailableError ||
    error instanceof BudgetExceededError ||
    error instanceof InvalidOutputError ||
    isAbortError(error)
  ) {
    return error;
  }
  const idle = idleTimeoutOf(error);
  if (idle) return new ExternalServiceError(`${service} stopped responding (${idle.message})`, { service, retriable: true, cause: error });
  const http = httpDetails(error);
  if (http && http.status < 300) {
    // a 2xx whose body could not be read to the end: the stream was cut
    return new ExternalServiceError(`${service} stream was interrupted before it finished`, { service, status: http.status, retriable: true, cause: error });
  }
  if (http) return classifyHttp(http, service, now, error);
  if (isSchemaError(error)) {
    return new InvalidOutputError(`${service} returned output that does not match the expected format (${errorName(error)})`, { cause: error });
  }
  if (isNetworkFailure(error)) {
    return new ExternalServiceError(`${service} connection failed (${networkCode(error)})`, { service, retriable: true, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ExternalServiceError(`${service} call failed: ${clip(scrubSecrets(message), 200)}`, { service, retriable: false, cause: error });
}

/** The `IdleTimeoutError` behind a failure (the SDKs wrap what `fetch` threw), if any. */
export function idleTimeoutOf(error: unknown): IdleTimeoutError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof IdleTimeoutError) return current;
    current = current.cause;
  }
  return undefined;
}

interface HttpDetails {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function httpDetails(error: unknown): HttpDetails | undefined {
  if (error instanceof HttpResponseError) return { status: error.status, headers: error.headers, body: error.body };
  if (APICallError.isInstance(error) && typeof error.statusCode === "number") {
    return { status: error.statusCode, headers: lowerKeys(error.responseHeaders ?? {}), body: error.responseBody ?? "" };
  }
  return undefined;
}

function classifyHttp(http: HttpDetails, service: string, now: number, cause: unknown): Error {
  const { status } = http;
  const provider = providerErrorOf(http.body);
  if (status === 401 || status === 403) {
    const hint = CREDENTIAL_HINT[service];
    const inner = new ExternalServiceError(`${service} rejected the credentials (HTTP ${status})`, { service, status, retriable: false, cause });
    return new NonRetriableError(`${service} rejected the credentials (HTTP ${status})${hint ? `; check ${hint}` : ""}`, { cause: inner });
  }
  if (status === 429 && isQuotaExhausted(provider)) {
    const inner = new ExternalServiceError(`${service} quota exhausted (HTTP 429)`, { service, status, retriable: false, cause });
    return new NonRetriableError(`${service} quota exhausted: the account has no credit left (HTTP 429 ${provider.code ?? provider.type ?? ""}); top it up or change the model`.replace(/ \)/, ")"), { cause: inner });
  }
  const detail = provider.message ? `: ${clip(scrubSecrets(provider.message), 300)}` : "";
  const retriable = RETRIABLE_STATUSES.has(status) || status >= 500;
  const message = `${service} answered HTTP ${status}${detail}`;
  const inner = new ExternalServiceError(message, { service, status, retriable, cause });
  if (!retriable) return new NonRetriableError(message, { cause: inner });
  const retryAfterMs = parseRetryAfter(http.headers, now);
  if (retryAfterMs !== undefined) return new RetryAfterError(message, retryAfterMs, { cause: inner });
  return inner;
}

interface ProviderErrorBody {
  message?: string;
  code?: string;
  type?: string;
}

function providerErrorOf(body: string): ProviderErrorBody {
  if (!body) return {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const e = (parsed as { error?: unknown }).error;
      const source = e && typeof e === "object" ? (e as Record<string, unknown>) : (parsed as Record<string, unknown>);
      const out: ProviderErrorBody = {};
      if (typeof source["message"] === "string") out.message = source["message"];
      else if (typeof source["detail"] === "string") out.message = source["detail"];
      else if (typeof e === "string") out.message = e;
      if (typeof source["code"] === "string") out.code = source["code"];
      if (typeof source["type"] === "string") out.type = source["type"];
      return out;
    }
  } catch {
    // not JSON: report the status only, never echo an HTML error page
  }
  return {};
}

function isQuotaExhausted(provider: ProviderErrorBody): boolean {
  return provider.code === "insufficient_quota" || provider.type === "insufficient_quota" || provider.code === "billing_hard_limit_reached";
}

function isSchemaError(error: unknown): boolean {
  const name = errorName(error);
  return ["AI_NoObjectGeneratedError", "AI_TypeValidationError", "AI_JSONParseError", "NoObjectGeneratedError", "TypeValidationError", "JSONParseError", "ZodError", "NoOutputGeneratedError", "AI_NoOutputGeneratedError"].includes(name);
}

function errorName(error: unknown): string {
  if (!(error instanceof Error)) return "unknown";
  const marker = Object.getOwnPropertySymbols(error).find((s) => s.description?.startsWith("vercel.ai.error.AI_"));
  if (marker?.description) return marker.description.replace("vercel.ai.error.", "");
  return error.name;
}

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CLOSED"]);

function isNetworkFailure(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    if (current instanceof TypeError && /fetch failed|terminated|network|socket/i.test(current.message)) return true;
    if (/^(terminated|other side closed|socket hang up)$/i.test(current.message)) return true;
    if (errorName(current) === "AI_APICallError" && (current as { isRetryable?: unknown }).isRetryable === true) return true;
    current = current.cause;
  }
  return false;
}

function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return error instanceof Error ? clip(scrubSecrets(error.message), 60) : "network error";
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
