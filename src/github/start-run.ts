/**
 * The shared tail of every trigger: de-duplicate the delivery, load the repository setup, plan the
 * workflow and hand it to the engine — answering the user in plain words when something is wrong.
 */
import type { Logger } from "pino";
import { ConfigError } from "../errors/config-error.ts";
import type { Metrics } from "../observability/metrics.ts";
import { planRun } from "../workflows/plan.ts";
import type { Clock, RunStore } from "../workflows/ports.ts";
import type { RepoRef, RunRecord, Trigger } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import type { PermissionGate } from "./permission-gate.ts";
import type { RepoSetup, RepoSetupLoader } from "./repo-setup-loader.ts";
import { runIdForDelivery, type RunControl } from "./run-control.ts";

/** Everything a webhook handler needs (one object, built in `src/app.ts`). */
export interface HandlerDeps {
  store: RunStore;
  runs: RunControl;
  setups: RepoSetupLoader;
  gate: PermissionGate;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** The GitHub App's own id (`APP_ID`): events caused by the app itself (its check suites) are told apart by it. */
  appId?: number;
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
 *
 * De-duplication: when the caller has not recorded the delivery yet (`recorded: false`), the delivery
 * record and the run (whose id is derived from the delivery id) are written in the same event-loop
 * turn, so the store commits both in one transaction and a redelivery fails on the run's primary key.
 * A plan that cancels runs in progress records the delivery first: a redelivery must cancel nothing.
 */
export async function startWorkflow(
  deps: HandlerDeps,
  octokit: GitHubClient,
  setup: RepoSetup,
  trigger: Trigger,
  workflow: string,
  options: { recorded: boolean } = { recorded: true },
): Promise<RunRecord | undefined> {
  const deliveryId = trigger.deliveryId;
  const event = `${trigger.kind}`;
  const firstTime = async () => options.recorded || deliveryId === undefined || (await firstDelivery(deps, deliveryId, event));
  const loaded = setup.catalog.get(workflow);
  if (!loaded) {
    if (!(await firstTime())) return undefined;
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
    if (!(await firstTime())) return undefined;
    await comment(octokit, trigger.repo, trigger.number, configErrorComment(error).replace("the configuration has a problem", `\`${workflow}\` cannot run as asked`));
    return undefined;
  }
  let run: RunRecord | undefined;
  if (options.recorded || deliveryId === undefined) {
    run = await deps.runs.start(plan, trigger);
  } else if (plan.concurrency.cancelInProgress) {
    if (!(await firstDelivery(deps, deliveryId, event))) return undefined;
    run = await deps.runs.start(plan, trigger, { runId: runIdForDelivery(deliveryId) });
  } else {
    const [recorded, started] = await Promise.allSettled([
      deps.store.recordDelivery(deliveryId, event),
      deps.runs.start(plan, trigger, { runId: runIdForDelivery(deliveryId) }),
    ]);
    if (started.status === "fulfilled") run = started.value;
    else if (recorded.status === "fulfilled" && recorded.value) throw started.reason;
    if (recorded.status === "rejected") throw recorded.reason;
    if (!recorded.value) {
      deps.metrics.webhooks.inc({ event, outcome: "duplicate" });
      deps.log.info({ deliveryId, event, recovered: run !== undefined }, run ? "redelivery started the run its first delivery lost" : "redelivered webhook ignored");
    }
    if (!run) return undefined;
  }
  deps.metrics.webhooks.inc({ event: trigger.kind, outcome: "run_started" });
  deps.log.info({ runId: run.id, workflow, repo: `${trigger.repo.owner}/${trigger.repo.name}`, number: trigger.number, kind: trigger.kind }, "run started");
  return run;
}
