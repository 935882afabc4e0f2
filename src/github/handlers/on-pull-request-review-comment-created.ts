/** `pull_request_review_comment.created`: `/octoflow fix …` in a review thread of Octoflow's own pull request. */
import type { Context } from "probot";
import { handleReviewFix } from "../review-fix-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onPullRequestReviewCommentCreated(deps: HandlerDeps) {
  return async (context: Context<"pull_request_review_comment.created">): Promise<void> => {
    const { payload } = context;
    const c = payload.comment;
    await handleReviewFix(deps, {
      deliveryId: context.id,
      event: "pull_request_review_comment.created",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      pull: payload.pull_request,
      sender: { login: c.user?.login ?? payload.sender.login, type: c.user?.type ?? payload.sender.type },
      body: c.body ?? "",
      comment: { id: c.id, inReplyTo: c.in_reply_to_id ?? null, path: c.path, line: c.line ?? c.original_line ?? null, diffHunk: c.diff_hunk ?? "" },
    });
  };
}
