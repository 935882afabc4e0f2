/**
 * Wires ports to adapters and registers handlers. No logic lives here.
 */
import type { ApplicationFunction, Probot } from "probot";
import type { Logger } from "pino";
import type { Env } from "./config/env.ts";
import { createAgentRunner } from "./agents/agent-runner.ts";
import { rateLimiterForStore } from "./resilience/postgres-rate-limiter.ts";
import { createLateBoundClients, type GitHubClient, type GitHubClients } from "./github/client.ts";
import { createGitHubRunOutputs } from "./github/outputs/github-run-outputs.ts";
import { engineRunControl } from "./github/engine-run-control.ts";
import { createPermissionGate } from "./github/permission-gate.ts";
import { registerHandlers } from "./github/register-handlers.ts";
import { repoReaderFor } from "./github/repo-reader.ts";
import { createRepoSetupLoader } from "./github/repo-setup-loader.ts";
import type { HandlerDeps } from "./github/start-run.ts";
import { createHealth, type Health } from "./observability/health.ts";
import { createMetrics, type BreakerStatesSource, type Metrics } from "./observability/metrics.ts";
import { setupOperations } from "./observability/setup-operations.ts";
import { traceWebhooks } from "./observability/trace-webhooks.ts";
import { createGitHubProgressSink, type GitHubProgressSink } from "./github/progress/github-progress-sink.ts";
import { createQueueFor } from "./queue/create-queue.ts";
import { openStore } from "./store/open-store.ts";
import { composeSinks } from "./workflows/compose-sinks.ts";
import { createEngine, type Engine } from "./workflows/engine.ts";
import { loadBuiltinTemplates, type LoadedTemplate } from "./workflows/load-template.ts";
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
  /** Whether `octoflowApp` starts the queue worker and resumes unfinished runs (default true). */
  startWorkers: boolean;
  /** Called on shutdown, in reverse order of registration. */
  closers: (() => Promise<void>)[];
}

export interface RuntimeOptions {
  metrics?: Metrics;
  /** Defaults to `openStore(env)` (SQLite under ./data, or PostgreSQL). */
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
 * Builds the runtime: store, queue, agents, engine (with the GitHub progress sink), handler deps,
 * readiness checks and closers.
 *
 * @example
 * const runtime = await createRuntime(env, log);
 * await run(octoflowApp(runtime), { log });
 */
export async function createRuntime(env: Env, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const metrics = options.metrics ?? createMetrics();
  const health = createHealth();
  const clock = options.clock ?? systemClock;
  const closers: (() => Promise<void>)[] = [];

  const store = options.store ?? (await openStore(env));
  closers.push(() => store.close());
  const queue = await createQueueFor(env, store, { log, metrics, clock });
  closers.push(() => queue.stop());

  const clients = createLateBoundClients();
  let agents = options.agents;
  let breakerStates: BreakerStatesSource | undefined;
  if (!agents) {
    // On PostgreSQL the per-provider rate limits hold for the whole fleet, not per replica.
    const rateLimiterFor = rateLimiterForStore(store, clock);
    const service = createAgentRunner({
      env,
      store,
      repoReaderFor: repoReaderFor(clients),
      metrics,
      log,
      clock,
      ...(rateLimiterFor ? { rateLimiterFor } : {}),
    });
    closers.push(() => service.close());
    breakerStates = () => service.breakerStates();
    agents = service;
  }
  const progress = createGitHubProgressSink({
    clients,
    store,
    clock,
    log,
    metrics,
    ...(options.progressIntervalMs === undefined ? {} : { intervalMs: options.progressIntervalMs }),
  });
  const outputs = createGitHubRunOutputs({ clients, store, log });
  const engine = createEngine({ store, queue, agents, outputs, progress: composeSinks([progress], log), clock, log, metrics, concurrency: 4 });

  const handlerDeps: HandlerDeps = {
    store,
    runs: engineRunControl(engine),
    setups: createRepoSetupLoader({ builtins: options.builtins ?? loadBuiltinTemplates(), clock, ...(options.setupTtlMs === undefined ? {} : { ttlMs: options.setupTtlMs }) }),
    gate: createPermissionGate({ store, clock }),
    clock,
    log,
    metrics,
  };
  return {
    env,
    log,
    metrics,
    health,
    store,
    queue,
    engine,
    clients,
    progress,
    ...(breakerStates ? { breakerStates } : {}),
    handlerDeps,
    startWorkers: options.startWorkers ?? true,
    closers,
  };
}

/**
 * The Probot application function.
 *
 * @example
 * await run(octoflowApp(await createRuntime(env, log)), { log });
 */
export function octoflowApp(runtime: Runtime): ApplicationFunction {
  return async (app: Probot, { addHandler }) => {
    traceWebhooks(app.webhooks);
    const operations = setupOperations(runtime);
    addHandler(operations.opsHandler);
    addHandler(operations.dashboardHandler);
    runtime.clients.bind((installationId) => app.auth(installationId));
    registerHandlers(app, runtime.handlerDeps);

    app.webhooks.onAny(async (event) => {
      runtime.metrics.webhooks.inc({ event: event.name, outcome: "received" });
      // On the acknowledgement path of every delivery: build the log line only when debug is on.
      if (!runtime.log.isLevelEnabled("debug")) return;
      const payload = event.payload as { action?: string; repository?: { full_name?: string } };
      runtime.log.debug({ deliveryId: event.id, event: event.name, action: payload.action, repo: payload.repository?.full_name }, "webhook received");
    });
    app.webhooks.onError((error) => {
      runtime.metrics.webhooks.inc({ event: error.event?.name ?? "unknown", outcome: "error" });
      runtime.log.error({ err: error, deliveryId: error.event?.id }, "webhook handler failed");
    });

    if (runtime.startWorkers) {
      await runtime.queue.start(runtime.engine.execute);
      await runtime.engine.resumeUnfinished();
    }
  };
}
