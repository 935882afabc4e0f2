/**
 * The `RunOutputs` adapter for GitHub (DESIGN D10): delivers a finished run's pull request, review and
 * comment texts with the installation's client, and turns GitHub's failures into the engine's retry
 * decision (rate limits and 5xx are transient; a refused change is not). Idempotent through the
 * markers `applyOutputs` keeps, so the engine may call it again after a failure or a crash.
 */
import type { Logger } from "pino";
import { classifyGitHubError } from "../../resilience/classify-github-error.ts";
import type { RunOutputs, RunStore } from "../../workflows/ports.ts";
import type { DeliveredOutputs } from "../../workflows/types.ts";
import type { GitHubClients } from "../client.ts";
import { applyOutputs } from "./apply-outputs.ts";
import type { OutputDeps } from "./pull-request-output.ts";

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
  };
}
