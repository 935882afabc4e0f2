/**
 * The core composed for one CLI process (`composeCore`, as the app): the same engine, agent runner
 * (with the fleet-wide provider limits on PostgreSQL), GitHub outputs (pull request, review) and
 * progress sink (check run + sticky comment) and store, with a token client (@octokit/rest) in place of installation
 * clients and the terminal renderer as an extra sink. Runs execute in this process, to the end,
 * instead of through the queue worker.
 */
import type { AgentRunnerDeps } from "../agents/agent-runner.ts";
import { composeCore } from "../compose/compose-core.ts";
import type { Backend } from "../compose/open-backend.ts";
import type { CheckoutInputs } from "../compose/compose-core.ts";
import type { Env } from "../config/env.ts";
import type { GitHubClient, GitHubClients } from "../github/client.ts";
import type { RunControl } from "../github/run-control.ts";
import type { HandlerDeps } from "../github/start-run.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type Metrics } from "../observability/metrics.ts";
import type { GitHubProgressSink } from "../github/progress/github-progress-sink.ts";
import type { Engine } from "../workflows/engine.ts";
import { systemClock, type Clock, type ProgressSink, type RunStore } from "../workflows/ports.ts";
import type { RunId, RunRecord, Trigger } from "../workflows/types.ts";
import type { CliOctokit } from "./create-rest-client.ts";

/**
 * Stands for "authenticated by the CLI's token" where the app's code expects an installation id
 * (the GitHub progress sink and the repository reader look clients up by it).
 */
export const CLI_INSTALLATION_ID = 0;

/**
 * The app's GitHub modules take Probot's client type but use only `.rest`, `.request`,
 * `.paginate` and `.hook`, which @octokit/rest with the retry and throttling plugins provides;
 * Probot's type additionally carries its legacy top-level endpoint aliases, which they never touch.
 */
export function asGitHubClient(octokit: CliOctokit): GitHubClient {
  return octokit as unknown as GitHubClient;
}

/** A trigger whose repository is served by the CLI's token client. */
export function withCliAuth(trigger: Trigger): Trigger {
  return { ...trigger, repo: { ...trigger.repo, installationId: CLI_INSTALLATION_ID } };
}

export interface CliRuntimeOptions {
  env: Env;
  log: Logger;
  octokit: CliOctokit;
  /** From `openCliBackend` (no queue); closed by `close()`. */
  backend: Backend;
  /** The terminal renderer (or any sink) that sees every event next to GitHub's reporters. */
  terminal: ProgressSink;
  clock?: Clock;
  /** Least time between two writes to one GitHub surface (default 5000 ms, as the app). */
  progressIntervalMs?: number;
  /** Test seam for the agent runner's tunables (e.g. a shorter retry backoff). */
  agentOptions?: Partial<Pick<AgentRunnerDeps, "retry" | "budgets" | "openaiApi">>;
  /** The runner's checkout, where `uses: command` / `uses: ci` steps run their commands (DESIGN D15). */
  checkout: CheckoutInputs;
}

export interface ExecuteOptions {
  /**
   * Approves the run's approval gates before it executes, in this user's name (`octoflow run
   * --approve`): this process cannot wait for an approval. Without it, a run that parks on one is
   * cancelled with the reason.
   */
  approveAs?: string;
}

export interface CliRuntime {
  engine: Engine;
  store: RunStore;
  /** The engine behind the narrow interface the GitHub handlers use; started runs get the CLI's auth. */
  runs: RunControl;
  /** The app's handler dependencies over this runtime (`runs` as above). */
  handlerDeps: HandlerDeps;
  github: GitHubProgressSink;
  metrics: Metrics;
  /**
   * Executes a started run in this process until it is finished, and waits for the final GitHub
   * writes. Aborting `signal` cancels the run (its check run and comment then say so).
   * Throws when the run cannot start because another run of its concurrency group is active.
   */
  execute(run: RunRecord, signal?: AbortSignal, options?: ExecuteOptions): Promise<RunRecord>;
  /** Closes the agent runner, then the backend (the store). */
  close(): Promise<void>;
}

