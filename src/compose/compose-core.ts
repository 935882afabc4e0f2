/**
 * The composition root: the one place the core is wired from its adapters. The Probot app
 * (`src/app.ts`), `octoflow run` / `octoflow action` (`src/cli/cli-runtime.ts`) and `octoflow replay`
 * (`src/cli/replay-deps.ts`) all call `composeCore`; they differ only in the GitHub clients they
 * pass (installation clients, one token client, a client that intercepts writes), the backend they
 * open, and extra progress sinks (the terminal).
 */
import { dirname, join, resolve } from "node:path";
import type { Logger } from "pino";
import { createAgentRunner, type AgentRunnerDeps } from "../agents/agent-runner.ts";
import type { Env } from "../config/env.ts";
import { createCiGate } from "../github/ci/ci-gate.ts";
import type { GitHubClients } from "../github/client.ts";
import { engineRunControl } from "../github/engine-run-control.ts";
import { refusePath } from "../github/outputs/edit-paths.ts";
import { createGitHubRunOutputs } from "../github/outputs/github-run-outputs.ts";
import { createPermissionGate } from "../github/permission-gate.ts";
import { repoReaderFor } from "../github/repo-reader.ts";
import { repositorySourceFor } from "../github/repository-source.ts";
import { createRepoSetupLoader, type RepoSetupLoader } from "../github/repo-setup-loader.ts";
import type { HandlerDeps } from "../github/start-run.ts";
import type { BreakerStatesSource, Metrics } from "../observability/metrics.ts";
import { createGitHubProgressSink, type GitHubProgressSink } from "../github/progress/github-progress-sink.ts";
import { composeSinks } from "../workflows/compose-sinks.ts";
import { createEngine, type Engine } from "../workflows/engine.ts";
import { loadBuiltinTemplates, type LoadedTemplate } from "../workflows/load-template.ts";
import type { AgentRunner, Clock, ProgressSink, Queue, RunOutputs, RunStore } from "../workflows/ports.ts";
import { createRunWorkspaces, type WorkspaceService } from "../workspace/run-workspaces.ts";
import type { Backend, BackendLocation } from "./open-backend.ts";
import { createCheckoutGates } from "../checkout/checkout-gates.ts";
import { routeStepGates, type StepGateRoutes } from "./route-step-gates.ts";

export interface CoreInputs {
  /** The parsed environment; `OCTOFLOW_STEP_CONCURRENCY` bounds the steps of one run at once. */
  env: Env;
  /** GitHub clients by installation: Probot's (app), one token client (CLI), an intercepting one (replay). */
  clients: GitHubClients;
  /** Store, queue and provider limits from `openBackend`; the core owns it from here (`close()`). */
  backend: Backend;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Sinks that see every run event before GitHub's check run + sticky comment (the CLI's terminal). */
  extraSinks?: readonly ProgressSink[];
  /** Least time between two writes to one GitHub progress surface (default 5000 ms). */
  progressIntervalMs?: number;
  /** How long a repository's config and templates are cached (default 30 s). */
  setupTtlMs?: number;
  /** Built-in workflow templates (default: `workflows/*.yml`). */
  builtins?: readonly LoadedTemplate[];
  /** Replaces the agent runner over the configured providers (tests, benchmarks). */
  agents?: AgentRunner;
  /**
   * Where repository snapshots are cached on disk (null: in memory only). Default: `snapshots/` beside
   * the SQLite database, `./data/snapshots` with PostgreSQL, none with an in-memory backend.
   */
  snapshotDir?: string | null;
  /** `null`: no run workspace; the agents read through the repository reader (tests that have no GitHub). */
  workspaces?: null;
  /** Tunables of the real agent runner (tests shorten the retry backoff). */
  agentOptions?: Partial<Pick<AgentRunnerDeps, "retry" | "budgets" | "openaiApi">>;
  /**
   * Given by the CLI and the Action, never by the App (DESIGN D15): `uses: command` and `uses: ci` steps
   * run `checkout.commands` of `.github/octoflow.yml` in a copy of the runner's checkout `dir` (none
   * found: command steps fail and `uses: ci` ends neutral, each saying why). Without it, command steps
   * fail with `COMMAND_STEPS_REFUSED`.
   */
  checkout?: CheckoutInputs;
}

