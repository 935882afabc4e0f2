/**
 * What each `/octoflow` command does once parsed: help, status (the current run table), cancel,
 * retry (failed steps only), approve (waiting approval gates), review, run <workflow> and `commands:` aliases.
 */
import { workflowForCommand, type RepoConfig } from "../config/repo-config.ts";
import { scrubSecrets } from "../observability/logger.ts";
import { cell, renderCostLine, renderStepTable, renderTitle, renderWaiting } from "../progress/render.ts";
import { createRunView } from "../progress/run-view.ts";
import { ACTIVE_RUN_STATUSES, type RepoRef } from "../workflows/types.ts";
import { approveGates, refusalText, waitingGates, type ApprovalResult } from "./approve-gates.ts";
import type { GitHubClient } from "./client.ts";
import { helpText, type Command } from "./command-parser.ts";
import { neutralizeMarkdown } from "../progress/neutralize-markdown.ts";
import type { Actor } from "./permission-gate.ts";
import { runsOf } from "./run-control.ts";
import { comment, firstDelivery, loadSetupOrReply, startWorkflow, type HandlerDeps } from "./start-run.ts";
import { buildTrigger, pullRequestInfo } from "./triggers.ts";

export interface CommandEvent {
  deliveryId: string;
  octokit: GitHubClient;
  repo: RepoRef;
  number: number;
  isPullRequest: boolean;
  commentId: number;
  sender: Actor;
  issue: { title: string; body?: string | null; url?: string };
  command: Command;
}

const ACTIVE = new Set<string>(ACTIVE_RUN_STATUSES);

async function react(e: CommandEvent): Promise<void> {
  await e.octokit.rest.reactions.createForIssueComment({ owner: e.repo.owner, repo: e.repo.name, comment_id: e.commentId, content: "eyes" });
}

/**
 * The `/octoflow status` answer: the newest run's table, its cost and what it waits for, then the
 * thread's other active runs; or a note that there is none.
 */
export async function statusReply(deps: Pick<HandlerDeps, "store">, repo: RepoRef, number: number): Promise<string> {
  const [run, ...older] = await runsOf(deps.store, repo, number, 200);
  if (!run) return "No Octoflow run on this thread yet. Comment `/octoflow help` to see what I can do.";
  const view = createRunView(run, await deps.store.getSteps(run.id));
  const lines = [`**Octoflow: ${renderTitle(view)}** (run \`${run.id}\`)`, "", renderStepTable(view), "", renderCostLine(view), ...renderWaiting(view)];
  if (run.error) lines.push("", `> ${neutralizeMarkdown(scrubSecrets(run.error.split("\n")[0] ?? "")).slice(0, 500)}`);
  const others = older.filter((r) => ACTIVE.has(r.status)).slice(0, 10);
  if (others.length > 0) {
    lines.push("", "Other active runs on this thread:", "");
    for (const other of others) {
      const waits = other.status === "waiting" ? (other.waiting?.messages ?? []) : [];
      lines.push(`- \`${other.workflow}\` (run \`${other.id}\`): ${other.status}${waits.length > 0 ? ` — ${cell(neutralizeMarkdown(scrubSecrets(waits.join("; ")))).slice(0, 500)}` : ""}`);
    }
  }
  return lines.join("\n");
}

/**
 * Runs a parsed command. De-duplicates the delivery first, answers `help` and `status` for anyone,
 * and gates everything that starts or changes a run.
 */
