import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyOutputs } from "../../src/github/outputs/apply-outputs.ts";
import { publishPullRequest } from "../../src/github/outputs/pull-request-output.ts";
import { fingerprint, publishReview } from "../../src/github/outputs/review-output.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { asRunId, type Finding, type PlannedStep, type StepOutput, type StepRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit, trigger } from "./support.ts";

const usage = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };
const out = (o: Partial<StepOutput>): StepOutput => ({ text: "", usage, costUsd: 0, ...o });
/** The step records `publishPullRequest` reads: each given step succeeded with the given output. */
const succeeded = (runId: string, produced: { step: PlannedStep; output: StepOutput }[]): StepRecord[] =>
  produced.map(({ step: s, output }) => ({ runId: asRunId(runId), stepId: s.id, status: "succeeded", attempts: 1, output }));

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/app.ts": "export const a = 1;\n", "README.md": "# app\n" } });
  store = createMemoryRunStore();
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

describe("pull_request output", () => {
  it("commits one commit per producing step on octoflow/<issue>-<slug> and opens a draft PR that closes the issue", async () => {
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const gen = step("generate", "generate", "pull_request");
    const tests = step("test", "test", "pull_request", ["generate"]);
    const run = runRecord("run-1", [gen, tests]);
    await store.createRun(run, []);
    const result = await publishPullRequest(deps, run, succeeded("run-1", [
      { step: gen, output: out({ text: "Add hello()", edits: [{ kind: "create", path: "src/hello.ts", content: "export const hello = 1;\n" }, { kind: "modify", path: "src/app.ts", blocks: [{ search: "a = 1", replace: "a = 2" }] }] }) },
      { step: tests, output: out({ text: "Test hello()", edits: [{ kind: "create", path: "test/hello.test.ts", content: "test\n" }, { kind: "create", path: ".github/workflows/evil.yml", content: "x" }, { kind: "delete", path: "README.md" }] }) },
    ]));
    gh.verify();
    expect(result?.branch).toBe("octoflow/7-add-a-greeting");
    expect(result?.commits).toHaveLength(2);
    const files = model.filesAt("octoflow/7-add-a-greeting");
    expect(files.get("src/hello.ts")).toBe("export const hello = 1;\n");
    expect(files.get("src/app.ts")).toBe("export const a = 2;\n");
    expect(files.has("test/hello.test.ts")).toBe(true);
    expect(files.has("README.md")).toBe(false);
    expect(files.has(".github/workflows/evil.yml")).toBe(false);
    // the default branch is untouched
    expect(model.filesAt("main").get("src/app.ts")).toBe("export const a = 1;\n");
    expect(model.state.pulls).toHaveLength(1);
    const pr = model.state.pulls[0];
    expect(pr?.draft).toBe(true);
    expect(pr?.head.ref).toBe("octoflow/7-add-a-greeting");
    expect(pr?.body).toContain("Closes #7");
    expect(pr?.body).toMatch(/\.github\/workflows\/evil\.yml: `\.github\/workflows\/` \(GitHub Actions\) is never changed by Octoflow/);
    const trees = gh.find("POST", "/repos/{owner}/{repo}/git/trees");
    expect(trees.every((r) => typeof (r.body as { base_tree?: string }).base_tree === "string")).toBe(true);
    expect((await store.getRun(run.id))?.pullRequestNumber).toBe(pr?.number);
  });

  it("re-running updates the same branch and PR instead of opening another, and skips already-committed steps", async () => {
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const gen = step("generate", "generate", "pull_request");
    const first = runRecord("run-a", [gen]);
    const second = runRecord("run-b", [gen], trigger({ issue: { title: "Renamed title", body: "" } }));
    await store.createRun(first, []);
    await store.createRun(second, []);
    const edit = (content: string) => [{ step: gen, output: out({ text: "v", edits: [{ kind: "create" as const, path: "f.txt", content }] }) }];
    const a = await publishPullRequest(deps, first, succeeded("run-a", edit("one")));
    const again = await publishPullRequest(deps, first, succeeded("run-a", edit("ignored")));
    expect(again?.commits).toEqual([]);
    const b = await publishPullRequest(deps, second, succeeded("run-b", edit("two")));
    gh.verify();
    expect(b?.number).toBe(a?.number);
    expect(b?.branch).toBe(a?.branch);
    expect(model.state.pulls).toHaveLength(1);
    expect(model.filesAt(a?.branch ?? "").get("f.txt")).toBe("two");
    expect(gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(1);
    expect(gh.find("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}")).toHaveLength(1);
  });

  it("reports an edit that cannot be applied and opens nothing when no edit applies", async () => {
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const gen = step("generate", "generate", "pull_request");
    const result = await publishPullRequest(deps, runRecord("run-x", [gen]), succeeded("run-x", [
      { step: gen, output: out({ edits: [{ kind: "modify", path: "src/app.ts", blocks: [{ search: "nope", replace: "x" }] }, { kind: "modify", path: "missing.ts", blocks: [] }] }) },
    ]));
    gh.verify();
    expect(result).toBeUndefined();
    expect(model.state.pulls).toHaveLength(0);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(0);
  });

  it("neutralises @mentions and HTML comments from model text in the pull request body", async () => {
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const gen = step("generate", "generate", "pull_request");
    const run = runRecord("run-m", [gen]);
    await store.createRun(run, []);
    await publishPullRequest(deps, run, succeeded("run-m", [
      { step: gen, output: out({ text: "Fixed, thanks @octocat <!-- octoflow:pull-request -->", edits: [{ kind: "create", path: "f.txt", content: "x" }, { kind: "create", path: "a/../@octocat.txt", content: "x" }] }) },
    ]));
    gh.verify();
    const body = String(model.state.pulls[0]?.body);
    expect(body).toContain("Closes #7");
    expect(body).not.toMatch(/(^|[^\w])@octocat/);
    expect(body.split("<!--")).toHaveLength(2); // only our own marker
  });

  it("scrubs secrets from the PR title, body and commit messages; refuses an edit adding a live token and protected paths, each named in the notes", async () => {
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const gen = step("generate", "generate", "pull_request");
    const ghp = `ghp_${"A1b2C3d4".repeat(5)}`;
    const ant = `sk-ant-api03-${"x9Y8z7W6".repeat(5)}`;
    const proj = `sk-proj-${"Q1w2E3r4".repeat(5)}`;
    const t = trigger({ issue: { title: `Leak ${proj}`, body: "" } });
    const run = runRecord("run-s", [gen], t, { plan: { ...runRecord("run-s", [gen]).plan, protectedPaths: ["deploy/", "Dockerfile"] } });
    await store.createRun(run, []);
    const result = await publishPullRequest(deps, run, succeeded("run-s", [
      {
        step: gen,
        output: out({
          text: `Rotated the key ${ghp} and ${ant}`,
          edits: [
            { kind: "create", path: "ok.txt", content: "fine\n" },
            { kind: "create", path: "config/creds.env", content: `GITHUB_TOKEN=${ghp}\n` },
            { kind: "modify", path: "src/app.ts", blocks: [{ search: "1", replace: `"${ant}"` }] },
            { kind: "create", path: ".github/actions/evil/action.yml", content: "runs: {using: node20, main: x.js}\n" },
            { kind: "create", path: ".git/config", content: "[core]\n" },
            { kind: "create", path: "deploy/prod.yml", content: "x\n" },
            { kind: "create", path: "dockerfile", content: "FROM x\n" },
          ],
        }),
      },
    ]));
    gh.verify();
    const everything = JSON.stringify(gh.requests.map((r) => r.body));
    for (const secret of [ghp, ant, proj]) expect(everything).not.toContain(secret);
    const pull = model.state.pulls[0];
    expect(pull?.title).toBe("Octoflow: Leak [REDACTED]");
    const notes = result?.notes ?? [];
    expect(notes).toEqual([
      'Could not apply an edit of step "generate": .github/actions/evil/action.yml: `.github/actions/` (GitHub Actions) is never changed by Octoflow',
      'Could not apply an edit of step "generate": ".git/config": the .git directory is not part of the workspace',
      expect.stringMatching(/^Refused `config\/creds\.env`: the change adds what looks like a live GitHub token/),
      "Skipped `deploy/prod.yml` (`deploy/` is protected by `protectedPaths` in .github/octoflow.yml).",
      "Skipped `dockerfile` (`Dockerfile` is protected by `protectedPaths` in .github/octoflow.yml).",
      expect.stringMatching(/^Refused `src\/app\.ts`: the change adds what looks like a live Anthropic API key/),
    ]);
    expect(String(pull?.body)).toContain("Refused `config/creds.env`");
    expect(String(pull?.body)).toContain('".git/config": the .git directory is not part of the workspace');
    // only ok.txt was committed
    const commitRequests = gh.find("POST", "/repos/{owner}/{repo}/git/trees");
    expect(commitRequests.map((r) => (r.body as { tree: { path: string }[] }).tree.map((e) => e.path))).toEqual([["ok.txt"]]);
    const [message] = gh.find("POST", "/repos/{owner}/{repo}/git/commits").map((r) => (r.body as { message: string }).message);
    expect(message).toMatch(/^generate: Rotated the key \[REDACTED\] and \[REDACTED\]/);
  });
});

const PATCH = ["@@ -1,3 +1,4 @@", " const a = 1;", "-const b = 2;", "+const b = 3;", "+const c = 4;", " export {};"].join("\n");

describe("review output", () => {
  const prTrigger = trigger({ kind: "pull_request", number: 12, isPullRequest: true, pullRequest: { headSha: "h1", baseSha: "b1", headRef: "feature", baseRef: "main", fromFork: true, draft: false } });
  const findings: Finding[] = [
    { path: "src/x.ts", line: 3, side: "RIGHT", severity: "major", body: "c is unused", suggestion: "const c = 4; // used below" },
    { path: "src/x.ts", line: 2, startLine: 1, side: "RIGHT", severity: "minor", body: "rename b" },
    { path: "src/x.ts", line: 40, side: "RIGHT", severity: "info", body: "outside the diff" },
    { path: "src/x.ts", line: 2, side: "LEFT", severity: "info", body: "old b was fine" },
  ];

  it("posts one review: inline comments on diff lines with suggestions, the rest in the body, nothing twice across pushes", async () => {
    model.addPull({ number: 12, title: "PR", body: "", draft: false, head: { ref: "feature", sha: "h1", repoFullName: "fork/app" }, base: { ref: "main", sha: "b1" }, files: [{ filename: "src/x.ts", status: "modified", additions: 2, deletions: 1, patch: PATCH }] });
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const first = await publishReview(deps, runRecord("rev-1", [step("review", "review", "review")], prTrigger), findings, ["Looks mostly fine."]);
    expect(first).toMatchObject({ posted: 4, inline: 3, repeated: 0 });
    const review = model.state.reviews[0];
    expect(review?.event).toBe("COMMENT");
    expect(review?.commitId).toBe("h1");
    expect(review?.comments).toHaveLength(3);
    expect(review?.comments[0]).toMatchObject({ path: "src/x.ts", line: 3, side: "RIGHT" });
    expect(String(review?.comments[0]?.body)).toContain("```suggestion\nconst c = 4; // used below\n```");
    expect(review?.comments[1]).toMatchObject({ line: 2, start_line: 1, start_side: "RIGHT" });
    expect(review?.comments[2]).toMatchObject({ line: 2, side: "LEFT" });
    expect(review?.body).toContain("Looks mostly fine.");
    expect(review?.body).toContain("`src/x.ts:40`");

    // the same run again: nothing new
    expect(await publishReview(deps, runRecord("rev-1", [], prTrigger), findings, [])).toMatchObject({ posted: 0 });
    // a later push: the old findings plus one new one; only the new one is posted
    const later = await publishReview(deps, runRecord("rev-2", [], prTrigger), [...findings, { path: "src/x.ts", line: 4, side: "RIGHT", severity: "minor", body: "new" }], []);
    expect(later).toMatchObject({ posted: 1, repeated: 4 });
    expect(model.state.reviews).toHaveLength(2);
    expect(model.state.reviews[1]?.comments).toHaveLength(1);
    // only repeats: no review at all
    expect(await publishReview(deps, runRecord("rev-3", [], prTrigger), findings, [])).toMatchObject({ posted: 0, repeated: 4 });
    expect(model.state.reviews).toHaveLength(2);
    gh.verify();
  });

  it("neutralises @mentions from model text, keeps suggestions verbatim and drops a suggestion whose range had to be narrowed", async () => {
    const twoHunks = ["@@ -1,2 +1,2 @@", " a", "-b", "+B", "@@ -10,2 +10,2 @@", " j", "-k", "+K"].join("\n");
    model.addPull({ number: 12, title: "PR", body: "", draft: false, head: { ref: "feature", sha: "h1", repoFullName: "fork/app" }, base: { ref: "main", sha: "b1" }, files: [{ filename: "src/y.ts", status: "modified", additions: 2, deletions: 2, patch: twoHunks }] });
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    const result = await publishReview(
      deps,
      runRecord("rev-m", [step("review", "review", "review")], prTrigger),
      [
        { path: "src/y.ts", line: 2, side: "RIGHT", severity: "major", body: "ask @octocat", suggestion: "@Override\nconst x = `a`;\n```\nB" },
        { path: "src/y.ts", line: 11, startLine: 2, side: "RIGHT", severity: "minor", body: "spans hunks", suggestion: "K2" },
        { path: "src/y.ts", line: 99, side: "RIGHT", severity: "info", body: "cc @acme/security" },
        { path: "src/`@octocat`.ts", line: 1, side: "RIGHT", severity: "info", body: "path from the model" },
      ],
      ["Summary for @octocat <!-- octoflow:review:other -->"],
    );
    gh.verify();
    expect(result).toMatchObject({ posted: 4, inline: 2 });
    const review = model.state.reviews[0];
    const [first, second] = (review?.comments ?? []).map((c) => String(c.body));
    expect(first).not.toMatch(/(^|[^\w])@octocat/);
    // the suggestion is committed verbatim when accepted: untouched, and in a fence longer than any inside it
    expect(first).toContain("````suggestion\n@Override\nconst x = `a`;\n```\nB\n````");
    // the range 2–11 crosses hunks, so the comment sits on line 11 alone: a suggestion there would replace the wrong lines
    expect(review?.comments[1]).toMatchObject({ line: 11, side: "RIGHT" });
    expect(review?.comments[1]).not.toHaveProperty("start_line");
    expect(second).not.toContain("suggestion");
    expect(review?.body).not.toMatch(/(^|[^\w])@(octocat|acme)/);
    expect(review?.body).not.toContain("<!-- octoflow:review:other");
  });

  it("scrubs secrets from review comments, suggestions, the body and findings outside the diff", async () => {
    const ghp = `ghp_${"Zy98Xw76".repeat(5)}`;
    const ant = `sk-ant-api03-${"Vu54Ts32".repeat(5)}`;
    model.addPull({ number: 13, title: "PR", body: "", draft: false, head: { ref: "feature", sha: "h1", repoFullName: "octo/app" }, base: { ref: "main", sha: "b1" }, files: [{ filename: "src/z.ts", status: "modified", additions: 1, deletions: 1, patch: "@@ -1,2 +1,2 @@\n a\n-b\n+B" }] });
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog };
    await publishReview(
      deps,
      runRecord("rev-s", [step("review", "review", "review")], { ...prTrigger, number: 13 }),
      [
        { path: "src/z.ts", line: 2, side: "RIGHT", severity: "major", body: `hard-coded ${ghp}`, suggestion: `const key = "${ant}";` },
        { path: "src/other.ts", line: 5, side: "RIGHT", severity: "info", body: `also ${ant}` },
      ],
      [`The summary repeats ${ghp}`],
    );
    gh.verify();
    const sent = JSON.stringify(gh.find("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews").map((r) => r.body));
    expect(sent).toContain("[REDACTED]");
    for (const secret of [ghp, ant]) expect(sent).not.toContain(secret);
  });

  it("fingerprints ignore line numbers and whitespace but not the line's text", () => {
    const f: Finding = { path: "a", line: 1, side: "RIGHT", severity: "info", body: "x  y" };
    expect(fingerprint(f, "const a")).toBe(fingerprint({ ...f, line: 99, body: "x y" }, "const a"));
    expect(fingerprint(f, "const a")).not.toBe(fingerprint(f, "const b"));
  });

  it("applyOutputs routes outputs by kind and records the reviewed head SHA", async () => {
    model.addPull({ number: 12, title: "PR", body: "", draft: false, head: { ref: "feature", sha: "h1", repoFullName: "octo/app" }, base: { ref: "main", sha: "b1" }, files: [{ filename: "src/x.ts", status: "modified", additions: 2, deletions: 1, patch: PATCH }] });
    const steps = [step("review", "review", "review"), step("note", "docs", "comment")];
    const run = runRecord("rev-9", steps, prTrigger, { status: "succeeded" });
    const records: StepRecord[] = [
      { runId: run.id, stepId: steps[0]!.id, status: "succeeded", attempts: 1, output: out({ text: "ok", findings: [findings[0]!] }) },
      { runId: run.id, stepId: steps[1]!.id, status: "succeeded", attempts: 1, output: out({ text: "A note for you" }) },
    ];
    const applied = await applyOutputs({ octokit: testOctokit(gh.url), store, log: silentLog }, run, records);
    gh.verify();
    expect(applied.findings).toBe(1);
    expect(applied.review?.inline).toBe(1);
    expect(applied.results).toEqual([{ step: "note", text: "A note for you" }]);
    expect(await store.getMarker("reviewed:octo/app#12")).toBe("h1");
  });
});
