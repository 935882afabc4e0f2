import { describe, expect, it } from "vitest";
import { createTokenBucketLimiter } from "../../src/resilience/token-bucket-limiter.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";

describe("token bucket limiter", () => {
  it("paces requests at the configured rate after the burst", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 120, burstRequests: 2, clock });
    const start = clock.now();
    for (let i = 0; i < 12; i++) await limiter.acquire({ requests: 1, tokens: 0 });
    // 2 from the burst, then one every 500 ms
    expect(clock.now() - start).toBe(5_000);
    expect(clock.sleeps.every((ms) => ms === 500)).toBe(true);
  });

  it("limits tokens per minute too, and clamps a cost larger than the bucket", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 10_000, tokensPerMinute: 6_000, burstTokens: 1_000, burstRequests: 100, clock });
    await limiter.acquire({ requests: 1, tokens: 1_000 });
    expect(clock.sleeps).toEqual([]);
    await limiter.acquire({ requests: 1, tokens: 500 });
    expect(clock.sleeps).toEqual([5_000]); // 500 tokens at 100 tokens/s
    await limiter.acquire({ requests: 1, tokens: 50_000 });
    expect(clock.sleeps.at(-1)).toBe(10_000); // clamped to the 1,000-token bucket
  });

  it("serves waiters first come, first served", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 60, burstRequests: 1, clock });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => limiter.acquire({ requests: 1, tokens: 0 }).then(() => order.push(n))));
    expect(order).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([1_000, 2_000]); // reserved in order: the third waits for the second

  });

  it("a late timer does not lose capacity (the schedule is absolute)", async () => {
    const clock = createFakeClock();
    const lateClock = { ...clock, sleep: async (ms: number) => clock.sleep(ms + 3) }; // every timer fires 3 ms late
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 6_000, burstRequests: 1, clock: lateClock });
    const start = clock.now();
    for (let i = 0; i < 101; i++) await limiter.acquire({ requests: 1, tokens: 0 });
    // 100 paced requests at 10 ms each: lateness is absorbed, not accumulated
    expect(clock.now() - start).toBeLessThanOrEqual(1_000 + 3);
  });

  it("a cancelled wait gives its reservation back", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 60, burstRequests: 1, clock });
    await limiter.acquire({ requests: 1, tokens: 0 });
    const controller = new AbortController();
    const cancelled = limiter.acquire({ requests: 1, tokens: 0 }, controller.signal);
    controller.abort(new Error("stop"));
    await expect(cancelled).rejects.toThrow("stop");
    await limiter.acquire({ requests: 1, tokens: 0 });
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it("a cancelled waiter rejects and does not block the next one", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 60, burstRequests: 1, clock });
    await limiter.acquire({ requests: 1, tokens: 0 });
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(limiter.acquire({ requests: 1, tokens: 0 }, controller.signal)).rejects.toThrow("cancelled");
    await limiter.acquire({ requests: 1, tokens: 0 });
    expect(clock.sleeps).toEqual([1_000]);
  });

  it("a cost that is not a number counts as zero instead of corrupting the bucket", async () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketLimiter({ requestsPerMinute: 60, tokensPerMinute: 6_000, burstRequests: 1, burstTokens: 100, clock });
    await limiter.acquire({ requests: 1, tokens: Number.NaN });
    await limiter.acquire({ requests: Number.POSITIVE_INFINITY, tokens: 100 });
    await limiter.acquire({ requests: 1, tokens: 100 });
    expect(clock.sleeps).toEqual([1_000]); // only the third waits: the garbage costs were free, the bucket still works
  });

  it("rejects nonsense limits", () => {
    expect(() => createTokenBucketLimiter({ requestsPerMinute: 0, clock: createFakeClock() })).toThrow(RangeError);
    expect(() => createTokenBucketLimiter({ requestsPerMinute: Number.POSITIVE_INFINITY, clock: createFakeClock() })).toThrow(RangeError);
    expect(() => createTokenBucketLimiter({ requestsPerMinute: 60, tokensPerMinute: Number.NaN, clock: createFakeClock() })).toThrow(RangeError);
  });
});
