/**
 * Rate limiting per provider: requests and tokens per minute, as two token buckets. The
 * `RateLimiter` interface is all callers see, so a fleet-wide implementation (PostgreSQL) can
 * replace the in-process one.
 */
import type { Clock } from "./clock.ts";

/** Waits until `cost` fits the provider's limits; rejects with the signal's reason on cancel. */
export interface RateLimiter {
  acquire(cost: { requests: number; tokens: number }, signal?: AbortSignal): Promise<void>;
}

export interface TokenBucketOptions {
  requestsPerMinute: number;
  /** Omit for no token limit. */
  tokensPerMinute?: number;
  /** Bucket capacity in requests (burst); default one second's worth (at least 1). */
  burstRequests?: number;
  /** Bucket capacity in tokens; default ten seconds' worth. */
  burstTokens?: number;
  clock: Clock;
}

interface Bucket {
  ratePerMs: number;
  capacity: number;
  level: number;
}

/**
 * Creates an in-process limiter. A caller reserves its cost at once (the bucket may go below
 * zero) and sleeps until the reservation is covered, so callers are served first come, first
 * served and a late timer never loses capacity: the schedule is kept in absolute time. A cost
 * larger than a bucket's capacity is clamped to it so a huge prompt waits instead of deadlocking;
 * a cancelled wait gives its reservation back.
 *
 * @example
 * const limiter = createTokenBucketLimiter({ requestsPerMinute: 500, tokensPerMinute: 200_000, clock: systemClock });
 * await limiter.acquire({ requests: 1, tokens: 1_200 }, signal);
 */
export function createTokenBucketLimiter(options: TokenBucketOptions): RateLimiter {
  const { clock } = options;
  const requests = bucket(options.requestsPerMinute, options.burstRequests ?? Math.max(1, Math.ceil(options.requestsPerMinute / 60)));
  const tokens =
    options.tokensPerMinute === undefined
      ? undefined
      : bucket(options.tokensPerMinute, options.burstTokens ?? Math.max(1, Math.ceil(options.tokensPerMinute / 6)));
  let last = clock.now();

  const refill = () => {
    const now = clock.now();
    const elapsed = Math.max(0, now - last);
    last = now;
    for (const b of [requests, tokens]) if (b) b.level = Math.min(b.capacity, b.level + elapsed * b.ratePerMs);
  };

  return {
    async acquire(cost, signal) {
      signal?.throwIfAborted();
      // a NaN or infinite estimate would poison a bucket for good (every later wait NaN): count it as 0
      const amount = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
      const wantRequests = Math.min(requests.capacity, amount(cost.requests));
      const wantTokens = tokens ? Math.min(tokens.capacity, amount(cost.tokens)) : 0;
      refill();
      requests.level -= wantRequests;
      if (tokens) tokens.level -= wantTokens;
      const wait = Math.max(deficitMs(requests), tokens ? deficitMs(tokens) : 0);
      if (wait <= 0) return;
      try {
        await clock.sleep(Math.ceil(wait), signal);
      } catch (error) {
        refill();
        requests.level = Math.min(requests.capacity, requests.level + wantRequests);
        if (tokens) tokens.level = Math.min(tokens.capacity, tokens.level + wantTokens);
        throw error;
      }
    },
  };
}

function bucket(perMinute: number, capacity: number): Bucket {
  if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new RangeError("rate limits must be positive, finite numbers per minute");
  return { ratePerMs: perMinute / 60_000, capacity, level: capacity };
}

/** Time until a bucket that may be below zero is back at zero. */
function deficitMs(b: Bucket): number {
  return b.level >= -1e-9 ? 0 : -b.level / b.ratePerMs;
}
