/** `pull_request.labeled`: an Octoflow label on a pull request starts a workflow on it. */
import type { Context } from "probot";
import { handleLabel } from "../label-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { pullRequestInfo, repoRefOf } from "../triggers.ts";

export function onPullRequestLabeled(deps: HandlerDeps) {
  return async (context: Context<"pull_request.labeled">): Promise<void> => {
    const { payload } = context;
    const pull = payload.pull_request;
    if (!payload.label?.name || pull.state === "closed") return;
    await handleLabel(deps, {
      deliveryId: context.id,
      event: "pull_request.labeled",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      label: payload.label.name,
      number: pull.number,
      isPullRequest: true,
      sender: { login: payload.sender.login, type: payload.sender.type },
      issue: { title: pull.title, body: pull.body, url: pull.html_url },
      pullRequest: pullRequestInfo(pull),
    });
  };
}