export async function runCommand(deps: HandlerDeps, e: CommandEvent): Promise<void> {
  if (!(await firstDelivery(deps, e.deliveryId, "issue_comment.created"))) return;
  const { command, octokit, repo, number } = e;
  if (command.name === "help" && command.problem === undefined) {
    await comment(octokit, repo, number, helpText());
    return;
  }
  if (command.name === "status") {
    await react(e);
    await comment(octokit, repo, number, await statusReply(deps, repo, number));
    return;
  }
  const setup = await loadSetupOrReply(deps, octokit, repo, number);
  if (!setup) return;
  if (command.name === "approve") {
    // Gated per step: the gate's permission (and the repository's trust level), not only who may start runs.
    await approveCommand(deps, e, setup.config.trust, command.step);
    return;
  }
  const decision = await deps.gate.check(octokit, repo, e.sender, setup.config.trust);
  if (!decision.allowed) {
    deps.log.info({ actor: e.sender.login, reason: decision.reason, command: command.name }, "command refused");
    await deps.gate.refuseOnce(octokit, repo, number, e.sender, decision);
    return;
  }
  await react(e);
  switch (command.name) {
    case "help":
      await comment(octokit, repo, number, helpText(command.problem, setup.catalog.names()));
      return;
    case "cancel": {
      const active = (await runsOf(deps.store, repo, number)).filter((r) => ACTIVE.has(r.status));
      if (active.length === 0) {
        await comment(octokit, repo, number, "There is no active Octoflow run on this thread to cancel.");
        return;
      }
      for (const run of active) await deps.runs.cancel(run.id, `cancelled by @${e.sender.login}`);
      return;
    }
    case "retry": {
      const last = (await runsOf(deps.store, repo, number)).find((r) => !ACTIVE.has(r.status));
      if (!last || last.status === "succeeded" || !(await deps.runs.retry(last.id))) {
        await comment(octokit, repo, number, "There is no failed or cancelled Octoflow run on this thread to retry.");
      }
      return;
    }
    case "review":
    case "run":
    case "alias": {
      let workflow: string;
      let inputs: Record<string, string> = {};
      if (command.name === "review") {
        if (!e.isPullRequest) {
          await comment(octokit, repo, number, "`/octoflow review` works on pull requests.");
          return;
        }
        workflow = setup.config.review.workflow;
      } else if (command.name === "run") {
        workflow = command.workflow;
        inputs = command.inputs;
      } else {
        const known =
          Object.hasOwn(setup.config.commands, command.alias) ||
          setup.catalog.list().some((entry) => entry.template.on.commands.includes(command.alias));
        if (!known) {
          await comment(octokit, repo, number, helpText(`\`${command.alias}\` is not an Octoflow command.`, setup.catalog.names()));
          return;
        }
        workflow = workflowForCommand(setup.config, command.alias, setup.catalog);
        inputs = command.inputs;
      }
      const pull = e.isPullRequest ? (await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: number })).data : undefined;
      const trigger = buildTrigger({
        kind: "command",
        repo,
        number,
        isPullRequest: e.isPullRequest,
        actor: e.sender.login,
        deliveryId: e.deliveryId,
        inputs,
        issue: e.issue,
        commentId: e.commentId,
        ...(pull ? { pullRequest: pullRequestInfo(pull) } : {}),
      });
      await startWorkflow(deps, octokit, setup, trigger, workflow);
      return;
    }
  }
}

/**
 * `/octoflow approve [step]`: approves the waiting gates (or only `step`) of the thread's active runs
 * that the commenter may approve. Answers with 👀 when something was approved, else with a comment
 * saying why not; a refusal changes nothing.
 */
async function approveCommand(deps: HandlerDeps, e: CommandEvent, trust: RepoConfig["trust"], step: string | undefined): Promise<void> {
  const { octokit, repo, number } = e;
  const active = (await runsOf(deps.store, repo, number)).filter((r) => ACTIVE.has(r.status));
  const results: ApprovalResult[] = [];
  for (const run of active) {
    const gates = (await waitingGates(deps, run, trust)).filter((g) => step === undefined || g.stepId === step);
    if (gates.length > 0) results.push(await approveGates(deps, octokit, repo, run, gates, e.sender));
  }
  if (results.length === 0) {
    const what = step === undefined ? "Octoflow run waiting for an approval" : `Octoflow step \`${step}\` waiting for an approval`;
    await comment(octokit, repo, number, `There is no ${what} on this thread. \`/octoflow status\` shows what the runs are doing.`);
    return;
  }
  if (results.some((r) => r.approved.length > 0)) await react(e);
  const refused = results.filter((r) => r.refused.length > 0);
  if (refused.length > 0) {
    const merged: ApprovalResult = { approved: [], refused: refused.flatMap((r) => r.refused), permission: refused[0]?.permission ?? "none" };
    await comment(octokit, repo, number, refusalText(e.sender.login, merged));
  }
}
