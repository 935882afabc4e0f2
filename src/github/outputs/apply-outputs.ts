/**
 * Applies a finished run's outputs, once: `pull_request` steps → commits + draft PR (or commits on
 * Octoflow's own pull request), `review` steps → one review, `comment` steps → text for the sticky
 * comment, and the answer to a review request (`/octoflow fix` in a review thread). Reads the step outputs from the store,
 * so it works the same after a resume on another replica. Every side effect is guarded by a marker.
 */
import { scrubSecrets } from "../../observability/logger.ts";
import type { Finding, RunRecord, StepRecord } from "../../workflows/types.ts";
import { publishPullRequest, type OutputDeps, type ProducedStep, type PullRequestResult } from "./pull-request-output.ts";
import { publishReview, type ReviewResult } from "./review-output.ts";
import { replyToReviewRequest } from "./review-reply.ts";
import { reviewedShaKey } from "../../store/marker-keys.ts";

export interface AppliedOutputs {
  pullRequest?: PullRequestResult;
  review?: ReviewResult;
  /** Texts of `comment` steps. */
  results: { step: string; text: string }[];
  /** Problems worth telling the user (edits refused or not applied, an output that failed). */
  notes: string[];
  /** Number of review findings the run produced (new or repeated). */
  findings: number;
}

/**
 * @example
 * const applied = await applyOutputs({ octokit, store, log }, run, await store.getSteps(run.id));
 */
export async function applyOutputs(deps: OutputDeps, run: RunRecord, records: StepRecord[]): Promise<AppliedOutputs> {
  const applied: AppliedOutputs = { results: [], notes: [], findings: 0 };
  if (run.status === "cancelled") return applied;
  const byId = new Map(records.map((r) => [String(r.stepId), r]));
  const produced: ProducedStep[] = [];
  const findings: Finding[] = [];
  const reviewTexts: string[] = [];
  for (const step of run.plan.steps) {
    const record = byId.get(String(step.id));
    if (record?.status !== "succeeded" || !record.output) continue;
    const output = record.output;
    switch (step.output) {
      case "pull_request":
        if ((output.changes?.length ?? output.edits?.length ?? 0) > 0) produced.push({ step, output });
        break;
      case "review":
        findings.push(...(output.findings ?? []));
        reviewTexts.push(output.text);
        break;
      case "comment":
        applied.results.push({ step: step.name || String(step.id), text: scrubSecrets(output.text).slice(0, 30_000) });
        break;
      case "none":
        break;
    }
  }
  applied.findings = findings.length;
  const { owner, name: repo } = run.trigger.repo;

  if (produced.length > 0) {
    // A failure propagates: the caller (the engine's finaliser through `RunOutputs`) retries transient
    // ones and fails the run on the others; the markers make a second call resume where this one stopped.
    const pr = await publishPullRequest(deps, run, records);
    if (pr) {
      applied.pullRequest = pr;
      applied.notes.push(...pr.notes);
    } else applied.notes.push("No file could be changed, so no pull request was opened.");
  }
  const hasReviewStep = run.plan.steps.some((s) => s.output === "review");
  if (hasReviewStep && run.trigger.isPullRequest) {
    const review = await publishReview(deps, run, findings, reviewTexts);
    if (review) applied.review = review;
    const headSha = run.trigger.pullRequest?.headSha;
    if (run.status === "succeeded" && headSha) await deps.store.setMarker(reviewedShaKey(owner, repo, run.trigger.number), headSha);
  } else if (hasReviewStep && findings.length > 0) {
    applied.results.push({
      step: "Findings",
      text: findings.map((f) => `- \`${f.path}:${f.line}\` **${f.severity}** ${f.body.replace(/\n+/g, " ")}`).join("\n").slice(0, 30_000),
    });
  }
  // Last: the answer links the commits pushed above.
  await replyToReviewRequest(deps, run, records, applied.notes);
  return applied;
}
