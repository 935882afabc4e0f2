/**
 * Automatic pull-request review (`opened`, `reopened`, `synchronize`, `ready_for_review`): drafts
 * skipped, size limits and path filters from `review:` in the config, and on a push only the
 * commits since the last reviewed SHA. The review template's concurrency group (cancel-in-progress)
 * makes a new push cancel the superseded review run. Fork PRs are reviewed like any other — review
 * output is a PR review, nothing is ever pushed to the fork.
 */
import { ConfigError } from "../errors/config-error.ts";
import type { RepoConfig } from "../config/repo-config.ts";
import { countReviewPaths } from "../config/review-path-matcher.ts";
import type { RepoRef } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { reviewedShaKey } from "../store/marker-keys.ts";
import { isBot } from "./permission-gate.ts";
import { firstDelivery, startWorkflow, type HandlerDeps } from "./start-run.ts";
import { buildTrigger, pullRequestInfo, type PullRequestPayload } from "./triggers.ts";

export interface PullRequestEvent {
  deliveryId: string;
  event: string;
  action: "opened" | "reopened" | "synchronize" | "ready_for_review";
  octokit: GitHubClient;
  repo: RepoRef;
  pull: PullRequestPayload & { state?: string };
  sender: { login: string; type: string };
}

/** Posts a completed check run explaining why Octoflow did not review (config error, too large). */
async function explain(e: PullRequestEvent, conclusion: "failure" | "neutral" | "skipped", title: string, summary: string): Promise<void> {
  await e.octokit.rest.checks.create({
    owner: e.repo.owner,
    repo: e.repo.name,
    name: "Octoflow: review",
    head_sha: e.pull.head.sha,
    status: "completed",
    conclusion,
    output: { title: title.slice(0, 255), summary: summary.slice(0, 60_000) },
  });
}

async function selectedFileCount(e: PullRequestEvent, config: RepoConfig): Promise<number> {
  const { paths, maxFiles } = config.review;
  const names: string[] = [];
  for await (const page of e.octokit.paginate.iterator(e.octokit.rest.pulls.listFiles, { owner: e.repo.owner, repo: e.repo.name, pull_number: e.pull.number, per_page: 100 })) {
    for (const f of page.data) names.push(f.filename);
    if (names.length > maxFiles) break;
  }
  // The globs are the repository's: matched off the event loop, with a deadline (a ConfigError past it).
  return countReviewPaths(names, paths);
}

/** Handles one pull-request event that may start an automatic review. */
export async function handlePullRequest(deps: HandlerDeps, e: PullRequestEvent): Promise<void> {
  if (e.pull.state === "closed") return;
  let setup;
  try {
    setup = await deps.setups.load(e.octokit, e.repo);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (!(await firstDelivery(deps, e.deliveryId, e.event))) return;
    await explain(e, "failure", "Invalid Octoflow configuration", error.problems.map((p) => `- ${p}`).join("\n"));
    return;
  }
  const { review, trust } = setup.config;
  const log = deps.log.child({ repo: `${e.repo.owner}/${e.repo.name}`, pull: e.pull.number, action: e.action });
  if (!review.auto) return;
  if (e.pull.draft && review.skipDrafts) {
    log.debug("draft pull request: automatic review skipped");
    return;
  }
  if (isBot(e.sender) && !trust.allowBots.some((b) => b.toLowerCase() === e.sender.login.toLowerCase())) {
    log.debug({ sender: e.sender.login }, "bot pull request: automatic review skipped");
    return;
  }
  const changedLines = (e.pull.additions ?? 0) + (e.pull.deletions ?? 0);
  if ((e.pull.changed_files ?? 0) > review.maxFiles || changedLines > review.maxChangedLines) {
    if (!(await firstDelivery(deps, e.deliveryId, e.event))) return;
    await explain(
      e,
      "skipped",
      "Too large for an automatic review",
      `This pull request changes ${e.pull.changed_files ?? "?"} files and ${changedLines} lines; the automatic review stops at ${review.maxFiles} files or ${review.maxChangedLines} lines (\`review.maxFiles\`, \`review.maxChangedLines\` in \`.github/octoflow.yml\`). Comment \`/octoflow review\` to review it anyway.`,
    );
    return;
  }
  let selected: number | undefined;
  try {
    if (review.paths.include.length > 0 || review.paths.exclude.length > 0) selected = await selectedFileCount(e, setup.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (await firstDelivery(deps, e.deliveryId, e.event)) await explain(e, "failure", "Invalid Octoflow configuration", error.problems.map((p) => `- ${p}`).join("\n"));
    return;
  }
  if (selected === 0) {
    log.debug("no changed file matches review.paths: automatic review skipped");
    return;
  }
  let sinceSha: string | undefined;
  if (e.action === "synchronize") {
    const reviewed = await deps.store.getMarker(reviewedShaKey(e.repo.owner, e.repo.name, e.pull.number));
    if (reviewed && reviewed !== e.pull.head.sha) sinceSha = reviewed;
  }
  const trigger = buildTrigger({
    kind: "pull_request",
    repo: e.repo,
    number: e.pull.number,
    isPullRequest: true,
    actor: e.sender.login,
    deliveryId: e.deliveryId,
    issue: { title: e.pull.title, body: e.pull.body ?? "", ...(e.pull.html_url ? { url: e.pull.html_url } : {}) },
    pullRequest: pullRequestInfo(e.pull, sinceSha),
  });
  await startWorkflow(deps, e.octokit, setup, trigger, review.workflow, { recorded: false });
}
