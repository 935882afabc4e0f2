/**
 * The handler dependencies of `octoflow replay`: the app's core (`composeCore`) over an empty
 * in-memory backend and a client that intercepts writes, with its loader and gate wrapped so replay
 * can report what they decided, and a RunControl that records the runs the app would start instead
 * of starting them.
 */
import { composeCore } from "../compose/compose-core.ts";
import { openBackend } from "../compose/open-backend.ts";
import type { Env } from "../config/env.ts";
import { ConfigError } from "../errors/config-error.ts";
import { defaultRepoConfig } from "../config/repo-config.ts";
import type { GitHubClients } from "../github/client.ts";
import type { GateDecision, PermissionGate } from "../github/permission-gate.ts";
import type { RepoSetupLoader } from "../github/repo-setup-loader.ts";
import type { RunControl } from "../github/run-control.ts";
import type { HandlerDeps } from "../github/start-run.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { loadWorkflowCatalog, type LoadedTemplate } from "../workflows/load-template.ts";
import { systemClock } from "../workflows/ports.ts";
import { asRunId, type RunId, type RunPlan, type RunRecord, type Trigger } from "../workflows/types.ts";

export type ConfigFact =
  | { kind: "repository"; branch: string }
  | { kind: "defaults"; reason: string }
  | { kind: "invalid"; problems: string[] };

export type GateFact = { kind: "decided"; actor: string; decision: GateDecision } | { kind: "not-checked"; actor: string; reason: string };

export interface ReplayFacts {
  config?: ConfigFact;
  gate?: GateFact;
  /** Runs the app would start, with their plans. */
  started: { plan: RunPlan; trigger: Trigger }[];
  /** Cancels, retries and approvals the app would perform. */
  control: string[];
}

export interface ReplayDepsOptions {
  env: Env;
  /** The replay client (writes intercepted), for every installation. */
  clients: GitHubClients;
  builtins: readonly LoadedTemplate[];
  log: Logger;
  withToken: boolean;
}

/**
 * @example
 * const replay = await createReplayDeps({ env, clients, builtins, log, withToken: true });
 * await dispatchWebhook(replay.deps, event, octokit, log);
 * replay.facts.started; // what the app would start
 * await replay.close();
 */
export async function createReplayDeps(options: ReplayDepsOptions): Promise<{ deps: HandlerDeps; facts: ReplayFacts; close(): Promise<void> }> {
  const facts: ReplayFacts = { started: [], control: [] };
  const clock = systemClock;
  const core = composeCore({
    env: options.env,
    clients: options.clients,
    backend: await openBackend({ kind: "memory" }, { runsPerProcess: 1, queue: false }),
    clock,
    log: options.log,
    metrics: createMetrics({ defaults: false }),
    builtins: options.builtins,
  });
  const loader = core.handlerDeps.setups;

  const setups: RepoSetupLoader = {
    async load(octokit, repo) {
      if (!options.withToken) {
        facts.config = { kind: "defaults", reason: "no token: .github/octoflow.yml and repository workflows not read" };
        return { config: defaultRepoConfig(), catalog: loadWorkflowCatalog(options.builtins, []) };
      }
      try {
        const setup = await loader.load(octokit, repo);
        facts.config = { kind: "repository", branch: repo.defaultBranch };
        return setup;
      } catch (error) {
        if (error instanceof ConfigError) facts.config = { kind: "invalid", problems: error.problems };
        throw error;
      }
    },
    invalidate: (repo) => loader.invalidate(repo),
  };

  const realGate = core.handlerDeps.gate;
  const gate: PermissionGate = {
    async check(octokit, repo, actor, trust) {
      if (!options.withToken) {
        facts.gate = { kind: "not-checked", actor: actor.login, reason: "no token" };
        return { allowed: true, permission: "write" };
      }
      const decision = await realGate.check(octokit, repo, actor, trust);
      facts.gate = { kind: "decided", actor: actor.login, decision };
      return decision;
    },
    refuseOnce: (octokit, repo, number, actor, decision) => realGate.refuseOnce(octokit, repo, number, actor, decision),
  };

  let next = 1;
  const runs: RunControl = {
    async start(plan, trigger) {
      facts.started.push({ plan, trigger });
      const record: RunRecord = {
        id: asRunId(`replay-${next++}`),
        workflow: plan.workflow,
        status: "queued",
        plan,
        trigger,
        concurrencyKey: plan.concurrency.group,
        createdAt: clock.now(),
      };
      return record;
    },
    async cancel(runId: RunId, reason: string) {
      facts.control.push(`cancel run ${runId} (${reason})`);
      return true;
    },
    async retry(runId: RunId) {
      facts.control.push(`retry the failed steps of run ${runId}`);
      return true;
    },
    async approve(runId: RunId, actor: string, stepId: string) {
      facts.control.push(`approve step ${stepId} of run ${runId} as ${actor}`);
      return [stepId];
    },
  };

  return { deps: { ...core.handlerDeps, runs, setups, gate }, facts, close: () => core.close() };
}
