/**
 * Check-run buttons: `requested_action` (our Approve / Cancel / Retry actions) and GitHub's own re-run
 * (`rerequested`). The run is found by the check run's `external_id` (the run id); the person who
 * pressed the button passes the same trust gate as a commenter (Approve: the gate's permission too).
 */
import { randomUUID } from "node:crypto";
import type { RepoConfig } from "../config/repo-config.ts";
import { approvalRefusedKey } from "../store/marker-keys.ts";
import { asRunId, type RepoRef, type RunRecord } from "../workflows/types.ts";
import { approveGates, refusalText, waitingGates } from "./approve-gates.ts";
import { CHECK_RUN_ACTIONS } from "./progress/check-run-reporter.ts";
import type { GitHubClient } from "./client.ts";
import { buildTrigger } from "./triggers.ts";
import { comment, firstDelivery, loadSetupOrReply, startWorkflow, type HandlerDeps } from "./start-run.ts";

export interface CheckRunEvent {
  deliveryId: string;
  event: string;
  octokit: GitHubClient;
  repo: RepoRef;
  externalId: string | null | undefined;
  /** `approve`, `cancel`, `retry`, or `rerun` for GitHub's re-run button. */
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
  if (e.action === CHECK_RUN_ACTIONS.approve.identifier) {
    await approveFromButton(deps, e, run, setup.config.trust);
    return;
  }
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

/**
 * The Approve button: approves the run's waiting gates the presser may approve. A refused press is
 * answered on the thread once per user and step (a button press has no other way to answer), and
 * changes nothing.
 */
async function approveFromButton(deps: HandlerDeps, e: CheckRunEvent, run: RunRecord, trust: RepoConfig["trust"]): Promise<void> {
  const gates = await waitingGates(deps, run, trust);
  if (gates.length === 0) {
    deps.log.info({ runId: run.id, actor: e.sender.login, status: run.status }, "approve pressed, but nothing waits for an approval");
    return;
  }
  const result = await approveGates(deps, e.octokit, e.repo, run, gates, e.sender);
  const [first] = result.refused;
  if (!first) return;
  const value = `${deps.clock.now()}:${randomUUID()}`;
  if ((await deps.store.putMarkerIfAbsent(approvalRefusedKey(String(run.id), first.stepId, e.sender.login), value)) !== value) return;
  await comment(e.octokit, e.repo, run.trigger.number, refusalText(e.sender.login, result));
}
