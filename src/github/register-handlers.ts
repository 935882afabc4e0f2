/**
 * Subscribes the webhook handlers. Deliveries the app receives but does not act on (installation,
 * other actions) are only counted and logged by `src/app.ts`. `app.yml` subscribes to exactly the
 * events named here (a test checks both lists against each other and against the registrations).
 */
import type { Context, Probot } from "probot";
import { onCheckRunRequestedAction } from "./handlers/on-check-run-requested-action.ts";
import { onCheckRunRerequested } from "./handlers/on-check-run-rerequested.ts";
import { onCheckSuiteCompleted } from "./handlers/on-check-suite-completed.ts";
import { CI_FINISHED_EVENTS, onCiFinished } from "./handlers/on-ci-finished.ts";
import { onIssueCommentCreated } from "./handlers/on-issue-comment-created.ts";
import { onIssuesLabeled } from "./handlers/on-issues-labeled.ts";
import { onPullRequestLabeled } from "./handlers/on-pull-request-labeled.ts";
import { onPullRequestReviewable, REVIEWABLE_PULL_REQUEST_EVENTS } from "./handlers/on-pull-request-reviewable.ts";
import { onPullRequestReviewCommentCreated } from "./handlers/on-pull-request-review-comment-created.ts";
import { onPullRequestReviewSubmitted } from "./handlers/on-pull-request-review-submitted.ts";
import type { HandlerDeps } from "./start-run.ts";

/** The events and actions Octoflow acts on, as `registerHandlers` subscribes them. */
export const HANDLED_EVENTS = [
  "issues.labeled",
  "issue_comment.created",
  ...REVIEWABLE_PULL_REQUEST_EVENTS,
  "pull_request.labeled",
  "check_run.requested_action",
  "check_run.rerequested",
  "pull_request_review_comment.created",
  "pull_request_review.submitted",
  "check_suite.completed",
  "check_run.completed",
  "status",
] as const;

/**
 * Events a GitHub App receives without subscribing to them: `installation` (and its actions).
 * They are counted and logged, never acted on.
 */
const ALWAYS_DELIVERED = ["installation"] as const;

/**
 * The webhook events the app receives: the events of `HANDLED_EVENTS` (what `app.yml` subscribes
 * to) plus those delivered to every app.
 */
export const RECEIVED_EVENTS: readonly string[] = [...new Set(HANDLED_EVENTS.map((key) => key.split(".")[0] as string)), ...ALWAYS_DELIVERED];

/**
 * @example
 * registerHandlers(app, { store, runs: engineRunControl(engine), setups, gate, clock, log, metrics });
 */
export function registerHandlers(app: Probot, deps: HandlerDeps): void {
  app.on("issues.labeled", onIssuesLabeled(deps));
  app.on("issue_comment.created", onIssueCommentCreated(deps));
  app.on([...REVIEWABLE_PULL_REQUEST_EVENTS], onPullRequestReviewable(deps));
  app.on("pull_request.labeled", onPullRequestLabeled(deps));
  app.on("check_run.requested_action", onCheckRunRequestedAction(deps));
  app.on("check_run.rerequested", onCheckRunRerequested(deps));
  app.on("pull_request_review_comment.created", onPullRequestReviewCommentCreated(deps));
  app.on("pull_request_review.submitted", onPullRequestReviewSubmitted(deps));
  app.on("check_suite.completed", onCheckSuiteCompleted(deps));
  app.on([...CI_FINISHED_EVENTS], onCiFinished(deps));
}

/** A handler of one delivery (Probot's context for `<event>.<action>`). */
export type DeliveryHandler = (context: Context) => Promise<void>;

/**
 * The app's handlers by `<event>.<action>`: what `registerHandlers` subscribes and what the webhook
 * inbox's worker runs for a stored delivery. Several handlers of one key run one after the other,
 * like Probot's own `app.on`; the first failure is thrown after all ran.
 */
export function handlerTable(deps: HandlerDeps): Map<string, DeliveryHandler> {
  const table = new Map<string, DeliveryHandler>();
  const registrar = {
    on(keys: string | string[], handler: DeliveryHandler) {
      for (const key of Array.isArray(keys) ? keys : [keys]) {
        const earlier = table.get(key);
        table.set(key, earlier ? both(earlier, handler) : handler);
      }
    },
  };
  registerHandlers(registrar as unknown as Probot, deps);
  return table;
}

function both(first: DeliveryHandler, second: DeliveryHandler): DeliveryHandler {
  return async (context) => {
    const failures: unknown[] = [];
    for (const handler of [first, second]) await handler(context).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  };
}
