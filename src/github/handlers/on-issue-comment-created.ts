/**
 * `issue_comment.created`: `/octoflow …` commands in issue and pull-request comments.
 * (`issue_comment.edited` is deliberately not subscribed: editing a comment never re-triggers.)
 */
import type { Context } from "probot";
import { runCommand } from "../command-actions.ts";
import { parseCommand } from "../command-parser.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onIssueCommentCreated(deps: HandlerDeps) {
  return async (context: Context<"issue_comment.created">): Promise<void> => {
    const { payload } = context;
    const command = parseCommand(payload.comment.body ?? "");
    if (!command) return;
    await runCommand(deps, {
      deliveryId: context.id,
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      number: payload.issue.number,
      isPullRequest: Boolean(payload.issue.pull_request),
      commentId: payload.comment.id,
      sender: { login: payload.comment.user?.login ?? payload.sender.login, type: payload.comment.user?.type ?? payload.sender.type },
      issue: { title: payload.issue.title, body: payload.issue.body, url: payload.issue.html_url },
      command,
    });
  };
}
