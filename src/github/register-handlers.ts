/**
 * Subscribes the webhook handlers. Events the app receives but does not act on (installation,
 * pull_request_review, other actions) are only counted and logged by `src/app.ts`.
 */
import type { Probot } from "probot";
import { onCheckRunRequestedAction } from "./handlers/on-check-run-requested-action.ts";
import { onCheckRunRerequested } from "./handlers/on-check-run-rerequested.ts";
import { onIssueCommentCreated } from "./handlers/on-issue-comment-created.ts";
import { onIssuesLabeled } from "./handlers/on-issues-labeled.ts";
import { onPullRequestLabeled } from "./handlers/on-pull-request-labeled.ts";
import { onPullRequestOpened } from "./handlers/on-pull-request-opened.ts";
import { onPullRequestReadyForReview } from "./handlers/on-pull-request-ready-for-review.ts";
import { onPullRequestReopened } from "./handlers/on-pull-request-reopened.ts";
import { onPullRequestSynchronize } from "./handlers/on-pull-request-synchronize.ts";
import type { HandlerDeps } from "./start-run.ts";

/** The events and actions Octoflow acts on. */
export const HANDLED_EVENTS = [
  "issues.labeled",
  "issue_comment.created",
  "pull_request.opened",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.ready_for_review",
  "pull_request.labeled",
  "check_run.requested_action",
  "check_run.rerequested",
] as const;

/**
 * @example
 * registerHandlers(app, { store, runs: engineRunControl(engine), setups, gate, clock, log, metrics });
 */
export function registerHandlers(app: Probot, deps: HandlerDeps): void {
  app.on("issues.labeled", onIssuesLabeled(deps));
  app.on("issue_comment.created", onIssueCommentCreated(deps));
  app.on("pull_request.opened", onPullRequestOpened(deps));
  app.on("pull_request.reopened", onPullRequestReopened(deps));
  app.on("pull_request.synchronize", onPullRequestSynchronize(deps));
  app.on("pull_request.ready_for_review", onPullRequestReadyForReview(deps));
  app.on("pull_request.labeled", onPullRequestLabeled(deps));
  app.on("check_run.requested_action", onCheckRunRequestedAction(deps));
  app.on("check_run.rerequested", onCheckRunRerequested(deps));
}
