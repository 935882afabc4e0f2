/**
 * Outputs of a run on Octoflow's own pull request (`/octoflow fix` in a review, CI autofix): commits on
 * that pull request's branch and no other pull request; the answer in the review thread, once, even
 * when the delivery is resumed after an earlier attempt committed.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyOutputs } from "../../src/github/outputs/apply-outputs.ts";
import { publishPullRequest } from "../../src/github/outputs/pull-request-output.ts";
import { isOwnPullRequest, ownPullRequestBranch, PR_MARKER } from "../../src/github/own-pull-request.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { pullRequestKey } from "../../src/store/marker-keys.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { asRunId, type StepOutput, type StepRecord, type Trigger } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit, trigger } from "./support.ts";

const usage = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };
const BRANCH = "octoflow/7-add-a-greeting";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/app.ts": "export const a = 1;\n" } });
  store = createMemoryRunStore();
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

/** Octoflow's pull request #40 on BRANCH, and a review-comment trigger on it answering thread `top`. */
function ownPull(top: number): Trigger {
  const head = model.commitFiles(BRANCH, { "src/hello.ts": "export const hello = 1;\n" });
  model.addPull({ number: 40, title: "Octoflow: Add a greeting", body: `${PR_MARKER}\nWhat was done.`, draft: true, head: { ref: BRANCH, sha: head, repoFullName: "octo/app" }, base: { ref: "main", sha: model.state.refs.get("heads/main") ?? "" }, files: [], user: "octoflow[bot]" });
  return trigger({
    kind: "review_comment",
    number: 40,
    isPullRequest: true,
    issue: { title: "Octoflow: Add a greeting", body: PR_MARKER, url: "https://github.com/octo/app/pull/40" },
    pullRequest: { headSha: head, baseSha: model.state.refs.get("heads/main") ?? "", headRef: BRANCH, baseRef: "main", fromFork: false, draft: true },
    review: { request: "rename it", path: "src/hello.ts", line: 1, thread: [{ author: "alice", body: "/octoflow fix rename it" }], replyTo: { kind: "thread", commentId: top } },
  });
}

const change = (runId: string, text: string, content: string): StepRecord[] => [
  { runId: asRunId(runId), stepId: step("address", "generate", "pull_request").id, status: "succeeded", attempts: 1, output: { text, usage, costUsd: 0, edits: [{ kind: "modify", path: "src/hello.ts", blocks: [{ search: "hello = 1", replace: content }] }] } satisfies StepOutput },
];

