/**
 * CI autofix (`autofix.ci` in `.github/octoflow.yml`, off by default): when another app's check suite
 * (GitHub Actions, any CI) fails on the current head of a pull request Octoflow opened, start
 * `address-review` on that branch with the failing checks in the prompt — unless a run is still at work
 * on that pull request (its own verify-and-fix loop answers its CI). At most one fix per head
 * commit and `autofix.maxRunsPerPullRequest` per pull request (store markers claimed atomically);
 * past the limit Octoflow says so once on the pull request and stops. Octoflow's own check suite is
 * ignored, so its check run can never start a fix of itself.
 */
import { ConfigError } from "../errors/config-error.ts";
import { autofixHeadKey, autofixLimitKey, autofixSlotKey } from "../store/marker-keys.ts";
import { ACTIVE_RUN_STATUSES, type RepoRef, type Trigger } from "../workflows/types.ts";
import type { GitHubClient } from "./client.ts";
import { isOwnPullRequest, OCTOFLOW_BRANCH_PREFIX } from "./own-pull-request.ts";
import type { Actor } from "./permission-gate.ts";
import { ADDRESS_REVIEW_WORKFLOW } from "./review-fix-trigger.ts";
import { comment, startWorkflow, type HandlerDeps } from "./start-run.ts";
import { buildTrigger, pullRequestInfo } from "./triggers.ts";

/** Check-suite and check-run conclusions that count as a CI failure. */
const FAILED = new Set(["failure", "timed_out"]);
const MAX_SUMMARY_CHARS = 1500;
const MAX_CHECKS = 20;

export interface CheckSuiteEvent {
  deliveryId: string;
  octokit: GitHubClient;
  repo: RepoRef;
  suite: {
    id: number;
    conclusion: string | null;
    headBranch: string | null;
    headSha: string;
    appId: number | undefined;
    pullRequests: readonly { number: number; head: { ref: string } }[];
  };
  sender: Actor;
}

async function findPullNumber(e: CheckSuiteEvent, branch: string): Promise<number | undefined> {
  const listed = e.suite.pullRequests.find((p) => p.head.ref === branch);
  if (listed) return listed.number;
  const { data } = await e.octokit.rest.pulls.list({ owner: e.repo.owner, repo: e.repo.name, head: `${e.repo.owner}:${branch}`, state: "open", per_page: 1 });
  return data[0]?.number;
}

async function failingChecks(e: CheckSuiteEvent): Promise<NonNullable<NonNullable<Trigger["review"]>["checks"]>> {
  const { data } = await e.octokit.rest.checks.listForSuite({ owner: e.repo.owner, repo: e.repo.name, check_suite_id: e.suite.id, filter: "latest", per_page: 100 });
  return data.check_runs
    .filter((run) => run.conclusion !== null && FAILED.has(run.conclusion))
    .slice(0, MAX_CHECKS)
    .map((run) => ({
      name: run.name,
      conclusion: run.conclusion ?? "failure",
      summary: [run.output.title, run.output.summary].filter((t): t is string => Boolean(t)).join(": ").slice(0, MAX_SUMMARY_CHARS),
    }));
}

/**
 * Takes one of the pull request's autofix slots for `claim` (the same claim gets the same slot back,
 * so a redelivery is idempotent); undefined when all are taken.
 */
async function takeSlot(deps: HandlerDeps, repo: RepoRef, pull: number, max: number, claim: string): Promise<number | undefined> {
  for (let slot = 1; slot <= max; slot++) {
    if ((await deps.store.putMarkerIfAbsent(autofixSlotKey(repo.owner, repo.name, pull, slot), claim)) === claim) return slot;
  }
  return undefined;
}

/**
 * Handles one `check_suite.completed`.
 *
 * @example
 * await handleCheckSuiteCompleted(deps, { deliveryId: context.id, octokit: context.octokit, repo, suite, sender });
 */
export async function handleCheckSuiteCompleted(deps: HandlerDeps, e: CheckSuiteEvent): Promise<void> {
  const { suite, repo, octokit } = e;
  const branch = suite.headBranch;
  if (!suite.conclusion || !FAILED.has(suite.conclusion) || !branch?.startsWith(OCTOFLOW_BRANCH_PREFIX)) return;
  if (suite.appId !== undefined && suite.appId === deps.appId) return;
  let setup;
  try {
    setup = await deps.setups.load(octokit, repo);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return;
  }
  const { autofix } = setup.config;
  if (!autofix.ci) return;
  const log = deps.log.child({ repo: `${repo.owner}/${repo.name}`, branch, suite: suite.id });
  const number = await findPullNumber(e, branch);
  if (number === undefined) return;
  const { data: pull } = await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: number });
  if (pull.state !== "open" || pull.head.sha !== suite.headSha || !(await isOwnPullRequest(deps.store, repo, pull))) {
    log.debug({ pull: number, state: pull.state }, "CI failure not on the current head of an open Octoflow pull request: no autofix");
    return;
  }
  // A run still at work on this pull request (a fix, or the run that opened it and verifies its CI) answers it.
  const active = new Set<string>(ACTIVE_RUN_STATUSES);
  const busy = (await deps.store.listRuns({ repo: `${repo.owner}/${repo.name}`, limit: 200 })).find(
    (r) => active.has(r.status) && (r.trigger.number === number || r.pullRequestNumber === number),
  );
  if (busy) {
    log.info({ pull: number, runId: busy.id }, "CI failed while a run works on the pull request: no autofix");
    return;
  }
  // One fix per head commit (several CI apps may fail on it), claimed for this delivery.
  const claim = `${e.deliveryId}:autofix`;
  if ((await deps.store.putMarkerIfAbsent(autofixHeadKey(repo.owner, repo.name, number, suite.headSha), claim)) !== claim) return;
  const slot = await takeSlot(deps, repo, number, autofix.maxRunsPerPullRequest, claim);
  if (slot === undefined) {
    log.info({ pull: number, limit: autofix.maxRunsPerPullRequest }, "CI autofix limit reached");
    if ((await deps.store.putMarkerIfAbsent(autofixLimitKey(repo.owner, repo.name, number), claim)) === claim) {
      await comment(
        octokit,
        repo,
        number,
        `CI still fails on this pull request, and Octoflow already made ${autofix.maxRunsPerPullRequest} attempt${autofix.maxRunsPerPullRequest === 1 ? "" : "s"} to fix it (\`autofix.maxRunsPerPullRequest\`), so it stops here. Ask for a specific change with \`/octoflow fix …\` in a review comment.`,
      );
    }
    return;
  }
  const checks = await failingChecks(e);
  const names = checks.map((c) => c.name).join(", ") || "a check suite";
  const trigger: Trigger = {
    ...buildTrigger({
      kind: "ci_failure",
      repo,
      number,
      isPullRequest: true,
      actor: e.sender.login,
      deliveryId: claim,
      issue: { title: pull.title, body: pull.body ?? "", url: pull.html_url },
      pullRequest: pullRequestInfo(pull),
    }),
    review: {
      request: `CI failed on ${suite.headSha.slice(0, 7)} (${names}). Fix what makes these checks fail (autofix ${slot} of ${autofix.maxRunsPerPullRequest}).`,
      checks,
      replyTo: { kind: "none" },
    },
  };
  await startWorkflow(deps, octokit, setup, trigger, ADDRESS_REVIEW_WORKFLOW, { recorded: false });
}
