/**
 * Classifies a failed GitHub call (an Octokit `RequestError`, a network error, a request cut off for
 * silence, a token that could not be minted) into the retry decision the callers act on, following
 * GitHub's documented behaviour: primary and secondary rate limits (403/429) wait for `retry-after`,
 * else until `x-ratelimit-reset` when no request is left, else a minute; 5xx, network failures and
 * silent requests are transient; other 4xx are not. The GitHub client's retries (`resilientOctokit`)
 * and the durable delivery both decide with it.
 */
import { ExternalServiceError } from "../errors/external-service-error.ts";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import { RetryAfterError } from "../errors/retry-after-error.ts";
import { scrubSecrets } from "../security/scrub-secrets.ts";
import { classifyError } from "./classify-error.ts";
import { parseRetryAfter } from "./retry-after.ts";

/** GitHub's advice for a secondary rate limit without a `retry-after`: wait at least a minute. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function requestErrorOf(error: unknown): RequestErrorLike | undefined {
  // Octokit gives a cancelled request status 500: it stays a cancellation
  if (!(error instanceof Error) || error.name === "AbortError") return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && status >= 400 ? (error as unknown as RequestErrorLike) : undefined;
}

/**
 * @example
 * try { await octokit.rest.pulls.create(...) } catch (error) { throw classifyGitHubError(error) }
 */
export function classifyGitHubError(error: unknown, now: number = Date.now()): Error {
  const request = requestErrorOf(error);
  if (!request) return classifyError(error, "GitHub", now);
  // no answer at all (Octokit reports a failed fetch as status 500 without a response): the network, or silence
  if (request.status === 500 && request.response === undefined && error instanceof Error && error.cause !== undefined) return classifyError(error.cause, "GitHub", now);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.response?.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
  const { status } = request;
  const text = scrubSecrets(request.message).split("\n")[0]?.slice(0, 200) ?? "";
  const message = `GitHub answered HTTP ${status}${text ? `: ${text}` : ""}`;
  const retryAfter = parseRetryAfter(headers, now);
  const exhausted = headers["x-ratelimit-remaining"] === "0";
  const secondary = /secondary rate limit|abuse detection/i.test(request.message);
  if (status === 429 || (status === 403 && (retryAfter !== undefined || exhausted || secondary))) {
    const reset = Number(headers["x-ratelimit-reset"]);
    // one second past the reset, as GitHub advises
    const waitMs = retryAfter ?? (exhausted && Number.isFinite(reset) ? Math.max(0, reset * 1000 - now + 1000) : SECONDARY_LIMIT_WAIT_MS);
    return new RetryAfterError(`${message} (rate limited)`, waitMs, { cause: new ExternalServiceError(message, { service: "GitHub", status, retriable: true, cause: error }) });
  }
  const retriable = status >= 500 || status === 408;
  const inner = new ExternalServiceError(message, { service: "GitHub", status, retriable, cause: error });
  return retriable ? inner : new NonRetriableError(message, { cause: inner });
}
