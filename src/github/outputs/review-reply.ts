/**
 * The answer to a review request (`/octoflow fix …` on Octoflow's own pull request): one reply in the
 * review thread (to its top comment), or one comment on the pull request for a request made in a
 * review's body, saying what changed with a link to each commit. Posted once per run (a store marker);
 * the commits are read from the step commit markers, so a resumed delivery links the commits an
 * earlier attempt made.
 */
import { scrubSecrets } from "../../observability/logger.ts";
import { neutralizeMarkdown } from "../../progress/neutralize-markdown.ts";
import { reviewReplyKey, stepCommitKey } from "../../store/marker-keys.ts";
import type { RunRecord, StepRecord } from "../../workflows/types.ts";
import type { OutputDeps } from "./pull-request-output.ts";

const SHA = /^[0-9a-f]{40}$/;
const MAX_FILES_LISTED = 20;

/** The web host of the repository (GitHub or a GitHub Enterprise Server), from the pull request's URL. */
function webBase(run: RunRecord): string {
  const { owner, name } = run.trigger.repo;
  try {
    const origin = new URL(run.trigger.issue?.url ?? "").origin;
    if (origin.startsWith("https://") || origin.startsWith("http://")) return `${origin}/${owner}/${name}`;
  } catch {
    // no URL: github.com
  }
  return `https://github.com/${owner}/${name}`;
}

/** The commits the run's producing steps made, in plan order. */
async function commitsOf(deps: OutputDeps, run: RunRecord): Promise<string[]> {
  const commits: string[] = [];
  for (const step of run.plan.steps) {
    if (step.output !== "pull_request") continue;
    const sha = (await deps.store.getMarker(stepCommitKey(String(run.id), String(step.id))))?.split(" ")[0];
    if (sha && SHA.test(sha)) commits.push(sha);
  }
  return commits;
}

function replyBody(run: RunRecord, records: readonly StepRecord[], commits: string[], notes: readonly string[]): string {
  const base = webBase(run);
  const lines: string[] = [];
  const produced = run.plan.steps.filter((s) => s.output === "pull_request").map((s) => records.find((r) => r.stepId === s.id));
  const summary = produced.map((r) => r?.output?.text.trim() ?? "").filter((t) => t !== "").join("\n\n").slice(0, 3000);
  const files = [...new Set(produced.flatMap((r) => (r?.output?.changes ?? r?.output?.edits ?? []).map((c) => c.path)))];
  if (commits.length > 0) {
    const links = commits.map((sha) => `[\`${sha.slice(0, 7)}\`](${base}/commit/${sha})`).join(", ");
    lines.push(`Pushed ${links} to \`${run.trigger.pullRequest?.headRef ?? "this branch"}\`.`);
    if (files.length > 0) lines.push("", `Changed: ${files.slice(0, MAX_FILES_LISTED).map((f) => `\`${f}\``).join(", ")}${files.length > MAX_FILES_LISTED ? ` and ${files.length - MAX_FILES_LISTED} more` : ""}.`);
  } else if (run.status === "succeeded") {
    lines.push("I made no change to the code for this request.");
  } else {
    lines.push(`I could not finish this request: run \`${run.id}\` ${run.status === "cancelled" ? "was cancelled" : "failed"} (the check run has the details). Comment \`/octoflow retry\` on the pull request to try again.`);
  }
  if (summary !== "") lines.push("", summary);
  if (notes.length > 0) lines.push("", ...notes.slice(0, 20).map((n) => `- ${n}`));
  // Summaries, paths and notes come from the model: no @mentions, no HTML comments (forged markers), no secrets.
  return `<!-- octoflow:reply:${run.id} -->\n${neutralizeMarkdown(scrubSecrets(lines.join("\n")))}`.slice(0, 60_000);
}

/**
 * Answers the review request that started `run`, once. Does nothing for runs without one (or whose
 * answer goes nowhere, like a CI autofix: its check run and comment say what happened).
 *
 * @returns the answer's URL, or undefined when there was nothing to answer
 */
export async function replyToReviewRequest(deps: OutputDeps, run: RunRecord, records: readonly StepRecord[], notes: readonly string[]): Promise<string | undefined> {
  const replyTo = run.trigger.review?.replyTo;
  if (!replyTo || replyTo.kind === "none") return undefined;
  const key = reviewReplyKey(String(run.id));
  const existing = await deps.store.getMarker(key);
  if (existing) return existing;
  const { owner, name: repo } = run.trigger.repo;
  const body = replyBody(run, records, await commitsOf(deps, run), notes);
  const url =
    replyTo.kind === "thread"
      ? (await deps.octokit.rest.pulls.createReplyForReviewComment({ owner, repo, pull_number: run.trigger.number, comment_id: replyTo.commentId, body })).data.html_url
      : (await deps.octokit.rest.issues.createComment({ owner, repo, issue_number: run.trigger.number, body })).data.html_url;
  await deps.store.setMarker(key, url);
  return url;
}
