/**
 * `pull_request.opened`, `.reopened`, `.synchronize` and `.ready_for_review`: the pull request has
 * code worth reviewing, which may start an automatic review (see `../pull-request-trigger.ts`).
 */
import type { Context } from "probot";
import { handlePullRequest } from "../pull-request-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

/** The `pull_request` actions that may start an automatic review. */
export const REVIEWABLE_PULL_REQUEST_EVENTS = ["pull_request.opened", "pull_request.reopened", "pull_request.synchronize", "pull_request.ready_for_review"] as const;

type ReviewableEvent = (typeof REVIEWABLE_PULL_REQUEST_EVENTS)[number];

/**
 * @example
 * app.on([...REVIEWABLE_PULL_REQUEST_EVENTS], onPullRequestReviewable(deps));
 */
export function onPullRequestReviewable(deps: HandlerDeps) {
  return async (context: Context<ReviewableEvent>): Promise<void> => {
    const { payload } = context;
    await handlePullRequest(deps, {
      deliveryId: context.id,
      event: `pull_request.${payload.action}`,
      action: payload.action,
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      pull: payload.pull_request,
      sender: { login: payload.sender.login, type: payload.sender.type },
    });
  };
}
