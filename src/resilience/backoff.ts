/**
 * The one exponential backoff with jitter, used by every retry: a call's retries (`retry-policy.ts`:
 * model providers, Codegen, GitHub) and a step's own retries (the engine). The server's `retry-after`
 * hint, when there is one, replaces it (`retryDelay` in `retry-policy.ts`).
 */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (default 1 s). */
  baseMs: number;
  /** Largest delay (default 60 s). */
  maxMs: number;
  /** Growth per retry (default 2). */
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 60_000, factor: 2 };

/**
 * Delay before retry number `retry` (1-based): `min(max, base · factor^(retry-1))`, then "equal jitter":
 * half of it fixed, half random, so retries of many steps spread out but never collapse to zero.
 *
 * @example
 * backoffDelay(1, DEFAULT_BACKOFF, () => 0);   // 500
 * backoffDelay(3, DEFAULT_BACKOFF, () => 1);   // 4000
 */
export function backoffDelay(retry: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponential = Math.min(options.maxMs, options.baseMs * options.factor ** Math.max(0, retry - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exponential / 2 + (exponential / 2) * r);
}
