/**
 * Approval gates from GitHub (DESIGN D9, D14): a step with `approval` parks its run until someone
 * approves it with the check run's **Approve** button or `/octoflow approve`. Who may approve: a
 * human whose repository permission reaches both the gate's permission and the repository's
 * `trust.minPermission` (write < maintain < admin); bots never approve. The approval itself goes
 * through `RunControl.approve`, which records who and when and wakes the run.
 */
import type { RepoConfig } from "../config/repo-config.ts";
import type { ApprovalPermission, RepoRef, RunRecord } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { atLeast, type Actor, type GateDecision, type PermissionLevel } from "./permission-gate.ts";
import type { HandlerDeps } from "./start-run.ts";

/** A step of a run that waits at its approval gate, with the permission approving it takes. */
export interface WaitingGate {
  stepId: string;
  name: string;
  required: ApprovalPermission;
}

export interface ApprovalResult {
  /** Ids of the steps `actor` approved now. */
  approved: string[];
  /** Gates `actor` may not approve, with what they take. */
  refused: WaitingGate[];
  /** `actor`'s permission as the gate found it (`bot` for an app). */
  permission: PermissionLevel | "bot";
}

/** The higher of two permission levels. */
function higher(a: ApprovalPermission, b: ApprovalPermission): ApprovalPermission {
  return atLeast(a, b) ? a : b;
}

/** The steps of `run` that wait for an approval now (none when the run does not wait for one). */
export async function waitingGates(deps: Pick<HandlerDeps, "store">, run: RunRecord, trust: RepoConfig["trust"]): Promise<WaitingGate[]> {
  const planned = new Map(run.plan.steps.map((s) => [String(s.id), s]));
  return (await deps.store.getSteps(run.id))
    .filter((s) => s.status === "waiting" && s.waiting?.reason === "approval" && !s.approval)
    .map((s) => {
      const step = planned.get(String(s.stepId));
      return { stepId: String(s.stepId), name: step?.name || String(s.stepId), required: higher(step?.approval?.permission ?? "write", trust.minPermission) };
    });
}

/**
 * Approves the gates of `gates` that `actor` may approve, and reports those refused. One permission
 * look-up per level (the gate caches them).
 *
 * @example
 * const gates = await waitingGates(deps, run, setup.config.trust);
 * const { approved, refused } = await approveGates(deps, octokit, repo, run, gates, { login: "mo", type: "User" });
 */
export async function approveGates(
  deps: Pick<HandlerDeps, "runs" | "gate" | "log">,
  octokit: GitHubClient,
  repo: RepoRef,
  run: RunRecord,
  gates: readonly WaitingGate[],
  actor: Actor,
): Promise<ApprovalResult> {
  const result: ApprovalResult = { approved: [], refused: [], permission: "none" };
  const decisions = new Map<ApprovalPermission, GateDecision>();
  for (const gate of gates) {
    let decision = decisions.get(gate.required);
    if (!decision) {
      // An approval is a person's decision: no bot is allowed, whatever `trust.allowBots` says.
      decision = await deps.gate.check(octokit, repo, actor, { minPermission: gate.required, allowBots: [] });
      decisions.set(gate.required, decision);
    }
    result.permission = decision.allowed ? decision.permission : decision.reason === "bot" ? "bot" : decision.permission;
    if (!decision.allowed) {
      result.refused.push(gate);
      continue;
    }
    result.approved.push(...(await deps.runs.approve(run.id, actor.login, gate.stepId)));
  }
  deps.log.info({ runId: run.id, actor: actor.login, approved: result.approved, refused: result.refused.map((g) => g.stepId) }, "approval requested");
  return result;
}

/** The answer to a refused approval: what it takes, what the user has, and that the run still waits. */
export function refusalText(login: string, result: ApprovalResult): string {
  const gates = result.refused.map((g) => `**${g.name.replace(/[*_`[\]<>|\\]/g, "")}** needs **${g.required}** permission`).join(", ");
  const who = result.permission === "bot" ? "bots cannot approve steps" : `you have **${result.permission}**`;
  return `@${login}, I did not approve this: ${gates} on this repository (${who}). The run still waits; someone with that access can press **Approve** on the check run or comment \`/octoflow approve\`.`;
}
