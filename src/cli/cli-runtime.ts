/**
 * The app's runtime rebuilt for one CLI process: the same engine, agent runner, GitHub progress
 * sink (check run + sticky comment + outputs) and store as `src/app.ts` wires, with a token client
 * (@octokit/rest) in place of installation clients and the terminal renderer as a second sink.
 * Runs execute in this process, to the end, instead of through the queue worker.
 */
import { createAgentRunner, type AgentRunnerDeps } from "../agents/agent-runner.ts";
import type { Env } from "../config/env.ts";
import type { GitHubClient, GitHubClients } from "../github/client.ts";
import { engineRunControl } from "../github/engine-run-control.ts";
import { repoReaderFor } from "../github/repo-reader.ts";
import type { RunControl } from "../github/run-control.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type Metrics } from "../observability/metrics.ts";
import { createGitHubRunOutputs } from "../github/outputs/github-run-outputs.ts";
import { createGitHubProgressSink, type GitHubProgressSink } from "../github/progress/github-progress-sink.ts";
import { composeSinks } from "../workflows/compose-sinks.ts";
import { createEngine, type Engine } from "../workflows/engine.ts";
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
  store: RunStore;
  /** The terminal renderer (or any sink) that sees every event next to GitHub's reporters. */
  terminal: ProgressSink;
  clock?: Clock;
  /** Least time between two writes to one GitHub surface (default 3000 ms, as the app). */
  progressIntervalMs?: number;
  /** Test seam for the agent runner's tunables (e.g. a shorter retry backoff). */
  agentOptions?: Partial<Pick<AgentRunnerDeps, "retry" | "budgets" | "openaiApi">>;
}

export interface CliRuntime {
  engine: Engine;
  /** The engine behind the narrow interface the GitHub handlers use; started runs get the CLI's auth. */
  runs: RunControl;
  github: GitHubProgressSink;
  metrics: Metrics;
  /**
   * Executes a started run in this process until it is finished, and waits for the final GitHub
   * writes. Aborting `signal` cancels the run (its check run and comment then say so).
   * Throws when the run cannot start because another run of its concurrency group is active.
   */
  execute(run: RunRecord, signal?: AbortSignal): Promise<RunRecord>;
  close(): Promise<void>;
}

/**
 * @example
 * const runtime = createCliRuntime({ env, log, octokit, store, terminal: createTerminalProgress({ out }) });
 * const run = await runtime.runs.start(plan, trigger);
 * const finished = await runtime.execute(run, signal);
 */
export function createCliRuntime(options: CliRuntimeOptions): CliRuntime {
  const { env, log, store } = options;
  const clock = options.clock ?? systemClock;
  const client = asGitHubClient(options.octokit);
  const clients: GitHubClients = { forInstallation: async () => client };
  const metrics = createMetrics({ defaults: false });
  const agents = createAgentRunner({ env, store, repoReaderFor: repoReaderFor(clients), metrics, log, clock, ...options.agentOptions });
  const github = createGitHubProgressSink({
    clients,
    store,
    clock,
    log,
    metrics,
    ...(options.progressIntervalMs === undefined ? {} : { intervalMs: options.progressIntervalMs }),
  });
  const outputs = createGitHubRunOutputs({ clients, store, log });
  const engine = createEngine({ store, agents, outputs, progress: composeSinks([options.terminal, github], log), clock, log, metrics });
  const control = engineRunControl(engine);

  return {
    engine,
    metrics,
    github,
    runs: {
      async start(plan, trigger) {
        // This process executes the run itself: it gets no queue job, so no queue worker sharing the
        // store picks it up too.
        return engine.start(plan, withCliAuth(trigger), { enqueue: false });
      },
      cancel: (runId, reason) => control.cancel(runId, reason),
      retry: (runId) => control.retry(runId),
    },
    async execute(run, signal) {
      const onAbort = () => void engine.cancel(run.id, "interrupted on the command line").catch(() => {});
      if (signal?.aborted) onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        await engine.execute(run.id as RunId, new AbortController().signal);
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
    async close() {
      await agents.close();
    },
  };
}
