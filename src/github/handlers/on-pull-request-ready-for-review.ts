/** `pull_request.ready_for_review`: may start an automatic review (see `../pull-request-trigger.ts`). */
import type { Context } from "probot";
import { handlePullRequest } from "../pull-request-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onPullRequestReadyForReview(deps: HandlerDeps) {
  return async (context: Context<"pull_request.ready_for_review">): Promise<void> => {
    const { payload } = context;
    await handlePullRequest(deps, {
      deliveryId: context.id,
      event: "pull_request.ready_for_review",
      action: "ready_for_review",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      pull: payload.pull_request,
      sender: { login: payload.sender.login, type: payload.sender.type },
    });
  };
}
