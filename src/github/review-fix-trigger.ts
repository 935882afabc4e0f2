/**
 * `/octoflow fix [what to do]` in a review comment or a review's body. On a pull request Octoflow
 * opened, a user the trust gate lets through starts `address-review` on that pull request's branch
 * (base = its head), with the thread (path, line, diff hunk, earlier replies) in the prompt; the run
 * pushes to the same branch and answers in the thread (`outputs/review-reply.ts`). On any other pull
 * request the answer says so and nothing starts. Other `/octoflow` commands in reviews are not read.
 */
import type { RepoRef, Trigger } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { parseFixRequest } from "./command-parser.ts";
import { isOwnPullRequest } from "./own-pull-request.ts";
import { isBot, type Actor } from "./permission-gate.ts";
import { comment, firstDelivery, loadSetupOrReply, startWorkflow, type HandlerDeps } from "./start-run.ts";
import { buildTrigger, pullRequestInfo, type PullRequestPayload } from "./triggers.ts";

/** The built-in workflow that changes Octoflow's own pull request (a repository template of that name replaces it). */
export const ADDRESS_REVIEW_WORKFLOW = "address-review";

/** At most this many comments of a thread go into the prompt (the latest ones), each capped. */
const MAX_THREAD_COMMENTS = 30;
const MAX_COMMENT_CHARS = 4000;
/** Pages of review comments read to find a thread (100 each). */
const MAX_PAGES = 10;

export const NOT_OURS_REPLY =
  "`/octoflow fix` in a review works on pull requests Octoflow opened (its `octoflow/…` branches), so I did not start a run here. " +
  "Comment `/octoflow help` on the pull request to see what I can do.";

export interface ReviewFixEvent {
  deliveryId: string;
  event: "pull_request_review_comment.created" | "pull_request_review.submitted";
  octokit: GitHubClient;
  repo: RepoRef;
  pull: PullRequestPayload & { state?: string };
  /** Who wrote the comment or the review. */
  sender: Actor;
  /** The comment's or the review's text. */
  body: string;
  /** The review comment; absent for a review's body. */
  comment?: { id: number; inReplyTo?: number | null; path: string; line?: number | null; diffHunk: string };
}

/** The earlier comments of the thread `topId` starts, oldest first, ending with `e.comment`. */
async function threadOf(e: ReviewFixEvent, topId: number): Promise<{ author: string; body: string }[]> {
  const { owner, name: repo } = e.repo;
  const found: { id: number; author: string; body: string }[] = [];
  let pages = 0;
  for await (const page of e.octokit.paginate.iterator(e.octokit.rest.pulls.listReviewComments, { owner, repo, pull_number: e.pull.number, per_page: 100 })) {
    for (const c of page.data) {
      if (c.id === topId || c.in_reply_to_id === topId) found.push({ id: c.id, author: c.user?.login ?? "ghost", body: c.body });
    }
    if (++pages >= MAX_PAGES) break;
  }
  // The listing may not hold the comment that was just written yet.
  if (e.comment && !found.some((c) => c.id === e.comment?.id)) found.push({ id: e.comment.id, author: e.sender.login, body: e.body });
  return found
    .sort((a, b) => a.id - b.id)
    .slice(-MAX_THREAD_COMMENTS)
    .map((c) => ({ author: c.author, body: c.body.slice(0, MAX_COMMENT_CHARS) }));
}

/** Answers where the request was made: in the review thread, or on the pull request for a review body. */
async function answer(e: ReviewFixEvent, body: string): Promise<void> {
  if (e.comment) {
    const top = e.comment.inReplyTo ?? e.comment.id;
    await e.octokit.rest.pulls.createReplyForReviewComment({ owner: e.repo.owner, repo: e.repo.name, pull_number: e.pull.number, comment_id: top, body });
  } else {
    await comment(e.octokit, e.repo, e.pull.number, body);
  }
}

/**
 * Handles one review comment or submitted review that may hold `/octoflow fix`.
 *
 * @example
 * await handleReviewFix(deps, { deliveryId: context.id, event: "pull_request_review_comment.created", octokit: context.octokit,
 *   repo, pull: payload.pull_request, sender, body: payload.comment.body, comment: { id, inReplyTo, path, line, diffHunk } });
 */
export async function handleReviewFix(deps: HandlerDeps, e: ReviewFixEvent): Promise<void> {
  // Octoflow's own answers never start a run (whatever the model wrote in them).
  if (e.body.startsWith("<!-- octoflow:")) return;
  const fix = parseFixRequest(e.body);
  if (!fix || e.pull.state === "closed") return;
  if (!(await firstDelivery(deps, e.deliveryId, e.event))) return;
  const { octokit, repo } = e;
  const number = e.pull.number;
  const log = deps.log.child({ repo: `${repo.owner}/${repo.name}`, pull: number, event: e.event });
  if (!(await isOwnPullRequest(deps.store, repo, e.pull))) {
    log.info({ actor: e.sender.login }, "/octoflow fix on a pull request Octoflow did not open");
    if (!isBot(e.sender)) await answer(e, NOT_OURS_REPLY);
    return;
  }
  const setup = await loadSetupOrReply(deps, octokit, repo, number);
  if (!setup) return;
  const decision = await deps.gate.check(octokit, repo, e.sender, setup.config.trust);
  if (!decision.allowed) {
    log.info({ actor: e.sender.login, reason: decision.reason }, "review fix refused");
    await deps.gate.refuseOnce(octokit, repo, number, e.sender, decision);
    return;
  }
  if (e.comment) {
    await octokit.rest.reactions.createForPullRequestReviewComment({ owner: repo.owner, repo: repo.name, comment_id: e.comment.id, content: "eyes" });
  }
  const top = e.comment ? (e.comment.inReplyTo ?? e.comment.id) : undefined;
  const review: NonNullable<Trigger["review"]> = {
    request: fix.request,
    ...(e.comment ? { path: e.comment.path, diffHunk: e.comment.diffHunk, ...(typeof e.comment.line === "number" ? { line: e.comment.line } : {}) } : {}),
    thread: top === undefined ? [{ author: e.sender.login, body: e.body.slice(0, MAX_COMMENT_CHARS) }] : await threadOf(e, top),
    replyTo: top === undefined ? { kind: "pull_request" } : { kind: "thread", commentId: top },
  };
  const trigger: Trigger = {
    ...buildTrigger({
      kind: "review_comment",
      repo,
      number,
      isPullRequest: true,
      actor: e.sender.login,
      deliveryId: e.deliveryId,
      issue: { title: e.pull.title, body: e.pull.body ?? "", ...(e.pull.html_url ? { url: e.pull.html_url } : {}) },
      pullRequest: pullRequestInfo(e.pull),
    }),
    review,
  };
  await startWorkflow(deps, octokit, setup, trigger, ADDRESS_REVIEW_WORKFLOW);
}
