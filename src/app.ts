/**
 * Wires ports to adapters and registers handlers. No logic lives here.
 */
import type { ApplicationFunction, Probot } from "probot";
import type { Logger } from "pino";
import { composeCore } from "./compose/compose-core.ts";
import { backendOver, openBackend, parseDatabaseUrl } from "./compose/open-backend.ts";
import type { Env } from "./config/env.ts";
import { createLateBoundClients, type GitHubClient, type GitHubClients } from "./github/client.ts";
import { createDeliveryDispatcher, registerInbox } from "./github/webhook-inbox-path.ts";
import { createWebhookInbox, type WebhookInbox } from "./queue/webhook-inbox.ts";
import type { HandlerDeps } from "./github/start-run.ts";
import { createHealth, type Health } from "./observability/health.ts";
import { createMetrics, type BreakerStatesSource, type Metrics } from "./observability/metrics.ts";
import { setupOperations } from "./observability/setup-operations.ts";
import { traceWebhooks } from "./observability/trace-webhooks.ts";
import { guardWebhooks, withoutPayload } from "./github/validate-delivery.ts";
import type { GitHubProgressSink } from "./github/progress/github-progress-sink.ts";
import { sweepUnreportedRuns } from "./github/progress/sweep-unreported-runs.ts";
import type { Engine } from "./workflows/engine.ts";
import type { LoadedTemplate } from "./workflows/load-template.ts";
import { systemClock, type AgentRunner, type Clock, type Queue, type RunStore } from "./workflows/ports.ts";

/** Everything the app's handlers need, built once per process (or per test). */
export interface Runtime {
  env: Env;
  log: Logger;
  metrics: Metrics;
  health: Health;
  store: RunStore;
  queue: Queue;
  engine: Engine;
  /** Installation clients for work done outside a webhook (bound to Probot when the app loads). */
  clients: GitHubClients & { bind(auth: (installationId: number) => Promise<GitHubClient>): void };
  progress: GitHubProgressSink;
  /** Circuit-breaker state per provider, for /readyz, alerts and /metrics (absent with injected agents). */
  breakerStates?: BreakerStatesSource;
  handlerDeps: HandlerDeps;
  /** The webhook inbox's worker (D13): processes the deliveries the acknowledgement path stored. */
  inbox: WebhookInbox;
  /** Whether `octoflowApp` starts the queue worker and resumes unfinished runs (default true). */
  startWorkers: boolean;
  /** Called on shutdown, in reverse order of registration. */
  closers: (() => Promise<void>)[];
}

export interface RuntimeOptions {
  metrics?: Metrics;
  /** A store to use instead of the one `DATABASE_URL` selects (tests): it gets the embedded queue. */
  store?: RunStore;
  /** Defaults to the real agent runner over the configured providers. */
  agents?: AgentRunner;
  clock?: Clock;
  /** Least time between two writes to one progress surface (default 5000 ms). */
  progressIntervalMs?: number;
  /** How long a repository's config and templates are cached (default 30 s). */
  setupTtlMs?: number;
  builtins?: LoadedTemplate[];
  startWorkers?: boolean;
}

/**
 * Builds the app's runtime: opens the backend `DATABASE_URL` names, composes the core over
 * installation clients bound to Probot later, and adds health and the shutdown list.
 *
 * @example
 * const runtime = await createRuntime(env, log);
 * await run(octoflowApp(runtime), { log });
 */
export async function createRuntime(env: Env, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const metrics = options.metrics ?? createMetrics();
  const clock = options.clock ?? systemClock;
  const backendOptions = { runsPerProcess: env.OCTOFLOW_CONCURRENCY, leaseMs: env.OCTOFLOW_QUEUE_LEASE_MS, log, metrics, clock };
  const backend = options.store ? backendOver(options.store, backendOptions) : await openBackend(parseDatabaseUrl(env.DATABASE_URL), backendOptions);
  const queue = backend.queue;
  if (!queue) throw new Error("the app's backend has no queue");
  const clients = createLateBoundClients();
  let core;
  try {
    core = composeCore({
      env,
      clients,
      backend,
      clock,
      log,
      metrics,
      ...(options.agents ? { agents: options.agents } : {}),
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
      ...(options.setupTtlMs === undefined ? {} : { setupTtlMs: options.setupTtlMs }),
      ...(options.builtins ? { builtins: options.builtins } : {}),
    });
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw error;
  }
  const inbox = createWebhookInbox({ store: core.store, process: createDeliveryDispatcher(core.handlerDeps, clients, log), clock, log });
  return {
    env,
    log,
    metrics,
    inbox,
    health: createHealth(),
    store: core.store,
    queue,
    engine: core.engine,
    clients,
    progress: core.github,
    ...(core.breakerStates ? { breakerStates: core.breakerStates } : {}),
    handlerDeps: core.handlerDeps,
    startWorkers: options.startWorkers ?? true,
    // closed in reverse: the inbox worker stops before the store closes
    closers: [() => core.close(), () => inbox.stop()],
  };
}

/** How often finished runs whose check run was never completed are looked for. */
const SWEEP_INTERVAL_MS = 2 * 60_000;

/**
 * The Probot application function.
 *
 * @example
 * await run(octoflowApp(await createRuntime(env, log)), { log });
 */
export function octoflowApp(runtime: Runtime): ApplicationFunction {
  return async (app: Probot, { addHandler }) => {
    traceWebhooks(app.webhooks);
    guardWebhooks(app.webhooks, { onRefused: (event) => runtime.metrics.webhooks.inc({ event, outcome: "refused" }) });
    const operations = setupOperations(runtime);
    addHandler(operations.opsHandler);
    addHandler(operations.dashboardHandler);
    runtime.clients.bind((installationId) => app.auth(installationId));
    registerInbox(app, { store: runtime.store, inbox: runtime.inbox, clock: runtime.handlerDeps.clock, log: runtime.log, metrics: runtime.metrics });
    runtime.inbox.start();

    app.webhooks.onAny(async (event) => {
      runtime.metrics.webhooks.inc({ event: event.name, outcome: "received" });
      // On the acknowledgement path of every delivery: build the log line only when debug is on.
      if (!runtime.log.isLevelEnabled("debug")) return;
      const payload = event.payload as { action?: string; repository?: { full_name?: string } };
      runtime.log.debug({ deliveryId: event.id, event: event.name, action: payload.action, repo: payload.repository?.full_name }, "webhook received");
    });
    app.webhooks.onError((error) => {
      const { id: deliveryId, name: event = "unknown" } = error.event ?? {};
      runtime.metrics.webhooks.inc({ event, outcome: "error" });
      runtime.log.error({ deliveryId, event, err: withoutPayload(error) }, "webhook handler failed");
    });

    if (runtime.startWorkers) {
      await runtime.queue.start(runtime.engine.execute);
      await runtime.engine.resumeUnfinished();
      // Final check-run / comment writes a crash interrupted are finished from the run record.
      const sweep = () =>
        void sweepUnreportedRuns({ store: runtime.store, progress: runtime.progress, log: runtime.log, now: Date.now() }).catch((error: unknown) =>
          runtime.log.warn({ err: error }, "sweeping unreported runs failed"),
        );
      sweep();
      const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
      timer.unref();
      runtime.closers.push(async () => clearInterval(timer));
    }
  };
}
