/**
 * Octoflow's own pull requests: the ones its `pull_request` output opened, on a branch `octoflow/…` of
 * the same repository, carrying the hidden PR marker in their body (or remembered by the store's
 * `pr:` marker for the branch). Review requests (`/octoflow fix` in a review thread) and CI autofix
 * work on these only, and publishing for them pushes to that branch instead of opening another.
 */
import { pullRequestKey } from "../store/marker-keys.ts";
import type { RunStore } from "../workflows/ports.ts";
import type { RepoRef, Trigger } from "../workflows/types.ts";
import { isFork, type PullRequestPayload } from "./triggers.ts";

/** The hidden marker at the top of every pull request body Octoflow writes. */
export const PR_MARKER = "<!-- octoflow:pull-request -->";

/** Every branch Octoflow creates starts with this. */
export const OCTOFLOW_BRANCH_PREFIX = "octoflow/";

/**
 * The branch of Octoflow's own pull request a trigger is on, or undefined: a same-repository pull
 * request whose head is an `octoflow/…` branch (never the default branch). Publishing for such a
 * trigger pushes to this branch and opens no pull request.
 */
export function ownPullRequestBranch(trigger: Pick<Trigger, "isPullRequest" | "pullRequest" | "repo">): string | undefined {
  const pr = trigger.pullRequest;
  if (!trigger.isPullRequest || !pr || pr.fromFork) return undefined;
  if (!pr.headRef.startsWith(OCTOFLOW_BRANCH_PREFIX) || pr.headRef === trigger.repo.defaultBranch) return undefined;
  return pr.headRef;
}

/**
 * Whether Octoflow opened this pull request: same repository, head `octoflow/…`, and the PR marker in
 * its body or the store's `pr:` marker for the branch naming this number.
 *
 * @example
 * if (!(await isOwnPullRequest(deps.store, repo, payload.pull_request))) return replyNotOurs();
 */
export async function isOwnPullRequest(store: Pick<RunStore, "getMarker">, repo: RepoRef, pull: PullRequestPayload): Promise<boolean> {
  if (isFork(pull) || !pull.head.ref.startsWith(OCTOFLOW_BRANCH_PREFIX) || pull.head.ref === repo.defaultBranch) return false;
  if ((pull.body ?? "").includes(PR_MARKER)) return true;
  return (await store.getMarker(pullRequestKey(repo.owner, repo.name, pull.head.ref))) === String(pull.number);
}
