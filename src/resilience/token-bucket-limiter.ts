/**
 * Rate limiting per provider: requests and tokens per minute, as two token buckets. The
 * `RateLimiter` interface is all callers see, so a fleet-wide implementation (PostgreSQL) can
 * replace the in-process one.
 */
import type { Clock } from "../workflows/ports.ts";

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
 * Creates an in-process limiter. Waiters are served first come, first served; a cost larger than
 * a bucket's capacity is clamped to it so a huge prompt waits instead of deadlocking.
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
  let tail: Promise<void> = Promise.resolve();

  const refill = () => {
    const now = clock.now();
    const elapsed = Math.max(0, now - last);
    last = now;
    for (const b of [requests, tokens]) if (b) b.level = Math.min(b.capacity, b.level + elapsed * b.ratePerMs);
  };

  const take = async (cost: { requests: number; tokens: number }, signal?: AbortSignal) => {
    const wantRequests = Math.min(requests.capacity, Math.max(0, cost.requests));
    const wantTokens = tokens ? Math.min(tokens.capacity, Math.max(0, cost.tokens)) : 0;
    for (;;) {
      signal?.throwIfAborted();
      refill();
      const waitRequests = deficitMs(requests, wantRequests);
      const waitTokens = tokens ? deficitMs(tokens, wantTokens) : 0;
      const wait = Math.max(waitRequests, waitTokens);
      if (wait <= 0) {
        requests.level -= wantRequests;
        if (tokens) tokens.level -= wantTokens;
        return;
      }
      await clock.sleep(Math.ceil(wait), signal);
    }
  };

  return {
    acquire(cost, signal) {
      const previous = tail;
      let release!: () => void;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      const run = async () => {
        try {
          await waitFor(previous, signal);
          await take(cost, signal);
        } finally {
          release();
        }
      };
      return run();
    },
  };
}

function bucket(perMinute: number, capacity: number): Bucket {
  if (!(perMinute > 0)) throw new RangeError("rate limits must be positive numbers per minute");
  return { ratePerMs: perMinute / 60_000, capacity, level: capacity };
}

function deficitMs(b: Bucket, want: number): number {
  const missing = want - b.level;
  return missing <= 1e-9 ? 0 : missing / b.ratePerMs;
}

function waitFor(previous: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return previous;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    void previous.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
