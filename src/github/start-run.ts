/**
 * The shared tail of every trigger: de-duplicate the delivery, load the repository setup, plan the
 * workflow and hand it to the engine — answering the user in plain words when something is wrong.
 */
import type { Logger } from "pino";
import { ConfigError } from "../config/config-error.ts";
import type { Metrics } from "../observability/metrics.ts";
import { planRun } from "../workflows/plan.ts";
import type { Clock, RunStore } from "../workflows/ports.ts";
import type { RepoRef, RunRecord, Trigger } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import type { PermissionGate } from "./permission-gate.ts";
import type { RepoSetup, RepoSetupLoader } from "./repo-setup-loader.ts";
import type { RunControl } from "./run-control.ts";

/** Everything a webhook handler needs (one object, built in `src/app.ts`). */
export interface HandlerDeps {
  store: RunStore;
  runs: RunControl;
  setups: RepoSetupLoader;
  gate: PermissionGate;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/** Records the delivery id; false (and a log line) when GitHub redelivered a webhook already handled. */
export async function firstDelivery(deps: HandlerDeps, deliveryId: string, event: string): Promise<boolean> {
  const first = await deps.store.recordDelivery(deliveryId, event);
  if (!first) {
    deps.metrics.webhooks.inc({ event, outcome: "duplicate" });
    deps.log.info({ deliveryId, event }, "redelivered webhook ignored");
  }
  return first;
}

/** A comment that lists a ConfigError's problems (each names the file and line). */
export function configErrorComment(error: ConfigError): string {
  const problems = error.problems.slice(0, 30).map((p) => `- ${p.replace(/`/g, "'")}`);
  return [
    "⚠️ **Octoflow could not start**: the configuration has a problem.",
    "",
    ...problems,
    ...(error.problems.length > 30 ? [`- … and ${error.problems.length - 30} more`] : []),
    "",
    "Configuration and workflows are read from the default branch (`.github/octoflow.yml`, `.github/octoflow/workflows/*.yml`).",
  ].join("\n");
}

export async function comment(octokit: GitHubClient, repo: RepoRef, number: number, body: string): Promise<void> {
  await octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.name, issue_number: number, body });
}

/**
 * Loads the setup, answering a ConfigError on the thread; undefined when it could not be loaded.
 */
export async function loadSetupOrReply(deps: HandlerDeps, octokit: GitHubClient, repo: RepoRef, number: number): Promise<RepoSetup | undefined> {
  try {
    return await deps.setups.load(octokit, repo);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    deps.log.info({ repo: `${repo.owner}/${repo.name}`, problems: error.problems.length }, "repository configuration invalid");
    await comment(octokit, repo, number, configErrorComment(error));
    return undefined;
  }
}

/**
 * Plans `workflow` for `trigger` and starts it. Unknown workflows and plan errors (missing inputs,
 * unknown roles) are answered on the thread. Returns the run, or undefined when nothing started.
 */
export async function startWorkflow(
  deps: HandlerDeps,
  octokit: GitHubClient,
  setup: RepoSetup,
  trigger: Trigger,
  workflow: string,
): Promise<RunRecord | undefined> {
  const loaded = setup.catalog.get(workflow);
  if (!loaded) {
    await comment(
      octokit,
      trigger.repo,
      trigger.number,
      `I don't know a workflow called \`${workflow.slice(0, 64)}\`. Available: ${setup.catalog.names().map((n) => `\`${n}\``).join(", ")}.`,
    );
    return undefined;
  }
  let plan;
  try {
    plan = planRun(loaded.template, trigger, { repoConfig: setup.config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await comment(octokit, trigger.repo, trigger.number, configErrorComment(error).replace("the configuration has a problem", `\`${workflow}\` cannot run as asked`));
    return undefined;
  }
  const run = await deps.runs.start(plan, trigger);
  deps.metrics.webhooks.inc({ event: trigger.kind, outcome: "run_started" });
  deps.log.info({ runId: run.id, workflow, repo: `${trigger.repo.owner}/${trigger.repo.name}`, number: trigger.number, kind: trigger.kind }, "run started");
  return run;
}
