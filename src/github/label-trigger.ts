/**
 * Labels as triggers: `octoflow` → the default workflow, `octoflow:<workflow>` → that workflow,
 * and the `labels:` map of `.github/octoflow.yml`. Shared by issue and pull-request label events.
 */
import { ConfigError } from "../errors/config-error.ts";
import { workflowForLabel } from "../config/repo-config.ts";
import type { RepoRef, Trigger } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { buildTrigger } from "./triggers.ts";
import { comment, configErrorComment, firstDelivery, startWorkflow, type HandlerDeps } from "./start-run.ts";

export interface LabelEvent {
  deliveryId: string;
  event: string;
  octokit: GitHubClient;
  repo: RepoRef;
  label: string;
  number: number;
  isPullRequest: boolean;
  sender: { login: string; type: string };
  issue: { title: string; body?: string | null; url?: string };
  pullRequest?: Trigger["pullRequest"];
}

/** Handles one `labeled` event: resolve the workflow, de-duplicate, gate, start. */
export async function handleLabel(deps: HandlerDeps, e: LabelEvent): Promise<void> {
  const ours = e.label === "octoflow" || e.label.startsWith("octoflow:");
  let setup;
  try {
    setup = await deps.setups.load(e.octokit, e.repo);
  } catch (error) {
    // A broken config is only worth a comment when the label was clearly meant for Octoflow.
    if (!(error instanceof ConfigError) || !ours) throw error;
    if (await firstDelivery(deps, e.deliveryId, e.event)) await comment(e.octokit, e.repo, e.number, configErrorComment(error));
    return;
  }
  const workflow = workflowForLabel(setup.config, e.label, setup.catalog);
  if (!workflow) return;
  const decision = await deps.gate.check(e.octokit, e.repo, e.sender, setup.config.trust);
  if (!decision.allowed) {
    deps.log.info({ actor: e.sender.login, reason: decision.reason }, "label trigger refused");
    await deps.gate.refuseOnce(e.octokit, e.repo, e.number, e.sender, decision); // answered once per user and issue
    return;
  }
  const trigger = buildTrigger({
    kind: "label",
    repo: e.repo,
    number: e.number,
    isPullRequest: e.isPullRequest,
    actor: e.sender.login,
    deliveryId: e.deliveryId,
    issue: e.issue,
    ...(e.pullRequest ? { pullRequest: e.pullRequest } : {}),
  });
  // The delivery is recorded together with the run (one commit): see startWorkflow.
  await startWorkflow(deps, e.octokit, setup, trigger, workflow, { recorded: false });
}