/**
 * @example
 * const runtime = createCliRuntime({ env, log, octokit, backend: await openCliBackend(io), terminal: createTerminalProgress({ out }) });
 * const run = await runtime.runs.start(plan, trigger);
 * const finished = await runtime.execute(run, signal);
 */
export function createCliRuntime(options: CliRuntimeOptions): CliRuntime {
  const { env, log } = options;
  const client = asGitHubClient(options.octokit);
  const clients: GitHubClients = { forInstallation: async () => client };
  const metrics = createMetrics({ defaults: false });
  const core = composeCore({
    env,
    clients,
    backend: options.backend,
    clock: options.clock ?? systemClock,
    log,
    metrics,
    extraSinks: [options.terminal],
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    ...(options.agentOptions ? { agentOptions: options.agentOptions } : {}),
    checkout: options.checkout,
  });
  const { engine, store, github } = core;
  const control = core.handlerDeps.runs;
  const runs: RunControl = {
    async start(plan, trigger) {
      // This process executes the run itself: it gets no queue job, so no queue worker sharing the
      // store picks it up too.
      return engine.start(plan, withCliAuth(trigger), { enqueue: false });
    },
    cancel: (runId, reason) => control.cancel(runId, reason),
    retry: (runId) => control.retry(runId),
    approve: (runId, actor, stepId) => control.approve(runId, actor, stepId),
  };

  /**
   * Executes the run; a run that parks is executed again when its wait has a time (a gate that looks
   * again shortly), and cancelled with the reason when only an event could wake it (an approval, a
   * reply): this process cannot wait for one, and must never hang silently.
   */
  const executeUntilSettled = async (runId: RunId, signal: AbortSignal | undefined) => {
    for (;;) {
      await engine.execute(runId, new AbortController().signal);
      const current = await store.getRun(runId);
      if (current?.status !== "waiting" || signal?.aborted) return;
      const wakeAt = current.waiting?.wakeAt;
      const waits = (await store.getSteps(runId)).filter((s) => s.status === "waiting" && s.waiting);
      if (wakeAt === undefined || waits.some((s) => s.waiting?.wakeAt === undefined)) {
        const what = waits.map((s) => `step "${s.stepId}" is ${s.waiting?.reason === "approval" ? "waiting for an approval" : (s.waiting?.message ?? "waiting")}`).join("; ");
        await engine.cancel(runId, `${what || "the run is waiting"}, and this process cannot wait for it: approval gates run in the App, or in \`octoflow run --approve\``);
        return;
      }
      await delay(Math.max(0, wakeAt - (options.clock ?? systemClock).now()), signal);
    }
  };

  /**
   * Records the approval on the gated steps before the run executes, so it never parks on them (the
   * engine's `approve` is for steps already waiting, and would queue a job no worker here takes).
   */
  const approveInAdvance = async (run: RunRecord, actor: string) => {
    const gated = new Set(run.plan.steps.filter((step) => step.approval).map((step) => String(step.id)));
    const at = (options.clock ?? systemClock).now();
    for (const step of await store.getSteps(run.id)) {
      if (gated.has(String(step.stepId)) && !step.approval) await store.updateStep(run.id, step.stepId, { approval: { by: actor, at } });
    }
  };

  return {
    engine,
    store,
    metrics,
    github,
    runs,
    handlerDeps: { ...core.handlerDeps, runs },
    async execute(run, signal, executeOptions = {}) {
      if (executeOptions.approveAs !== undefined) await approveInAdvance(run, executeOptions.approveAs);
      const onAbort = () => void engine.cancel(run.id, "interrupted on the command line").catch(() => {});
      if (signal?.aborted) onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        await executeUntilSettled(run.id as RunId, signal);
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
      await github.idle();
      const finished = (await store.getRun(run.id)) ?? run;
      if (finished.status === "queued" || finished.status === "running") {
        const [active] = (await store.findActiveRuns(finished.concurrencyKey)).filter((r) => r.id !== run.id);
        throw new Error(
          active
            ? `another run of ${finished.workflow} (${active.id}, ${active.status}) is active for the same issue or pull request; wait for it or cancel it (octoflow run … --replace)`
            : `run ${run.id} did not finish (${finished.status})`,
        );
      }
      return finished;
    },
    close: () => core.close(),
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
