/**
 * Wires ports to adapters and registers handlers. No logic lives here.
 */
import type { ApplicationFunction, Probot } from "probot";
import type { Logger } from "pino";
import type { Env } from "./config/env.ts";
import { createHealth, type Health } from "./observability/health.ts";
import { createMetrics, type Metrics } from "./observability/metrics.ts";
import { createOpsHandler } from "./observability/ops-handler.ts";

/** Everything the app's handlers need, built once per process (or per test). */
export interface Runtime {
  env: Env;
  log: Logger;
  metrics: Metrics;
  health: Health;
  /** Called on shutdown, in reverse order of registration. */
  closers: (() => Promise<void>)[];
}

export function createRuntime(env: Env, log: Logger, options: { metrics?: Metrics } = {}): Runtime {
  const metrics = options.metrics ?? createMetrics();
  const health = createHealth();
  return { env, log, metrics, health, closers: [] };
}

/**
 * The Probot application function.
 *
 * @example
 * await run(octoflowApp(createRuntime(env, log)), { log });
 */
export function octoflowApp(runtime: Runtime): ApplicationFunction {
  return (app: Probot, { addHandler }) => {
    addHandler(createOpsHandler({ health: runtime.health, metrics: runtime.metrics }));

    app.webhooks.onAny(async (event) => {
      const payload = event.payload as { action?: string; repository?: { full_name?: string } };
      runtime.log
        .child({ deliveryId: event.id, event: event.name, action: payload.action, repo: payload.repository?.full_name })
        .debug("webhook received");
      runtime.metrics.webhooks.inc({ event: event.name, outcome: "received" });
    });
    app.webhooks.onError((error) => {
      runtime.metrics.webhooks.inc({ event: error.event?.name ?? "unknown", outcome: "error" });
      runtime.log.error({ err: error, deliveryId: error.event?.id }, "webhook handler failed");
    });
  };
}
