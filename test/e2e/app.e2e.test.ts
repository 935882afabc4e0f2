/**
 * End to end: the real Probot server on 127.0.0.1 receives signed webhooks; GitHub is faked over
 * HTTP (every request validated against the OpenAPI description, unmatched requests fail); the model
 * is faked by a local server speaking the OpenAI Responses wire format; the store is SQLite; the real
 * engine, queue, agent runner, progress reporters and outputs do the work.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { stickyMarker } from "../../src/progress/render.ts";
import { TERMINAL_RUN_STATUSES, type RunRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type ModelPull, type RepoModel } from "../fakes/github-repo-model.ts";
import { GRAPHQL_PATH } from "../fakes/github-graphql.ts";
import { fileDiff } from "../fakes/unified-diff.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestProbot, example, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

type Json = Record<string, unknown>;

let gh: GitHubFake;
let repo: RepoModel;
let models: ModelServer;
let runtime: Runtime;
let server: Server;
let url: string;
let dataDir: string;
let deliveries = 0;
let metrics: Metrics;

const BUGGY = "export function add(a: number, b: number): number {\n  return a - b;\n}\n";
const PATCH = ["@@ -1,3 +1,4 @@", " export function add(a: number, b: number): number {", "-  return a - b;", "+  return a + b;", "+  // fixed", " }"].join("\n");

async function post(event: string, payload: object, options: { id?: string; signature?: string | null } = {}): Promise<{ status: number; id: string }> {
  const body = JSON.stringify(payload);
  const id = options.id ?? `e2e-${++deliveries}`;
  const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id };
  const signature = options.signature === undefined ? await sign(WEBHOOK_SECRET, body) : options.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
  await response.arrayBuffer();
  return { status: response.status, id };
}

async function settled(predicate: (runs: RunRecord[]) => boolean): Promise<RunRecord[]> {
  // Waits for state, never asserts on time: the bound only turns a hang into a clear failure.
  for (let i = 0; i < 1200; i++) {
    const runs = await runtime.store.listRuns({ limit: 100 });
    if (predicate(runs)) {
      await runtime.progress.idle();
      return runs;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`runs did not settle: ${JSON.stringify((await runtime.store.listRuns()).map((r) => [r.workflow, r.status, r.error]))}`);
}
const finished = (r: RunRecord) => TERMINAL_RUN_STATUSES.includes(r.status);

const json = (value: unknown) => ({ kind: "text" as const, text: JSON.stringify(value), usage: { input: 1200, output: 300 }, chunkSize: 16 });

beforeAll(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, {
    owner: "octo",
    repo: "app",
    files: { "src/math.ts": BUGGY, "README.md": "# app\n" },
    permissions: { alice: "write" },
    issues: { 7: { title: "add() subtracts", body: "add(2, 2) returns 0" } },
  });
  models = await startModelServer();
  dataDir = mkdtempSync(join(tmpdir(), "octoflow-e2e-"));
  const env = loadEnv({
    NODE_ENV: "test",
    APP_ID: "123",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    DATABASE_URL: `sqlite:${join(dataDir, "octoflow.db")}`,
    OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
    OPENAI_API_KEY: "sk-test-e2e-key-000000000000",
    OPENAI_BASE_URL: models.baseURL,
  });
  metrics = createMetrics({ defaults: false });
  runtime = await createRuntime(env, silentLog, { metrics, progressIntervalMs: 200 });
  const probot = createTestProbot(gh.url);
  const middleware = await createNodeMiddleware(octoflowApp(runtime), { probot });
  server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const close of [...(runtime?.closers ?? [])].reverse()) await close();
  await models?.close();
  await gh?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("Octoflow end to end", { timeout: 90_000 }, () => {
  it("refuses unsigned and wrongly signed webhooks with 400 before any handler runs", async () => {
    const payload = await example("issues", "labeled");
    expect((await post("issues", payload, { signature: null })).status).toBe(400);
    expect((await post("issues", payload, { signature: "sha256=" + "0".repeat(64) })).status).toBe(400);
    expect(gh.requests).toHaveLength(0);
    expect(await runtime.store.listRuns()).toHaveLength(0);
  });

  it("labelling an issue octoflow:bug-fix → check run, sticky comment, branch with one commit per step, draft PR", async () => {
    models.expect(
      "openai.responses",
      { kind: "text", text: "The root cause: add() uses `-` instead of `+` in src/math.ts line 2.", usage: { input: 900, output: 60 }, chunkSize: 8 },
      json({ summary: "Use + in add()", edits: [{ kind: "modify", path: "src/math.ts", content: null, blocks: [{ search: "return a - b;", replace: "return a + b;" }] }] }),
      json({ summary: "Regression test for add()", edits: [{ kind: "create", path: "test/math.test.ts", content: "import { add } from '../src/math';\ntest('add', () => expect(add(2, 2)).toBe(4));\n", blocks: null }] }),
      json({ summary: "The fix is correct.", findings: [{ path: "src/math.ts", line: 2, startLine: null, side: "RIGHT", severity: "info", body: "Consider a property test.", suggestion: null }] }),
    );
    const payload = await example("issues", "labeled", (p) => {
      (p.label as Json).name = "octoflow:bug-fix";
      Object.assign(p.issue as Json, { number: 7, title: "add() subtracts", body: "add(2, 2) returns 0", state: "open" });
      p.sender = { login: "alice", id: 1, type: "User" };
    });
    const ack = await post("issues", payload);
    expect(ack.status).toBe(200);
    const [run] = await settled((runs) => runs.length === 1 && runs.every(finished));
    expect(run).toMatchObject({ workflow: "bug-fix", status: "succeeded" });
    models.assertDone();

    // check run: created in progress with a Cancel button, completed successfully with the table
    const creates = gh.find("POST", "/repos/{owner}/{repo}/check-runs");
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toMatchObject({ name: "Octoflow: bug-fix", status: "in_progress", external_id: run?.id, actions: [{ identifier: "cancel" }] });
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { conclusion: string; output: { summary: string } };
    expect(final.conclusion).toBe("success");
    for (const name of ["Find the root cause", "Fix the bug", "Add a regression test", "Review the fix"]) expect(final.output.summary).toContain(`| ${name} | ✅ succeeded |`);

    // one sticky comment, edited in place, linking the PR and carrying the review's findings
    const comments = [...repo.state.comments.values()].filter((c) => c.body.includes(stickyMarker(String(run?.id))));
    expect(comments).toHaveLength(1);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(1);
    // bug-fix verifies against CI: this repository has none, so the first check ends neutral and no fix runs
    expect(comments[0]?.body).toContain("✅ succeeded (5 succeeded, 6 skipped of 11 steps)");
    expect(final.output.summary).toContain("| Verify (CI) #1 | ✅ succeeded |");
    expect(final.output.summary).toContain("| Fix CI #1 | ⏭️ skipped |");
    expect(comments[0]?.body).toMatch(/\[pull request\]\(https:\/\/github\.com\/octo\/app\/pull\/\d+\)/);
    expect(comments[0]?.body).toContain("Consider a property test.");

    // branch from the default branch with one commit per producing step; the default branch untouched
    const branch = "octoflow/7-add-subtracts";
    const files = repo.filesAt(branch);
    expect(files.get("src/math.ts")).toContain("return a + b;");
    expect(files.get("test/math.test.ts")).toContain("toBe(4)");
    expect(repo.filesAt("main").get("src/math.ts")).toBe(BUGGY);
    const head = repo.state.refs.get(`heads/${branch}`) ?? "";
    const second = repo.state.commits.get(head);
    const first = repo.state.commits.get(second?.parents[0] ?? "");
    expect(second?.message).toMatch(/^Add a regression test:/);
    expect(first?.message).toMatch(/^Fix the bug:/);
    expect(first?.parents[0]).toBe(repo.state.refs.get("heads/main"));

    // a draft PR that says what was done and closes the issue
    expect(repo.state.pulls).toHaveLength(1);
    expect(repo.state.pulls[0]).toMatchObject({ draft: true, head: { ref: branch }, base: { ref: "main" } });
    expect(repo.state.pulls[0]?.body).toContain("Closes #7");
    expect(repo.state.pulls[0]?.body).toContain("Use + in add()");
    expect((await runtime.store.getRun(run!.id))?.pullRequestNumber).toBe(repo.state.pulls[0]?.number);
    gh.verify();
  });

  it("a redelivered webhook starts nothing new", async () => {
    const payload = await example("issues", "labeled", (p) => {
      (p.label as Json).name = "octoflow:bug-fix";
      Object.assign(p.issue as Json, { number: 7, state: "open" });
      p.sender = { login: "alice", id: 1, type: "User" };
    });
    const before = gh.requests.length;
    // The same delivery id twice: GitHub's "Redeliver" button.
    models.expect("openai.responses", { kind: "status", status: 400, body: { error: { message: "bad request", type: "invalid_request_error" } } });
    const first = await post("issues", payload, { id: "dup-1" });
    const again = await post("issues", payload, { id: "dup-1" });
    expect([first.status, again.status]).toEqual([200, 200]);
    const runs = await settled((rs) => rs.length === 2 && rs.every(finished));
    expect(runs.filter((r) => r.trigger.deliveryId === "dup-1")).toHaveLength(1);
    // the failed run reached the user in words: failure conclusion with a Retry button
    const failed = runs.find((r) => r.trigger.deliveryId === "dup-1");
    expect(failed?.status).toBe("failed");
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { conclusion: string; actions: { identifier: string }[] };
    expect(final.conclusion).toBe("failure");
    expect(final.actions.map((a) => a.identifier)).toEqual(["retry"]);
    expect(gh.requests.length).toBeGreaterThan(before);
    models.assertDone();
    gh.verify();
  });

  it("opening a pull request → one review with inline comments on diff lines, the rest in the body", async () => {
    repo.addPull({
      number: 21,
      title: "Fix add",
      body: "",
      draft: false,
      head: { ref: "fix-add", sha: repo.commitFiles("fix-add", { "src/math.ts": BUGGY.replace("a - b", "a + b") }), repoFullName: "fork/app" },
      base: { ref: "main", sha: repo.state.refs.get("heads/main") ?? "" },
      files: [{ filename: "src/math.ts", status: "modified", additions: 2, deletions: 1, patch: PATCH }],
    });
    models.expect(
      "openai.responses",
      json({
        summary: "One real problem.",
        findings: [
          { path: "src/math.ts", line: 3, startLine: null, side: "RIGHT", severity: "minor", body: "Remove this comment.", suggestion: "" },
          { path: "src/math.ts", line: 40, startLine: null, side: "RIGHT", severity: "info", body: "Far away from the diff.", suggestion: null },
        ],
      }),
    );
    const pull = repo.state.pulls.find((p) => p.number === 21)!;
    const payload = await example("pull_request", "opened", (p) => {
      Object.assign(p.pull_request as Json, { number: 21, state: "open", draft: false, additions: 2, deletions: 1, changed_files: 1, title: "Fix add" });
      Object.assign((p.pull_request as Json).head as Json, { sha: pull.head.sha, ref: "fix-add", repo: { full_name: "fork/app" } });
      p.sender = { login: "bob", id: 2, type: "User" };
    });
    expect((await post("pull_request", payload)).status).toBe(200);
    const runs = await settled((rs) => rs.length === 3 && rs.every(finished));
    const review = runs.find((r) => r.workflow === "code-review");
    expect(review?.status).toBe("succeeded");
    expect(repo.state.reviews).toHaveLength(1);
    const posted = repo.state.reviews[0]!;
    expect(posted).toMatchObject({ pullNumber: 21, event: "COMMENT", commitId: pull.head.sha });
    expect(posted.comments).toHaveLength(1);
    expect(posted.comments[0]).toMatchObject({ path: "src/math.ts", line: 3, side: "RIGHT" });
    expect(String(posted.comments[0]?.body)).toContain("```suggestion");
    expect(posted.body).toContain("Far away from the diff.");
    const check = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { conclusion: string };
    expect(check.conclusion).toBe("neutral");
    // nothing was pushed anywhere for a review, and never to the fork
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/refs").length).toBe(1);
    models.assertDone();
    gh.verify();
  });

  it("a push that fixes a finding → the next review resolves its thread over GraphQL and comments only on what the push changed", async () => {
    const TIDY = "export function add(a: number, b: number): number {\n  // TODO: remove\n  return a + b;\n}\n";
    const base = repo.state.refs.get("heads/main") ?? "";
    const filesOf = (head: string) => {
      const d = fileDiff(repo.filesAt(base).get("src/math.ts"), repo.filesAt(head).get("src/math.ts"));
      return [{ filename: "src/math.ts", status: "modified" as const, additions: d.additions, deletions: d.deletions, patch: d.patch }];
    };
    const c1 = repo.commitFiles("tidy", { "src/math.ts": TIDY });
    const pull: ModelPull = repo.addPull({ number: 22, title: "Tidy add", body: "", draft: false, head: { ref: "tidy", sha: c1, repoFullName: "octo/app" }, base: { ref: "main", sha: base }, files: filesOf(c1) });
    const deliver = async (action: "opened" | "synchronize", before?: string) => {
      const payload = await example("pull_request", action, (p) => {
        Object.assign(p.pull_request as Json, { number: 22, state: "open", draft: false, additions: 2, deletions: 1, changed_files: 1, title: "Tidy add" });
        Object.assign((p.pull_request as Json).head as Json, { sha: pull.head.sha, ref: "tidy", repo: { full_name: "octo/app" } });
        if (before) Object.assign(p, { before, after: pull.head.sha });
        p.sender = { login: "bob", id: 2, type: "User" };
      });
      const count = (await runtime.store.listRuns({ limit: 100 })).length;
      expect((await post("pull_request", payload)).status).toBe(200);
      return (await settled((rs) => rs.length === count + 1 && rs.every(finished))).find((r) => r.trigger.number === 22 && r.trigger.pullRequest?.headSha === pull.head.sha);
    };

    models.expect("openai.responses", json({ summary: "One nit.", findings: [{ path: "src/math.ts", line: 2, startLine: null, side: "RIGHT", severity: "minor", body: "Remove this TODO.", suggestion: null }] }));
    expect((await deliver("opened"))?.status).toBe("succeeded");
    const thread = repo.reviewThreads.state.threads.find((t) => repo.reviewThreads.state.comments.get(t.commentIds[0] ?? -1)?.body.includes("Remove this TODO."));
    expect(thread?.isResolved).toBe(false);

    // the push removes the TODO and adds a line; the model finds something on the new line and on an old one
    const c2 = repo.commitFiles("tidy", { "src/math.ts": "export function add(a: number, b: number): number {\n  return a + b;\n}\nexport const sum = add;\n" });
    Object.assign(pull, { head: { ...pull.head, sha: c2 }, files: filesOf(c2) });
    models.expect(
      "openai.responses",
      json({
        summary: "Better.",
        findings: [
          { path: "src/math.ts", line: 4, startLine: null, side: "RIGHT", severity: "info", body: "Export a named function instead.", suggestion: null },
          { path: "src/math.ts", line: 2, startLine: null, side: "RIGHT", severity: "info", body: "add() could be generic.", suggestion: null },
        ],
      }),
    );
    const second = await deliver("synchronize", c1);
    expect(second?.trigger.pullRequest?.sinceSha).toBe(c1);
    expect(second?.status).toBe("succeeded");
    expect(thread?.isResolved).toBe(true);
    expect(gh.find("POST", GRAPHQL_PATH).filter((r) => String((r.body as { query: string }).query).includes("resolveReviewThread"))).toHaveLength(1);
    const posted = repo.state.reviews.filter((r) => r.pullNumber === 22).at(-1);
    expect(posted?.comments.map((c) => c.line)).toEqual([4]);
    expect(posted?.body).toContain("add() could be generic.");
    const counts = Object.fromEntries((await metrics.findings.get()).values.map((v) => [String(v.labels.outcome), v.value]));
    expect(counts.resolved).toBe(1);
    models.assertDone();
    gh.verify();
  });
});
