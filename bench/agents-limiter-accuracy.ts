/**
 * Limiter accuracy: achieved requests per minute ÷ configured, for the in-process token bucket on
 * the real clock. A high rate over a short window so it runs in seconds. Target: within 5 %.
 *
 *   node bench/agents-limiter-accuracy.ts
 */
import { createTokenBucketLimiter } from "../src/resilience/token-bucket-limiter.ts";
import { systemClock } from "../src/workflows/ports.ts";

const WINDOW_MS = Number(process.env["WINDOW_MS"] ?? 3_000);

for (const { rpm, workers } of [
  { rpm: 6_000, workers: 1 },
  { rpm: 6_000, workers: 8 },
  { rpm: 30_000, workers: 4 },
  { rpm: 1_200, workers: 2 },
]) {
  // default burst (one second's worth); drained first so only the refill rate is measured
  const limiter = createTokenBucketLimiter({ requestsPerMinute: rpm, clock: systemClock });
  await limiter.acquire({ requests: Number.MAX_SAFE_INTEGER, tokens: 0 });
  let count = 0;
  const start = performance.now();
  const end = start + WINDOW_MS;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await limiter.acquire({ requests: 1, tokens: 0 });
        if (performance.now() <= end) count += 1;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const achieved = (count / Math.min(elapsed, WINDOW_MS)) * 60_000;
  console.log(`configured ${String(rpm).padStart(6)} req/min, ${workers} concurrent callers: achieved ${achieved.toFixed(0).padStart(6)} req/min → ratio ${(achieved / rpm).toFixed(3)}`);
}
