/**
 * End to end: Octoflow iterating on its own pull requests (issue 13, part 4). The real server receives
 * signed webhooks; GitHub (review threads, check suites included) and the model are fakes speaking the
 * wire formats, every GitHub request validated against the OpenAPI description.
 *
 * - `/octoflow fix …` in a review thread → one commit on the same branch, one reply in that thread, no
 *   second pull request; in a review's body → the same with a comment on the pull request;
 * - refused from a read-only user; answered but not run on a pull request Octoflow did not open;
 * - opt-in CI autofix: another app's failing check suite starts a fix with the failing checks in the
 *   prompt, once per head, never while a run still works on the pull request, at most
 *   `maxRunsPerPullRequest` per pull request, then one notice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PR_MARKER } from "../../src/github/own-pull-request.ts";
import { NOT_OURS_REPLY } from "../../src/github/review-fix-trigger.ts";
import { TERMINAL_RUN_STATUSES, type RunRecord } from "../../src/workflows/types.ts";
import type { ModelPull } from "../fakes/github-repo-model.ts";
import { installCheckSuites, type CheckSuites } from "../fakes/github-check-suites.ts";
import type { ModelReviewComment, ReviewThreadsModel } from "../fakes/github-review-threads.ts";
import { example } from "../github/app-harness.ts";
import { runRecord, step, trigger } from "../github/support.ts";
import { startE2eWorld, type E2eWorld } from "./e2e-world.ts";

type Json = Record<string, unknown>;

const SOURCE = "export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n";
const HUNK = "@@ -1,3 +1,3 @@\n export function add(a: number, b: number): number {\n-  return a - b;\n+  return a + b; // sum";
const CONFIG = "autofix:\n  ci: true\n  maxRunsPerPullRequest: 2\n";
const CI_APP = 15368;

let w: E2eWorld;
let threads: ReviewThreadsModel;
let ci: CheckSuites;

const finished = (r: RunRecord) => TERMINAL_RUN_STATUSES.includes(r.status);
const edit = (summary: string, search: string, replace: string) => ({
  kind: "text" as const,
  text: JSON.stringify({ summary, edits: [{ kind: "modify", path: "src/math.ts", content: null, blocks: [{ search, replace }] }] }),
  usage: { input: 900, output: 80 },
  chunkSize: 32,
});

/** A pull request as Octoflow's pull_request output opens it: branch `octoflow/…`, the PR marker in the body. */
function octoflowPull(number: number, ref: string, options: { ours?: boolean } = {}): ModelPull {
  const main = w.repo.state.refs.get("heads/main") ?? "";
  const sha = w.repo.commitFiles(ref, { "src/math.ts": SOURCE }, "Fix the bug: use + in add()");
  return w.repo.addPull({
    number,
    title: "Octoflow: add() subtracts",
    body: options.ours === false ? "My own change." : `${PR_MARKER}\nThis draft pull request was opened by Octoflow's **bug-fix** workflow for #7.`,
    draft: true,
    head: { ref, sha, repoFullName: "octo/app" },
    base: { ref: "main", sha: main },
    files: [],
    ...(options.ours === false ? { user: "bob" } : { user: "octoflow[bot]" }),
  });
}

function pullPayload(p: Json, pull: ModelPull): void {
  const pr = p.pull_request as Json;
  Object.assign(pr, { number: pull.number, state: "open", title: pull.title, body: pull.body, draft: pull.draft, html_url: `https://github.com/octo/app/pull/${pull.number}` });
  Object.assign(pr.head as Json, { ref: pull.head.ref, sha: w.repo.state.refs.get(`heads/${pull.head.ref}`), repo: { ...((pr.head as Json).repo as Json), full_name: "octo/app" } });
  Object.assign(pr.base as Json, { ref: "main", sha: pull.base.sha, repo: { ...((pr.base as Json).repo as Json), full_name: "octo/app" } });
}

async function reviewComment(pull: ModelPull, comment: ModelReviewComment, sender: string): Promise<void> {
  const payload = await example("pull_request_review_comment", "created", (p) => {
    p.comment = threads.commentPayload(comment);
    pullPayload(p, pull);
    p.sender = { login: sender, id: 1, type: "User" };
  });
  expect((await w.post("pull_request_review_comment", payload)).status).toBe(200);
}

