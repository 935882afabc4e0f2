/** `issues.labeled`: an Octoflow label on an issue starts a workflow. */
import type { Context } from "probot";
import { handleLabel } from "../label-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onIssuesLabeled(deps: HandlerDeps) {
  return async (context: Context<"issues.labeled">): Promise<void> => {
    const { payload } = context;
    // Pull requests are handled by `pull_request.labeled` (never both for one label).
    if (!payload.label?.name || payload.issue.state === "closed" || payload.issue.pull_request) return;
    await handleLabel(deps, {
      deliveryId: context.id,
      event: "issues.labeled",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      label: payload.label.name,
      number: payload.issue.number,
      isPullRequest: false,
      sender: { login: payload.sender.login, type: payload.sender.type },
      issue: { title: payload.issue.title, body: payload.issue.body, url: payload.issue.html_url },
    });
  };
}
