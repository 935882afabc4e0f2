/**
 * The `RunOutputs` adapter for GitHub (DESIGN D10): delivers a finished run's pull request, review and
 * comment texts with the installation's client, pushes the change so far while the run goes on (so the
 * repository's CI runs on it, DESIGN D14), and turns GitHub's failures into the engine's retry
 * decision (rate limits and 5xx are transient; a refused change is not). Idempotent through the
 * markers `applyOutputs` keeps, so the engine may call it again after a failure or a crash.
 */
import type { Logger } from "pino";
import { classifyGitHubError } from "../../resilience/classify-github-error.ts";
import type { PushedHead, RunOutputs, RunStore } from "../../workflows/ports.ts";
import type { DeliveredOutputs } from "../../workflows/types.ts";
import type { GitHubClients } from "../client.ts";
import { applyOutputs } from "./apply-outputs.ts";
import { publishPullRequest, type OutputDeps } from "./pull-request-output.ts";

export interface GitHubRunOutputsOptions {
  clients: GitHubClients;
  store: RunStore;
  log: Logger;
  /** The run workspace commits are built from (without it: lazy reads over the installation client). */
  workspaces?: OutputDeps["workspaces"];
  /** Where review findings are counted (`octoflow_findings_total`). */
  metrics?: OutputDeps["metrics"];
}

/**
 * @example
 * const engine = createEngine({ ..., outputs: createGitHubRunOutputs({ clients, store, log }) });
 */
export function createGitHubRunOutputs(options: GitHubRunOutputsOptions): RunOutputs {
  return {
    async deliver(run, steps) {
      const empty: DeliveredOutputs = { results: [], notes: [], findings: 0 };
      const installationId = run.trigger.repo.installationId;
      if (installationId === undefined) return empty;
      const log = options.log.child({ runId: run.id, workflow: run.workflow });
      try {
        const octokit = await options.clients.forInstallation(installationId);
        const deps: OutputDeps = {
          octokit,
          store: options.store,
          log,
          ...(options.workspaces ? { workspaces: options.workspaces } : {}),
          ...(options.metrics ? { metrics: options.metrics } : {}),
        };
        const applied = await applyOutputs(deps, run, steps);
        return {
          ...(applied.pullRequest ? { pullRequest: { number: applied.pullRequest.number, url: applied.pullRequest.url } } : {}),
          ...(applied.review?.url && applied.review.url !== "none" ? { review: { url: applied.review.url } } : {}),
          results: applied.results,
          notes: applied.notes,
          findings: applied.findings,
        };
      } catch (error) {
        throw classifyGitHubError(error);
      }
    },

    /**
     * Commits the producing steps finished so far and opens (or updates) the draft pull request, the
     * same way `deliver` will at the end (the markers make both idempotent): returns the branch head.
     */
    async push(run, steps): Promise<PushedHead | undefined> {
      const installationId = run.trigger.repo.installationId;
      if (installationId === undefined || run.status === "cancelled") return undefined;
      // like `deliver`: only a producing step that changed something makes commits and a pull request
      const changed = new Set(steps.filter((r) => r.status === "succeeded" && (r.output?.changes?.length ?? r.output?.edits?.length ?? 0) > 0).map((r) => String(r.stepId)));
      if (!run.plan.steps.some((s) => s.output === "pull_request" && changed.has(String(s.id)))) return undefined;
      const log = options.log.child({ runId: run.id, workflow: run.workflow });
      try {
        const octokit = await options.clients.forInstallation(installationId);
        const pr = await publishPullRequest({ octokit, store: options.store, log, ...(options.workspaces ? { workspaces: options.workspaces } : {}) }, run, steps);
        if (!pr) return undefined;
        log.info({ sha: pr.head, branch: pr.branch, pullRequest: pr.number, commits: pr.commits.length }, "pushed the change so far");
        return { sha: pr.head, branch: pr.branch, pullRequest: { number: pr.number, url: pr.url } };
      } catch (error) {
        throw classifyGitHubError(error);
      }
    },
  };
}
