/**
 * One `opossum` circuit breaker per provider: opens when the failure rate over a rolling window
 * passes a threshold, lets one probe through after `resetTimeoutMs` (half-open) and closes on its
 * success. While open, calls fail fast with `ProviderUnavailableError`.
 */
import CircuitBreaker from "opossum";
import { ProviderUnavailableError } from "../errors/provider-unavailable-error.ts";
import { isAbortError, isRetriable } from "./classify-error.ts";

export type BreakerStateName = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Failure percentage over the window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Length of the rolling window. */
  rollingWindowMs: number;
  /** Buckets the window is split into. */
  rollingBuckets: number;
  /** Time open before a half-open probe is allowed. */
  resetTimeoutMs: number;
  /** Calls needed in the window before the breaker may open. */
  volumeThreshold: number;
}

export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = Object.freeze({
  errorThresholdPercentage: 50,
  rollingWindowMs: 60_000,
  rollingBuckets: 10,
  resetTimeoutMs: 30_000,
  volumeThreshold: 5,
});

export interface ProviderBreaker {
  readonly provider: string;
  /**
   * Runs `fn` through the breaker; rejects with `ProviderUnavailableError` while open. `signal` is
   * the call's cancellation: a failure after it aborted never counts against the provider.
   */
  fire<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  state(): BreakerStateName;
  shutdown(): void;
}

/**
 * Creates a breaker for `provider`. Only failures a retry could fix (5xx, 429, 529, network)
 * count; a bad request or a cancellation says nothing about the provider's health. The half-open
 * probe is different: opossum treats a filtered error as a success and would close the breaker, so
 * a cancelled probe — which proved nothing — sends the breaker back to open for another wait.
 */
export function createCircuitBreaker(
  provider: string,
  options: BreakerOptions,
  onStateChange?: (state: BreakerStateName) => void,
): ProviderBreaker {
  /** True when the failure counts as "the provider is unwell"; opossum passes the `fire` arguments after the error. */
  const countsAsFailure = (error: unknown, signal: AbortSignal | undefined): boolean => {
    if (signal?.aborted === true || isAbortError(error)) return breaker.halfOpen;
    return isRetriable(error);
  };
  const breaker: CircuitBreaker<[() => Promise<unknown>, AbortSignal | undefined], unknown> = new CircuitBreaker(async (fn: () => Promise<unknown>, _signal: AbortSignal | undefined) => fn(), {
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    rollingCountTimeout: options.rollingWindowMs,
    rollingCountBuckets: options.rollingBuckets,
    resetTimeout: options.resetTimeoutMs,
    volumeThreshold: options.volumeThreshold,
    errorFilter: (error: unknown, _fn?: unknown, signal?: AbortSignal) => !countsAsFailure(error, signal),
    name: provider,
  });
  let current: BreakerStateName = "closed";
  const set = (state: BreakerStateName) => {
    current = state;
    onStateChange?.(state);
  };
  breaker.on("open", () => set("open"));
  breaker.on("halfOpen", () => set("half_open"));
  breaker.on("close", () => set("closed"));
  onStateChange?.("closed");
  return {
    provider,
    async fire<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      try {
        return (await breaker.fire(fn, signal)) as T;
      } catch (error) {
        if (error instanceof Error && (error as { code?: unknown }).code === "EOPENBREAKER") {
          throw new ProviderUnavailableError(provider, { cause: error });
        }
        throw error;
      }
    },
    state: () => current,
    shutdown: () => breaker.shutdown(),
  };
}
