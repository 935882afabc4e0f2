/**
 * Gauges that mirror state owned elsewhere (queue depth and age, breaker states) are refreshed
 * just before each `/metrics` scrape, through `createOpsHandler({ beforeScrape })`.
 */
import { BREAKER_STATE, type BreakerStatesSource, type Metrics } from "./metrics.ts";

/**
 * @example
 * addHandler(createOpsHandler({ health, metrics, beforeScrape: createScrapeRefresher({ metrics, queueStats: () => queue.stats() }) }));
 */
export function createScrapeRefresher(deps: {
  metrics: Metrics;
  queueStats?: () => Promise<{ depth: number; oldestAgeMs: number }>;
  breakerStates?: BreakerStatesSource;
}): () => Promise<void> {
  return async () => {
    const [queue, breakers] = await Promise.allSettled([deps.queueStats?.(), deps.breakerStates?.()]);
    if (queue.status === "fulfilled" && queue.value) {
      deps.metrics.queueDepth.set(queue.value.depth);
      deps.metrics.queueOldestAgeSeconds.set(Math.max(0, queue.value.oldestAgeMs) / 1000);
    }
    if (breakers.status === "fulfilled" && breakers.value) {
      for (const [provider, state] of Object.entries(breakers.value)) {
        deps.metrics.breakerState.set({ provider }, BREAKER_STATE[state]);
      }
    }
    const failed = [queue, breakers].find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  };
}