describe("a run on Octoflow's own pull request", () => {
  it("commits on the pull request's branch on top of its head, opens and edits no pull request", async () => {
    const t = ownPull(1);
    const run = runRecord("run-own", [step("address", "generate", "pull_request")], t, { workflow: "address-review" });
    await store.createRun(run, []);
    const before = model.state.refs.get(`heads/${BRANCH}`);
    const result = await publishPullRequest({ octokit: testOctokit(gh.url), store, log: silentLog }, run, change("run-own", "Renamed", "greeting = 1"));
    gh.verify();
    expect(result).toMatchObject({ number: 40, url: "https://github.com/octo/app/pull/40", branch: BRANCH });
    const head = model.state.refs.get(`heads/${BRANCH}`) ?? "";
    expect(result?.commits).toEqual([head]);
    expect(model.state.commits.get(head)?.parents).toEqual([before]);
    expect(model.filesAt(head).get("src/hello.ts")).toBe("export const greeting = 1;\n");
    expect(gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(0);
    expect(gh.find("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")).toHaveLength(0);
    expect(gh.find("GET", "/repos/{owner}/{repo}/pulls")).toHaveLength(0);
    expect(model.state.pulls[0]?.body).toBe(`${PR_MARKER}\nWhat was done.`);
    expect([...model.state.refs.keys()].sort()).toEqual(["heads/main", `heads/${BRANCH}`]);
    expect((await store.getRun(run.id))?.pullRequestNumber).toBe(40);
  });

  it("refuses to recreate the branch of a pull request whose branch was deleted", async () => {
    const t = ownPull(1);
    model.state.refs.delete(`heads/${BRANCH}`);
    const run = runRecord("run-gone", [step("address", "generate", "pull_request")], t);
    await store.createRun(run, []);
    await expect(publishPullRequest({ octokit: testOctokit(gh.url), store, log: silentLog }, run, change("run-gone", "Renamed", "greeting = 1"))).rejects.toThrow(
      `the branch ${BRANCH} of pull request #40 no longer exists`,
    );
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/refs")).toHaveLength(0);
    expect(model.state.refs.has(`heads/${BRANCH}`)).toBe(false);
  });

  it("answers in the thread once, linking the commit an earlier attempt made when the delivery resumes", async () => {
    const top = model.reviewThreads.comment({ pullNumber: 40, user: "alice", body: "/octoflow fix rename it", path: "src/hello.ts", line: 1 });
    const t = ownPull(top.id);
    const run = runRecord("run-reply", [step("address", "generate", "pull_request")], t, { workflow: "address-review", status: "succeeded" });
    await store.createRun(run, []);
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const records = change("run-reply", "Renamed hello to greeting.", "greeting = 1");
    // an earlier attempt committed and pushed, then the process died before answering
    const earlier = await publishPullRequest(deps, run, records);
    const sha = earlier?.commits[0] ?? "";
    await applyOutputs(deps, run, records);
    await applyOutputs(deps, run, records);
    gh.verify();
    const replies = model.reviewThreads.repliesTo(top.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toContain(`<!-- octoflow:reply:run-reply -->`);
    expect(replies[0]?.body).toContain(`[\`${sha.slice(0, 7)}\`](https://github.com/octo/app/commit/${sha})`);
    expect(replies[0]?.body).toContain("Renamed hello to greeting.");
    expect(model.state.refs.get(`heads/${BRANCH}`)).toBe(sha);
  });

  it("answers a failed run in the thread without a commit", async () => {
    const top = model.reviewThreads.comment({ pullNumber: 40, user: "alice", body: "/octoflow fix rename it", path: "src/hello.ts", line: 1 });
    const t = ownPull(top.id);
    const run = runRecord("run-failed", [step("address", "generate", "pull_request")], t, { status: "failed" });
    await store.createRun(run, []);
    await applyOutputs({ octokit: testOctokit(gh.url), store, log: silentLog }, run, []);
    gh.verify();
    const replies = model.reviewThreads.repliesTo(top.id);
    expect(replies.map((r) => r.body.split("\n")[1])).toEqual(["I could not finish this request: run `run-failed` failed (the check run has the details). Comment `/octoflow retry` on the pull request to try again."]);
  });
});

describe("which pull requests are Octoflow's own", () => {
  const pr = { headSha: "h", baseSha: "b", headRef: BRANCH, baseRef: "main", fromFork: false, draft: false };
  it("publishing treats a same-repository octoflow/… head as the branch to push to, never a fork's or another branch", () => {
    expect(ownPullRequestBranch(trigger({ isPullRequest: true, pullRequest: pr }))).toBe(BRANCH);
    expect(ownPullRequestBranch(trigger({ isPullRequest: true, pullRequest: { ...pr, fromFork: true } }))).toBeUndefined();
    expect(ownPullRequestBranch(trigger({ isPullRequest: true, pullRequest: { ...pr, headRef: "feature/x" } }))).toBeUndefined();
    expect(ownPullRequestBranch(trigger({ isPullRequest: false, pullRequest: pr }))).toBeUndefined();
    expect(ownPullRequestBranch(trigger({ isPullRequest: true, repo: { owner: "octo", name: "app", defaultBranch: BRANCH }, pullRequest: pr }))).toBeUndefined();
  });

  it("a pull request is Octoflow's with the marker in its body or the store's pr: marker, on an octoflow/… branch of the same repository", async () => {
    const repo = { owner: "octo", name: "app", defaultBranch: "main" };
    const pull = (ref: string, body: string, head = "octo/app") => ({ number: 40, title: "t", body, head: { sha: "h", ref, repo: { full_name: head } }, base: { sha: "b", ref: "main", repo: { full_name: "octo/app" } } });
    expect(await isOwnPullRequest(store, repo, pull(BRANCH, `${PR_MARKER}\nx`))).toBe(true);
    expect(await isOwnPullRequest(store, repo, pull(BRANCH, "no marker"))).toBe(false);
    await store.setMarker(pullRequestKey("octo", "app", BRANCH), "40");
    expect(await isOwnPullRequest(store, repo, pull(BRANCH, "no marker"))).toBe(true);
    expect(await isOwnPullRequest(store, repo, pull("feature/x", PR_MARKER))).toBe(false);
    expect(await isOwnPullRequest(store, repo, pull(BRANCH, PR_MARKER, "fork/app"))).toBe(false);
  });
});
