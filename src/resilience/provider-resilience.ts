/**
 * Composes the resilience policies for every provider: rate limiter → circuit breaker → call,
 * the whole wrapped in retry (the one retry layer of a model or Codegen call). Errors are classified
 * once, here, so every caller sees our error classes; a call whose retries ran out ends with a
 * `RetriesExhaustedError` ("The model provider openai failed after 4 attempts: …") that no step
 * retries again. Metrics (`breakerState`, `limiterWaitSeconds`) are recorded here too.
 */
import type { Metrics } from "../observability/metrics.ts";
import { BREAKER_STATE } from "../observability/metrics.ts";
import type { Clock } from "./clock.ts";
import { classifyError } from "./classify-error.ts";
import { createCircuitBreaker, DEFAULT_BREAKER_OPTIONS, type BreakerOptions, type BreakerStateName, type ProviderBreaker } from "./circuit-breaker.ts";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryInfo, type RetryPolicy } from "./retry-policy.ts";
import { createTokenBucketLimiter, type RateLimiter } from "./token-bucket-limiter.ts";

/** Requests and tokens per minute for one provider. */
export interface ProviderLimits {
  requestsPerMinute: number;
  tokensPerMinute?: number;
  burstRequests?: number;
}

export const DEFAULT_LIMITS: Record<string, ProviderLimits> = {
  openai: { requestsPerMinute: 500, tokensPerMinute: 200_000 },
  anthropic: { requestsPerMinute: 50, tokensPerMinute: 40_000 },
  "openai-compatible": { requestsPerMinute: 600 },
  // Codegen's documented limit for standard endpoints: 60 requests / 30 s
  codegen: { requestsPerMinute: 120, burstRequests: 10 },
};

export interface ResilienceOptions {
  clock: Clock;
  metrics?: Pick<Metrics, "breakerState" | "limiterWaitSeconds">;
  retry?: Partial<RetryPolicy>;
  breaker?: Partial<BreakerOptions>;
  /** Limits per provider name, merged over `DEFAULT_LIMITS`. */
  limits?: Record<string, ProviderLimits>;
  /** Supplies a limiter per provider (e.g. fleet-wide); defaults to an in-process token bucket. */
  rateLimiterFor?: (provider: string, limits: ProviderLimits) => RateLimiter;
  /** Random source for jitter. */
  random?: () => number;
}

export interface CallOptions {
  /** Estimated cost for the limiter. */
  cost: { requests: number; tokens: number };
  signal: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  /**
   * False for a call that creates something (Codegen's "create an agent run"): it is retried only
   * when the server certainly did not process it (429, 408, connection refused), never after a 5xx
   * or a cut connection that may have created it already. Default true.
   */
  idempotent?: boolean;
}

/** True when a failed request certainly had no effect on the server, so sending it again is safe. */
export function certainlyNotProcessed(error: Error): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const status = (current as { status?: unknown }).status;
    if (status === 429 || status === 408) return true;
    if ((current as { code?: unknown }).code === "ECONNREFUSED") return true;
    current = current.cause;
  }
  return false;
}

export interface ProviderResilience {
  /**
   * Runs `call` for `provider` with limiter, breaker and retry. `call` receives the attempt number
   * and must pass `signal` to its HTTP request.
   */
  run<T>(provider: string, call: (attempt: number) => Promise<T>, options: CallOptions): Promise<T>;
  /** Attempts one call may make (the first one included). */
  readonly maxAttempts: number;
  breakerStates(): Record<string, BreakerStateName>;
  close(): void;
}

/**
 * Creates the per-provider policies lazily on first use.
 *
 * @example
 * const resilience = createProviderResilience({ clock: systemClock, metrics });
 * const text = await resilience.run("openai", () => model.call(signal), { cost: { requests: 1, tokens: 900 }, signal });
 */
export function createProviderResilience(options: ResilienceOptions): ProviderResilience {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const breakerOptions: BreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, ...options.breaker };
  const breakers = new Map<string, ProviderBreaker>();
  const limiters = new Map<string, RateLimiter>();
  const { clock, metrics } = options;

  const breakerFor = (provider: string) => {
    let breaker = breakers.get(provider);
    if (!breaker) {
      breaker = createCircuitBreaker(provider, breakerOptions, (state) => metrics?.breakerState.set({ provider }, BREAKER_STATE[state]));
      breakers.set(provider, breaker);
    }
    return breaker;
  };
  const limiterFor = (provider: string) => {
    let limiter = limiters.get(provider);
    if (!limiter) {
      const limits = options.limits?.[provider] ?? DEFAULT_LIMITS[provider] ?? { requestsPerMinute: 300 };
      limiter = options.rateLimiterFor
        ? options.rateLimiterFor(provider, limits)
        : createTokenBucketLimiter({
            requestsPerMinute: limits.requestsPerMinute,
            ...(limits.tokensPerMinute === undefined ? {} : { tokensPerMinute: limits.tokensPerMinute }),
            ...(limits.burstRequests === undefined ? {} : { burstRequests: limits.burstRequests }),
            clock,
          });
      limiters.set(provider, limiter);
    }
    return limiter;
  };

  return {
    maxAttempts: policy.retries + 1,
    run(provider, call, callOptions) {
      const breaker = breakerFor(provider);
      const limiter = limiterFor(provider);
      return withRetry(
        async (attempt) => {
          const waitStart = clock.now();
          await limiter.acquire(callOptions.cost, callOptions.signal);
          metrics?.limiterWaitSeconds.observe({ provider }, (clock.now() - waitStart) / 1000);
          return breaker.fire(async () => {
            try {
              return await call(attempt);
            } catch (error) {
              if (callOptions.signal.aborted) throw callOptions.signal.reason;
              throw classifyError(error, provider, clock.now());
            }
          }, callOptions.signal);
        },
        {
          policy,
          service: provider,
          label: provider === "codegen" ? "Codegen" : `The model provider ${provider}`,
          sleep: clock.sleep,
          ...(options.random ? { random: options.random } : {}),
          signal: callOptions.signal,
          ...(callOptions.onRetry ? { onRetry: callOptions.onRetry } : {}),
          ...(callOptions.idempotent === false ? { retryIf: certainlyNotProcessed } : {}),
        },
      );
    },
    breakerStates() {
      const out: Record<string, BreakerStateName> = {};
      for (const [name, breaker] of breakers) out[name] = breaker.state();
      return out;
    },
    close() {
      for (const breaker of breakers.values()) breaker.shutdown();
      breakers.clear();
    },
  };
}