export interface CheckoutInputs {
  /** The runner's checkout of the repository; undefined when there is none. */
  dir: string | undefined;
  /** Why there is no checkout (shown on the steps that needed one). */
  missing?: string;
  /** The runner's environment, from which the commands' one is made (secrets withheld). */
  env: Readonly<Record<string, string | undefined>>;
  /** Bytes of a command's output kept (default 64 KB, the end). */
  maxOutputBytes?: number;
  /** Where the throw-away copies go (default: the OS temporary folder). */
  tmpRoot?: string;
}

/** The wired core. Every part is built once; `close()` releases them in reverse order. */
export interface Core {
  store: RunStore;
  /** Undefined when the backend was opened without one (the CLI executes runs itself). */
  queue: Queue | undefined;
  agents: AgentRunner;
  engine: Engine;
  /** Delivers a run's results (pull request, review, comments) from the engine's finaliser. */
  outputs: RunOutputs;
  /** The run workspaces (DESIGN D11): step views for the agents, commit contents for the outputs. */
  workspaces: WorkspaceService;
  /** The check run + sticky comment sink. */
  github: GitHubProgressSink;
  /** What the webhook handlers are given; `runs` starts runs through the engine. */
  handlerDeps: HandlerDeps;
  /** Circuit-breaker state per provider (absent with injected agents). */
  breakerStates?: BreakerStatesSource;
  /** Closes the agent runner's connections, then the backend (queue workers, store). */
  close(): Promise<void>;
}

/**
 * Builds the core: the run workspaces, agents over the providers (with the backend's fleet-wide
 * limits), the GitHub outputs and progress sink, the engine over store + queue + outputs + sinks,
 * and the handlers' dependencies.
 *
 * To add a component, do what `outputs` and `workspaces` do: build it here from the inputs it needs
 * (`clients`, `backend.store`, `clock`, `log`, `metrics`), pass it to `createEngine` (or into
 * `handlerDeps`, or to the component that uses it), add it to `Core` if a caller needs it, and push
 * its cleanup onto `closers`. Give it an optional field in `CoreInputs` only when a caller must
 * replace or configure it (tests, `snapshotDir`); callers never wire it themselves.
 *
 * @example
 * const backend = await openBackend(parseDatabaseUrl(env.DATABASE_URL), { runsPerProcess: env.OCTOFLOW_CONCURRENCY, log, metrics });
 * const core = composeCore({ env, clients, backend, clock: systemClock, log, metrics });
 * await core.queue?.start(core.engine.execute);
 * // on shutdown
 * await core.close();
 */
