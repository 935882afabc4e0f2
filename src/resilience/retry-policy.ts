/**
 * Retries with exponential backoff and jitter over `p-retry`, honouring the server's
 * `retry-after` hints. The delay itself goes through an injectable `sleep`, so tests record the
 * delays that were asked for instead of waiting for them.
 */
import pRetry, { AbortError } from "p-retry";
import { RetryAfterError } from "../errors/retry-after-error.ts";
import { backoffDelay as exponentialDelay } from "../workflows/backoff.ts";
import { isRetriable } from "./classify-error.ts";

export interface RetryPolicy {
  /** Retries after the first attempt (so `retries: 3` means at most 4 attempts). */
  retries: number;
  /** First backoff delay, doubled on every retry. */
  baseDelayMs: number;
  /** Cap for computed backoff delays. */
  maxDelayMs: number;
  /** Longest server-requested `retry-after` we wait for; longer hints end the retries. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ retries: 4, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 60_000 });

export interface RetryInfo {
  /** The attempt that failed (1-based). */
  attempt: number;
  /** The delay before the next attempt. */
  delayMs: number;
  error: Error;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Waits `ms` unless `signal` aborts first (rejecting with its reason). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  /** A further condition a retriable error must meet to be retried (e.g. "the request was not processed"). */
  retryIf?: (error: Error) => boolean;
}

/**
 * The delay before retry number `retry` (1-based): the server's hint when given, otherwise the
 * engine's "equal jitter" exponential backoff (`src/workflows/backoff.ts`, the one place backoff is
 * computed) doubling from `baseDelayMs` up to `maxDelayMs`.
 */
export function backoffDelay(retry: number, error: unknown, policy: RetryPolicy, random: () => number = Math.random): number {
  if (error instanceof RetryAfterError) return Math.max(0, error.retryAfterMs);
  return exponentialDelay(retry, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, factor: 2 }, random);
}

/**
 * Runs `fn` until it succeeds, throws a non-retriable error, or the retries run out. Only
 * already-classified retriable errors (`RetryAfterError`, `ExternalServiceError { retriable }`) are
 * retried; the last error is thrown as is. Cancellation (`signal`) stops at once, also mid-delay.
 *
 * @example
 * await withRetry((attempt) => callModel(attempt), { policy: DEFAULT_RETRY_POLICY, sleep: systemClock.sleep, signal });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const { policy, signal } = options;
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!isRetriable(error) || (options.retryIf && !options.retryIf(error as Error))) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        if (error instanceof RetryAfterError && error.retryAfterMs > policy.maxRetryAfterMs) throw new AbortError(error);
        throw error;
      }
    },
    {
      retries: policy.retries,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      ...(signal ? { signal } : {}),
      shouldRetry: async ({ error, attemptNumber }) => {
        const delayMs = backoffDelay(attemptNumber, error, policy, random);
        options.onRetry?.({ attempt: attemptNumber, delayMs, error });
        await options.sleep(delayMs, signal);
        return true;
      },
    },
  );
}
