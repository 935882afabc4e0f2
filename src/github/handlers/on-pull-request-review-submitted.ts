/** `pull_request_review.submitted`: `/octoflow fix …` in a review's body on Octoflow's own pull request. */
import type { Context } from "probot";
import { handleReviewFix } from "../review-fix-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onPullRequestReviewSubmitted(deps: HandlerDeps) {
  return async (context: Context<"pull_request_review.submitted">): Promise<void> => {
    const { payload } = context;
    const review = payload.review;
    if (!review.body) return;
    await handleReviewFix(deps, {
      deliveryId: context.id,
      event: "pull_request_review.submitted",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      pull: payload.pull_request,
      sender: { login: review.user?.login ?? payload.sender.login, type: review.user?.type ?? payload.sender.type },
      body: review.body,
    });
  };
}