export function composeCore(inputs: CoreInputs): Core {
  const { env, clients, backend, clock, log, metrics } = inputs;
  const { store, queue } = backend;
  const closers: (() => Promise<void>)[] = [() => backend.close()];

  const snapshotDir = inputs.snapshotDir === undefined ? defaultSnapshotDir(backend.location) : inputs.snapshotDir;
  const workspaces = createRunWorkspaces({
    store,
    sourceFor: repositorySourceFor(clients, store),
    refusePath,
    snapshots: snapshotDir === null ? {} : { dir: snapshotDir },
    log,
  });

  let agents = inputs.agents;
  let breakerStates: BreakerStatesSource | undefined;
  if (!agents) {
    const service = createAgentRunner({
      env,
      store,
      repoReaderFor: repoReaderFor(clients),
      metrics,
      log,
      clock,
      ...(backend.rateLimiterFor ? { rateLimiterFor: backend.rateLimiterFor } : {}),
      ...(inputs.workspaces === null ? {} : { workspaces }),
      ...inputs.agentOptions,
    });
    closers.push(() => service.close());
    breakerStates = () => service.breakerStates();
    agents = service;
  }

  const github = createGitHubProgressSink({
    clients,
    store,
    clock,
    log,
    metrics,
    ...(inputs.progressIntervalMs === undefined ? {} : { intervalMs: inputs.progressIntervalMs }),
  });
  const outputs = createGitHubRunOutputs({ clients, store, log, workspaces, metrics });
  const setups = createRepoSetupLoader({ builtins: inputs.builtins ?? loadBuiltinTemplates(), clock, ...(inputs.setupTtlMs === undefined ? {} : { ttlMs: inputs.setupTtlMs }) });
  const appId = env.APP_ID === undefined ? undefined : Number(env.APP_ID);
  // the App (no checkout) waits for the repository's CI on GitHub; the CLI and the Action run commands in their checkout
  const ciGate = createCiGate({ clients, clock, log, pollMs: env.OCTOFLOW_CI_POLL_MS, ...(appId === undefined ? {} : { appId }) });
  const gates = routeStepGates(inputs.checkout ? checkoutRoutes(inputs.checkout, { clients, setups, workspaces, log, exclude: ownFiles(backend.location, snapshotDir) }) : { ci: ciGate });
  const engine = createEngine({
    store,
    ...(queue ? { queue } : {}),
    agents,
    outputs,
    gates,
    progress: composeSinks([...(inputs.extraSinks ?? []), github], log),
    clock,
    log,
    metrics,
    stepConcurrency: env.OCTOFLOW_STEP_CONCURRENCY,
  });

  const handlerDeps: HandlerDeps = {
    store,
    runs: engineRunControl(engine),
    setups,
    gate: createPermissionGate({ store, clock }),
    clock,
    log,
    metrics,
    ...(appId === undefined ? {} : { appId }),
  };

  let closed: Promise<void> | undefined;
  return {
    store,
    queue,
    agents,
    engine,
    outputs,
    workspaces,
    github,
    handlerDeps,
    ...(breakerStates ? { breakerStates } : {}),
    close: () =>
      (closed ??= (async () => {
        let failure: unknown;
        for (const close of [...closers].reverse()) {
          try {
            await close();
          } catch (error) {
            log.error({ err: error }, "closing a component failed");
            failure ??= error;
          }
        }
        if (failure !== undefined) throw failure;
      })()),
  };
}

/** The disk cache of repository snapshots for a backend: beside the SQLite file, `./data` otherwise, none in memory. */
function defaultSnapshotDir(location: BackendLocation): string | null {
  if (location.kind === "memory") return null;
  if (location.kind === "sqlite") return location.path === ":memory:" ? null : join(dirname(location.path), "snapshots");
  return resolve("data", "snapshots");
}

/** The gates of a process with a checkout: both `uses:` kinds run commands there. */
function checkoutRoutes(
  checkout: CheckoutInputs,
  parts: { clients: GitHubClients; setups: RepoSetupLoader; workspaces: WorkspaceService; log: Logger; exclude: string[] },
): StepGateRoutes {
  if (checkout.dir === undefined) {
    const why = checkout.missing ?? "there is no checkout of the repository here";
    return { noCommand: `cannot run a command step: ${why}`, noCi: { kind: "neutral", reason: `no tests were run: ${why}` } };
  }
  const gates = createCheckoutGates({
    dir: checkout.dir,
    workspaces: parts.workspaces,
    configOf: async (run) => (await parts.setups.load(await parts.clients.forInstallation(run.trigger.repo.installationId ?? 0), run.trigger.repo)).config.checkout,
    env: checkout.env,
    exclude: parts.exclude,
    log: parts.log.child({ component: "checkout-gates" }),
    ...(checkout.maxOutputBytes === undefined ? {} : { maxOutputBytes: checkout.maxOutputBytes }),
    ...(checkout.tmpRoot === undefined ? {} : { tmpRoot: checkout.tmpRoot }),
  });
  return { ci: gates, command: gates };
}

/** Octoflow's own files that may sit inside a checkout (the SQLite database, the snapshot cache): never copied for a command. */
function ownFiles(location: BackendLocation, snapshotDir: string | null): string[] {
  const files = location.kind === "sqlite" && location.path !== ":memory:" ? ["", "-wal", "-shm", "-journal"].map((suffix) => location.path + suffix) : [];
  return snapshotDir === null ? files : [...files, resolve(snapshotDir)];
}
