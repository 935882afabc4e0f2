/**
 * The readiness checks `/readyz` runs: the store answers, the queue is running, at least one model
 * provider's circuit breaker is not open, and (detail only) which alerts are firing.
 */
import type { Queue, RunStore } from "../workflows/ports.ts";
import type { Health, HealthCheck } from "./health.ts";
import type { BreakerStatesSource } from "./metrics.ts";
import type { AlertEvaluator } from "./alerts.ts";

/** Fails when `store.ping()` rejects (or times out in `health`). */
export function storeCheck(store: Pick<RunStore, "ping">): HealthCheck {
  return async () => {
    await store.ping();
  };
}

/** Fails while the queue's workers are not running (before start, after stop). */
export function queueCheck(queue: Pick<Queue, "running" | "stats">): HealthCheck {
  return async () => {
    if (!queue.running()) return { ok: false, detail: { running: false } };
    const stats = await queue.stats();
    return { ok: true, detail: { running: true, depth: stats.depth, oldestAgeSeconds: Math.round(stats.oldestAgeMs / 1000) } };
  };
}

/**
 * Fails when every configured provider's breaker is open (no model can be reached); the detail
 * lists each provider's state. With no providers configured the check passes.
 */
export function providersCheck(breakerStates: BreakerStatesSource): HealthCheck {
  return async () => {
    const states = await breakerStates();
    const providers = Object.keys(states);
    const available = providers.filter((p) => states[p] !== "open");
    return { ok: providers.length === 0 || available.length > 0, detail: states };
  };
}

export interface ReadinessSources {
  store?: Pick<RunStore, "ping">;
  queue?: Pick<Queue, "running" | "stats">;
  breakerStates?: BreakerStatesSource;
  alerts?: Pick<AlertEvaluator, "healthCheck">;
}

/**
 * Registers the checks for whichever sources are given, under the names `store`, `queue`,
 * `providers` and `alerts`.
 *
 * @example
 * registerReadinessChecks(runtime.health, { store, queue, breakerStates: () => resilience.breakerStates(), alerts });
 */
export function registerReadinessChecks(health: Health, sources: ReadinessSources): void {
  if (sources.store) health.register("store", storeCheck(sources.store));
  if (sources.queue) health.register("queue", queueCheck(sources.queue));
  if (sources.breakerStates) health.register("providers", providersCheck(sources.breakerStates));
  if (sources.alerts) health.register("alerts", sources.alerts.healthCheck());
}
