/**
 * Wires the operational side of one app instance from whatever the runtime has: readiness checks
 * (store, queue, providers, alerts), the in-process alert evaluator, `/metrics` gauge refresh,
 * the ops endpoints and the runs dashboard. Sources that are not there are skipped (checks already
 * registered under the same name stay); breaker alerts then read the breaker gauge.
 */
import type { Logger } from "pino";
import type { ApplicationFunctionOptions } from "probot";
import type { Env } from "../config/env.ts";
import type { Clock, Queue, RunStore } from "../workflows/ports.ts";
import type { Health } from "./health.ts";
import { breakerStatesFromGauge, type BreakerStates, type BreakerStatesSource, type Metrics } from "./metrics.ts";
import { createAlertEvaluator, type AlertEvaluator, type AlertThresholds } from "./alerts.ts";
import { createDashboardHandler } from "./dashboard-handler.ts";
import { createOpsHandler } from "./ops-handler.ts";
import { registerReadinessChecks } from "./readiness-checks.ts";
import { githubWebUrl } from "./run-view.ts";
import { createScrapeRefresher } from "./scrape-refresher.ts";

/** A Probot `addHandler` handler. */
export type Handler = Parameters<ApplicationFunctionOptions["addHandler"]>[0];

export interface OperationsDeps {
  env: Pick<Env, "DASHBOARD_TOKEN" | "ALERT_WEBHOOK_URL" | "GHE_HOST" | "GHE_PROTOCOL">;
  log: Logger;
  metrics: Metrics;
  health: Health;
  /** Shutdown hooks; the alert evaluator's `stop` is added here. */
  closers: (() => Promise<void>)[];
  store?: RunStore;
  queue?: Pick<Queue, "running" | "stats">;
  /** Anything with `breakerStates()`, e.g. the provider resilience from `src/resilience`. */
  resilience?: { breakerStates(): BreakerStates };
  breakerStates?: BreakerStatesSource;
  clock?: Pick<Clock, "now">;
  fetchImpl?: typeof fetch;
  thresholds?: Partial<AlertThresholds>;
  /** How often alerts are evaluated; default 15 s. 0 disables the timer (tests call `evaluate`). */
  alertIntervalMs?: number;
}

export interface Operations {
  /** `/healthz`, `/readyz`, `/metrics`. */
  opsHandler: Handler;
  /** `/dashboard`, `/api/runs`, `/api/runs/:id` (404 without DASHBOARD_TOKEN or without a store). */
  dashboardHandler: Handler;
  alerts: AlertEvaluator;
}

/**
 * @example
 * // in the Probot app function
 * const operations = setupOperations(runtime);
 * addHandler(operations.opsHandler);
 * addHandler(operations.dashboardHandler);
 */
export function setupOperations(deps: OperationsDeps): Operations {
  const resilience = deps.resilience;
  const breakerStates: BreakerStatesSource | undefined = deps.breakerStates ?? (resilience ? () => resilience.breakerStates() : undefined);
  const queue = deps.queue;
  const store = deps.store;
  const now = () => deps.clock?.now() ?? Date.now();
  const queueStats = queue ? () => queue.stats() : store ? () => store.queueStats(now()) : undefined;

  const alerts = createAlertEvaluator({
    metrics: deps.metrics,
    log: deps.log,
    webhookUrl: deps.env.ALERT_WEBHOOK_URL,
    // without a live source, read what src/resilience last wrote to the breaker gauge
    sources: { breakerStates: breakerStates ?? (() => breakerStatesFromGauge(deps.metrics)), ...(queueStats ? { queueStats } : {}) },
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    ...(deps.thresholds ? { thresholds: deps.thresholds } : {}),
  });
  const interval = deps.alertIntervalMs ?? 15_000;
  if (interval > 0) {
    alerts.start(interval);
    deps.closers.push(() => alerts.stop());
  }

  registerReadinessChecks(deps.health, {
    ...(deps.store ? { store: deps.store } : {}),
    ...(queue ? { queue } : {}),
    ...(breakerStates ? { breakerStates } : {}),
    alerts,
  });

  const opsHandler = createOpsHandler({
    health: deps.health,
    metrics: deps.metrics,
    beforeScrape: createScrapeRefresher({
      metrics: deps.metrics,
      ...(queueStats ? { queueStats } : {}),
      ...(breakerStates ? { breakerStates } : {}),
    }),
  });

  const dashboardHandler: Handler = deps.store
    ? createDashboardHandler({
        store: deps.store,
        metrics: deps.metrics,
        token: deps.env.DASHBOARD_TOKEN,
        githubUrl: githubWebUrl(deps.env),
        log: deps.log,
        ...(breakerStates ? { breakerStates } : {}),
        ...(deps.clock ? { clock: deps.clock } : {}),
      })
    : createDashboardHandler({ store: unavailableStore, metrics: deps.metrics, token: undefined });

  return { opsHandler, dashboardHandler, alerts };
}

/** Used when no store is wired: with `token: undefined` the dashboard answers 404 before touching it. */
const unavailableStore: Pick<RunStore, "listRuns" | "getRun" | "getSteps" | "listEvents"> = {
  listRuns: () => Promise.reject(new Error("no run store")),
  getRun: () => Promise.reject(new Error("no run store")),
  getSteps: () => Promise.reject(new Error("no run store")),
  listEvents: () => Promise.reject(new Error("no run store")),
};
