/**
 * The handler dependencies of `octoflow replay`: the app's own loader and gate, wrapped so replay
 * can report what they decided, an empty in-memory store, and a RunControl that records the runs the
 * app would start instead of starting them.
 */
import { ConfigError } from "../errors/config-error.ts";
import { defaultRepoConfig } from "../config/repo-config.ts";
import { createPermissionGate, type GateDecision, type PermissionGate } from "../github/permission-gate.ts";
import { createRepoSetupLoader, type RepoSetupLoader } from "../github/repo-setup-loader.ts";
import type { RunControl } from "../github/run-control.ts";
import type { HandlerDeps } from "../github/start-run.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { createMemoryRunStore } from "../store/memory-run-store.ts";
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
  /** Cancels and retries the app would perform. */
  control: string[];
}

/**
 * @example
 * const { deps, facts } = createReplayDeps({ builtins, log, withToken: true });
 * await dispatchWebhook(deps, event, octokit, log);
 * facts.started; // what the app would start
 */
export function createReplayDeps(options: { builtins: readonly LoadedTemplate[]; log: Logger; withToken: boolean }): { deps: HandlerDeps; facts: ReplayFacts } {
  const facts: ReplayFacts = { started: [], control: [] };
  const store = createMemoryRunStore();
  const clock = systemClock;
  const loader = createRepoSetupLoader({ builtins: options.builtins, clock });

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

  const realGate = createPermissionGate({ store, clock });
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
  };

  const deps: HandlerDeps = { store, runs, setups, gate, clock, log: options.log, metrics: createMetrics({ defaults: false }) };
  return { deps, facts };
}