async function checkSuiteFailed(pull: ModelPull, suite: { id: number; appId: number; headSha: string }): Promise<void> {
  const payload = await example("check_suite", "completed", (p) => {
    const s = p.check_suite as Json;
    Object.assign(s, { id: suite.id, head_branch: pull.head.ref, head_sha: suite.headSha, conclusion: "failure", status: "completed" });
    s.app = { ...(s.app as Json), id: suite.appId };
    s.pull_requests = [{ url: "https://api.github.com/repos/octo/app/pulls/1", id: 1, number: pull.number, head: { ref: pull.head.ref, sha: suite.headSha, repo: { id: 1, url: "https://api.github.com/repos/octo/app", name: "app" } }, base: { ref: "main", sha: pull.base.sha, repo: { id: 1, url: "https://api.github.com/repos/octo/app", name: "app" } } }];
    p.sender = { login: "github-actions[bot]", id: 41898282, type: "Bot" };
  });
  expect((await w.post("check_suite", payload)).status).toBe(200);
}

const promptOf = (index: number) => JSON.stringify(w.models.requestsTo("openai.responses")[index]?.body ?? {});
const octoflowReplies = (top: number) => threads.repliesTo(top).filter((c) => c.user === "octoflow[bot]");
const allComments = () => [...threads.state.comments.values()];

beforeAll(async () => {
  w = await startE2eWorld({ files: { "src/math.ts": "export function add(a: number, b: number): number {\n  return a - b;\n}\n", ".github/octoflow.yml": CONFIG }, permissions: { alice: "write", rita: "read" } });
  threads = w.repo.reviewThreads;
  ci = installCheckSuites(w.gh, { owner: "octo", repo: "app" });
});

afterAll(async () => {
  await w?.close();
});

