/**
 * Check-run buttons: `requested_action` (our Cancel / Retry actions) and GitHub's own re-run
 * (`rerequested`). The run is found by the check run's `external_id` (the run id); the person who
 * pressed the button passes the same trust gate as a commenter.
 */
import { asRunId, type RepoRef } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { buildTrigger } from "./triggers.ts";
import { firstDelivery, loadSetupOrReply, startWorkflow, type HandlerDeps } from "./start-run.ts";

export interface CheckRunEvent {
  deliveryId: string;
  event: string;
  octokit: GitHubClient;
  repo: RepoRef;
  externalId: string | null | undefined;
  /** `cancel`, `retry`, or `rerun` for GitHub's re-run button. */
  action: string;
  sender: { login: string; type: string };
}

/** Handles a check-run button press. */
export async function handleCheckRunAction(deps: HandlerDeps, e: CheckRunEvent): Promise<void> {
  if (!e.externalId) return;
  const run = await deps.store.getRun(asRunId(e.externalId));
  if (!run || run.trigger.repo.owner.toLowerCase() !== e.repo.owner.toLowerCase() || run.trigger.repo.name.toLowerCase() !== e.repo.name.toLowerCase()) return;
  if (!(await firstDelivery(deps, e.deliveryId, e.event))) return;
  const setup = await loadSetupOrReply(deps, e.octokit, e.repo, run.trigger.number);
  if (!setup) return;
  const decision = await deps.gate.check(e.octokit, e.repo, e.sender, setup.config.trust);
  if (!decision.allowed) {
    deps.log.info({ actor: e.sender.login, runId: run.id }, "check-run action refused");
    return;
  }
  const log = deps.log.child({ runId: run.id, action: e.action, actor: e.sender.login });
  switch (e.action) {
    case "cancel":
      log.info({ cancelled: await deps.runs.cancel(run.id, `cancelled by @${e.sender.login}`) }, "cancel requested from the check run");
      return;
    case "retry":
      log.info({ retried: await deps.runs.retry(run.id) }, "retry requested from the check run");
      return;
    case "rerun": {
      if (run.status === "queued" || run.status === "running") return;
      if (run.status !== "succeeded") {
        if (await deps.runs.retry(run.id)) return;
      }
      // A finished run is started afresh with the same trigger (and today's config and template).
      const { deliveryId: _old, ...rest } = run.trigger;
      const trigger = buildTrigger({ ...rest, kind: "check_run", actor: e.sender.login, deliveryId: e.deliveryId });
      await startWorkflow(deps, e.octokit, setup, trigger, run.workflow);
      return;
    }
    default:
      log.debug("unknown check-run action ignored");
  }
}
