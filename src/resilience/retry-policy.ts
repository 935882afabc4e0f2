/**
 * The one retry layer for calls to services (model providers, Codegen, GitHub): exponential backoff
 * with jitter (`backoff.ts`), the server's `retry-after` honoured up to one cap, and a decision carried
 * on the error when the retries stop (`RetriesExhaustedError`), so no other layer sends the call again.
 * Delays go through an injectable `sleep`, so tests record them instead of waiting.
 */
import { RetriesExhaustedError } from "../errors/retries-exhausted-error.ts";
import { RetryAfterError } from "../errors/retry-after-error.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { isRetriable } from "./classify-error.ts";

export interface RetryPolicy {
  /** Retries after the first attempt (so `retries: 3` means at most 4 attempts). */
  retries: number;
  /** First backoff delay, doubled on every retry. */
  baseDelayMs: number;
  /** Cap for computed backoff delays. */
  maxDelayMs: number;
  /** Longest server-requested `retry-after` we wait for; a longer hint ends the retries. */
  maxRetryAfterMs: number;
  /** Longest total wait between the attempts of one call; a retry that would pass it is not made. */
  maxTotalDelayMs?: number;
}

/** The longest `retry-after` any retry waits for (a call, a step): longer hints end the retries. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Model providers and Codegen: 4 attempts. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ retries: 3, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: MAX_RETRY_AFTER_MS });

/**
 * GitHub calls: a few tries within a couple of minutes (rate limits ask for up to a minute each; a
 * longer wait is the durable delivery's job, not a request's).
 */
export const GITHUB_RETRY_POLICY: RetryPolicy = Object.freeze({ retries: 3, baseDelayMs: 1_000, maxDelayMs: 15_000, maxRetryAfterMs: MAX_RETRY_AFTER_MS, maxTotalDelayMs: 120_000 });

export interface RetryInfo {
  /** The attempt that failed (1-based). */
  attempt: number;
  /** Attempts the policy allows in all. */
  maxAttempts: number;
  /** The delay before the next attempt. */
  delayMs: number;
  error: Error;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Names the service in the error thrown when the retries stop, e.g. "openai". */
  service: string;
  /** How the user knows the service, at the start of that error's message (default `service`), e.g. "The model provider openai". */
  label?: string;
  /** Waits `ms` unless `signal` aborts first (rejecting with its reason). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  signal?: AbortSignal;
  /** Called once a retry is decided, before its delay: the place to tell the user. */
  onRetry?: (info: RetryInfo) => void;
  /** A further condition a retriable error must meet to be retried (e.g. "the request was not processed"). */
  retryIf?: (error: Error) => boolean;
}

/**
 * The delay before retry number `retry` (1-based): the server's hint when it gave one, otherwise the
 * exponential backoff. `undefined` when the hint asks for longer than `maxRetryAfterMs`: then the
 * retries end (a call or a step does not hold its slot that long).
 *
 * @example
 * retryDelay(2, new Error("socket hang up"), DEFAULT_BACKOFF, MAX_RETRY_AFTER_MS); // 1000–2000
 * retryDelay(1, new RetryAfterError("429", 3_600_000), DEFAULT_BACKOFF, MAX_RETRY_AFTER_MS); // undefined
 */
export function retryDelay(retry: number, error: unknown, backoff: BackoffOptions, maxRetryAfterMs: number, random: () => number = Math.random): number | undefined {
  if (error instanceof RetryAfterError) return error.retryAfterMs > maxRetryAfterMs ? undefined : Math.max(0, error.retryAfterMs);
  return backoffDelay(retry, backoff, random);
}

/**
 * Runs `fn` until it succeeds, throws an error that is not retriable (`isRetriable`: transient
 * failures only, already classified), or the policy ends the retries. A non-retriable error is thrown
 * as it is; a transient one the policy gave up on becomes a `RetriesExhaustedError` whose message says
 * how many attempts were made ("The model provider openai failed after 4 attempts: …"). Cancellation
 * (`signal`) stops at once, also mid-delay, with the signal's reason.
 *
 * @example
 * await withRetry((attempt) => callModel(attempt), { policy: DEFAULT_RETRY_POLICY, service: "openai", sleep: clock.sleep, signal });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, signal } = options;
  const random = options.random ?? Math.random;
  const maxAttempts = policy.retries + 1;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (caught) {
      if (signal?.aborted) throw signal.reason;
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (!isRetriable(error)) throw error;
      if (options.retryIf && !options.retryIf(error)) throw exhausted(options, attempt, error, "not sent again: the request may already have been processed");
      if (attempt >= maxAttempts) throw exhausted(options, attempt, error);
      const delayMs = retryDelay(attempt, error, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, factor: 2 }, policy.maxRetryAfterMs, random);
      if (delayMs === undefined) throw exhausted(options, attempt, error, `it asked to wait ${formatWait((error as RetryAfterError).retryAfterMs)}, longer than the ${formatWait(policy.maxRetryAfterMs)} Octoflow waits`);
      if (policy.maxTotalDelayMs !== undefined && waited + delayMs > policy.maxTotalDelayMs) throw exhausted(options, attempt, error);
      waited += delayMs;
      options.onRetry?.({ attempt, maxAttempts, delayMs, error });
      await options.sleep(delayMs, signal);
    }
  }
}

function exhausted(options: RetryOptions, attempts: number, last: Error, why?: string): RetriesExhaustedError {
  const label = options.label ?? options.service;
  const message = `${label} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}${why ? ` (${why})` : ""}: ${last.message}`;
  return new RetriesExhaustedError(message, { service: options.service, attempts, last });
}

function formatWait(ms: number): string {
  if (ms >= 120_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}