describe("Octoflow iterates on its own pull requests", { timeout: 90_000 }, () => {
  it("/octoflow fix in a review thread → one commit on the same branch, one reply in that thread, no second pull request", async () => {
    const pull = octoflowPull(11, "octoflow/7-add-subtracts");
    const before = w.repo.state.refs.get("heads/octoflow/7-add-subtracts") ?? "";
    const top = threads.comment({ pullNumber: 11, user: "rita", body: "The comment says nothing: what does it sum?", path: "src/math.ts", line: 2, diffHunk: HUNK });
    threads.comment({ pullNumber: 11, user: "bob", body: "Agreed, name the operands.", path: "src/math.ts", line: 2, diffHunk: HUNK, inReplyTo: top.id });
    const request = threads.comment({ pullNumber: 11, user: "alice", body: "/octoflow fix say what is summed", path: "src/math.ts", line: 2, diffHunk: HUNK, inReplyTo: top.id });
    w.models.expect("openai.responses", edit("Named the operands in the comment.", "return a + b; // sum", "return a + b; // the sum of a and b"));

    await reviewComment(pull, request, "alice");
    const [run] = await w.settled((runs) => runs.length === 1 && runs.every(finished));
    expect(run).toMatchObject({ workflow: "address-review", status: "succeeded", pullRequestNumber: 11 });
    expect(run?.trigger).toMatchObject({ kind: "review_comment", number: 11, actor: "alice", review: { request: "say what is summed", path: "src/math.ts", line: 2, replyTo: { kind: "thread", commentId: top.id } } });
    w.models.assertDone();

    // the prompt carries the thread, fenced as data
    const prompt = promptOf(0);
    for (const text of ["untrusted-data source=\\\"review.thread\\\"", "The comment says nothing", "Agreed, name the operands.", "@bob", "untrusted-data source=\\\"review.diff_hunk\\\"", "return a - b;", "say what is summed"]) expect(prompt).toContain(text);

    // exactly one new commit, on the pull request's own branch, on top of its head; main untouched
    const head = w.repo.state.refs.get("heads/octoflow/7-add-subtracts") ?? "";
    expect(w.repo.state.commits.get(head)?.parents).toEqual([before]);
    expect(w.repo.filesAt(head).get("src/math.ts")).toContain("// the sum of a and b");
    expect(w.repo.filesAt("main").get("src/math.ts")).toContain("a - b");
    expect([...w.repo.state.refs.keys()].filter((r) => r.startsWith("heads/octoflow/"))).toEqual(["heads/octoflow/7-add-subtracts"]);

    // no second pull request, and the pull request's body is left as it was
    expect(w.gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(0);
    expect(w.gh.find("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")).toHaveLength(0);
    expect(w.repo.state.pulls).toHaveLength(1);

    // one reply, to the thread's top comment, with the commit link and what changed; 👀 on the request
    const replies = octoflowReplies(top.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toContain(`https://github.com/octo/app/commit/${head}`);
    expect(replies[0]?.body).toContain("Named the operands in the comment.");
    expect(replies[0]?.body).toContain("`src/math.ts`");
    expect(threads.state.reactions).toEqual([{ commentId: request.id, content: "eyes", user: "octoflow[bot]" }]);
    expect(w.gh.find("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies")).toHaveLength(1);
    w.gh.verify();
  });

  it("a read-only user's /octoflow fix is refused once; nothing runs", async () => {
    const pull = w.repo.state.pulls.find((p) => p.number === 11)!;
    const runsBefore = (await w.runtime.store.listRuns()).length;
    const head = w.repo.state.refs.get(`heads/${pull.head.ref}`);
    for (const body of ["/octoflow fix rewrite everything", "/octoflow fix please"]) {
      const c = threads.comment({ pullNumber: 11, user: "rita", body, path: "src/math.ts", line: 1, diffHunk: HUNK });
      await reviewComment(pull, c, "rita");
      await w.runtime.inbox.drain();
    }
    expect(await w.runtime.store.listRuns()).toHaveLength(runsBefore);
    const refusals = [...w.repo.state.comments.values()].filter((c) => c.issueNumber === 11 && c.body.includes("Thanks @rita"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.body).toContain("**write** access");
    expect(w.repo.state.refs.get(`heads/${pull.head.ref}`)).toBe(head);
    expect(allComments().filter((c) => c.user === "octoflow[bot]")).toHaveLength(1);
    w.gh.verify();
  });

  it("/octoflow fix on a pull request Octoflow did not open: a short reply in the thread, no run", async () => {
    const pull = octoflowPull(12, "octoflow/hand-made", { ours: false });
    const head = w.repo.state.refs.get("heads/octoflow/hand-made");
    const c = threads.comment({ pullNumber: 12, user: "alice", body: "/octoflow fix use a loop", path: "src/math.ts", line: 2, diffHunk: HUNK });
    const runsBefore = (await w.runtime.store.listRuns()).length;
    await reviewComment(pull, c, "alice");
    await w.runtime.inbox.drain();
    expect(await w.runtime.store.listRuns()).toHaveLength(runsBefore);
    const replies = octoflowReplies(c.id);
    expect(replies.map((r) => r.body)).toEqual([NOT_OURS_REPLY]);
    expect(w.repo.state.refs.get("heads/octoflow/hand-made")).toBe(head);
    w.gh.verify();
  });

  it("/octoflow fix in a review's body → a commit on the same branch and one comment on the pull request", async () => {
    const pull = w.repo.state.pulls.find((p) => p.number === 11)!;
    const before = w.repo.state.refs.get(`heads/${pull.head.ref}`) ?? "";
    w.models.expect("openai.responses", edit("Spelled out the return type.", "// the sum of a and b", "// the sum of a and b (a number)"));
    const payload = await example("pull_request_review", "submitted", (p) => {
      Object.assign(p.review as Json, { body: "Looks close.\n\n/octoflow fix mention the type", user: { ...((p.review as Json).user as Json), login: "alice", type: "User" } });
      pullPayload(p, pull);
      p.sender = { login: "alice", id: 1, type: "User" };
    });
    expect((await w.post("pull_request_review", payload)).status).toBe(200);
    const runs = await w.settled((rs) => rs.length === 2 && rs.every(finished));
    const run = runs.find((r) => r.trigger.review?.replyTo.kind === "pull_request");
    expect(run).toMatchObject({ workflow: "address-review", status: "succeeded" });
    const head = w.repo.state.refs.get(`heads/${pull.head.ref}`) ?? "";
    expect(w.repo.state.commits.get(head)?.parents).toEqual([before]);
    const answers = [...w.repo.state.comments.values()].filter((c) => c.issueNumber === 11 && c.body.startsWith(`<!-- octoflow:reply:${run?.id} -->`));
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain(`https://github.com/octo/app/commit/${head}`);
    expect(w.gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(0);
    w.models.assertDone();
    w.gh.verify();
  });

  it("autofix: another app's failing CI starts a fix with the failing checks, once per head, and stops at its limit", async () => {
    const pull = octoflowPull(31, "octoflow/31-add");
    const ref = `heads/${pull.head.ref}`;
    const runsOf31 = async () => (await w.runtime.store.listRuns({ limit: 100 })).filter((r) => r.trigger.number === 31);

    // Octoflow's own check suite failing never starts a fix.
    const head1 = w.repo.state.refs.get(ref) ?? "";
    ci.add({ id: 500, headSha: head1, appId: 123, runs: [{ name: "Octoflow: bug-fix", conclusion: "failure" }] });
    await checkSuiteFailed(pull, { id: 500, appId: 123, headSha: head1 });
    await w.runtime.inbox.drain();
    expect(await runsOf31()).toHaveLength(0);

    // While the run that opened the pull request still works on it (parked on its own CI check), its
    // verify-and-fix loop answers CI: no autofix.
    const opener = runRecord("opener-31", [step("generate", "generate", "pull_request")], trigger({ number: 7 }), { status: "waiting", pullRequestNumber: 31 });
    await w.runtime.store.createRun(opener, []);
    ci.add({ id: 499, headSha: head1, appId: CI_APP, runs: [{ name: "unit tests", conclusion: "failure" }] });
    await checkSuiteFailed(pull, { id: 499, appId: CI_APP, headSha: head1 });
    await w.runtime.inbox.drain();
    expect(await runsOf31()).toHaveLength(0);
    await w.runtime.store.updateRun(opener.id, { status: "succeeded", finishedAt: Date.now() });

    // CI fails → fix run 1, with the failing check (not the passing one) in the prompt; a second CI app
    // failing on the same head at the same time starts no second fix of it
    ci.add({ id: 501, headSha: head1, appId: CI_APP, runs: [{ name: "unit tests", conclusion: "failure", title: "1 test failed", summary: "add(2, 2): expected 4 to be 4 (comment check)" }, { name: "lint", conclusion: "success", title: "clean" }] });
    ci.add({ id: 502, headSha: head1, appId: CI_APP + 1, runs: [{ name: "e2e", conclusion: "timed_out" }] });
    w.models.expect("openai.responses", edit("Made the test pass.", "// sum", "// sum (checked)"));
    await checkSuiteFailed(pull, { id: 501, appId: CI_APP, headSha: head1 });
    await checkSuiteFailed(pull, { id: 502, appId: CI_APP + 1, headSha: head1 });
    await w.settled((rs) => rs.filter((r) => r.trigger.number === 31).length === 1 && rs.every(finished));
    await w.runtime.inbox.drain();
    await w.settled((rs) => rs.every(finished));
    expect(await runsOf31()).toHaveLength(1);
    const [first] = await runsOf31();
    expect(first).toMatchObject({ workflow: "address-review", status: "succeeded", trigger: { kind: "ci_failure", actor: "github-actions[bot]" } });
    const prompt = promptOf(2);
    expect(prompt).toContain("untrusted-data source=\\\"review.checks\\\"");
    expect(prompt).toContain("unit tests (failure): 1 test failed: add(2, 2): expected 4 to be 4 (comment check)");
    expect(prompt).not.toContain("lint (");
    const head2 = w.repo.state.refs.get(ref) ?? "";
    expect(w.repo.state.commits.get(head2)?.parents).toEqual([head1]);
    // visible like any run: its own check run on the pull request's head, with a Cancel button
    const created = w.gh.find("POST", "/repos/{owner}/{repo}/check-runs").map((r) => r.body as Json);
    expect(created.filter((c) => c.external_id === first?.id)).toMatchObject([{ name: "Octoflow: address-review", head_sha: head1, actions: [{ identifier: "cancel" }] }]);

    // a failure reported late for a head that is no longer the pull request's: nothing
    const older = "1".repeat(40);
    ci.add({ id: 510, headSha: older, appId: CI_APP + 2, runs: [{ name: "slow", conclusion: "failure" }] });
    await checkSuiteFailed(pull, { id: 510, appId: CI_APP + 2, headSha: older });
    await w.runtime.inbox.drain();
    expect(await runsOf31()).toHaveLength(1);

    // CI fails on the fixed head → fix run 2 (the limit)
    ci.add({ id: 503, headSha: head2, appId: CI_APP, runs: [{ name: "unit tests", conclusion: "failure", summary: "still red" }] });
    w.models.expect("openai.responses", edit("Second attempt.", "// sum (checked)", "// sum (checked twice)"));
    await checkSuiteFailed(pull, { id: 503, appId: CI_APP, headSha: head2 });
    await w.settled((rs) => rs.filter((r) => r.trigger.number === 31).length === 2 && rs.every(finished));
    const head3 = w.repo.state.refs.get(ref) ?? "";
    expect(w.repo.state.commits.get(head3)?.parents).toEqual([head2]);

    // CI fails again, and again after someone pushed: the limit is reached — one notice, no run
    const head4 = () => w.repo.commitFiles(pull.head.ref, { "NOTES.md": "pushed by a human\n" }, "notes");
    for (const [id, sha] of [[504, () => head3], [505, head4]] as const) {
      const headSha = sha();
      ci.add({ id, headSha, appId: CI_APP, runs: [{ name: "unit tests", conclusion: "failure" }] });
      await checkSuiteFailed(pull, { id, appId: CI_APP, headSha });
      await w.runtime.inbox.drain();
    }
    expect(await runsOf31()).toHaveLength(2);
    const notices = [...w.repo.state.comments.values()].filter((c) => c.issueNumber === 31 && c.body.includes("autofix.maxRunsPerPullRequest"));
    expect(notices).toHaveLength(1);
    expect(w.gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(0);
    // autofix answers in no review thread
    expect(allComments().filter((c) => c.pullNumber === 31)).toHaveLength(0);
    w.models.assertDone();
    w.gh.verify();
  });
});
