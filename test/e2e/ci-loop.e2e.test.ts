/**
 * End to end, the verify-and-fix loop against the repository's CI: the real Probot server receives
 * signed CI webhooks; GitHub (with its CI: check runs, suites, statuses, annotations, job logs) is
 * faked over HTTP and every request validated against the OpenAPI description; the model is faked by
 * a local OpenAI Responses server; the store is SQLite; the real engine, queue, agent runner, CI gate,
 * progress reporters and outputs do the work. Runs start from a label on an issue, with workflows the
 * repository declares (`.github/octoflow/workflows/*.yml`: a `loop:` with `uses: ci`).
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
import { createMetrics } from "../../src/observability/metrics.ts";
import type { RunRecord, StepRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestProbot, example, examplePayloads, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
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

const BUGGY = "export function sum(a: number, b: number): number {\n  return a - b;\n}\n";
const ACTIONS_APP_ID = 15368;

async function post(event: string, payload: object): Promise<number> {
  const body = JSON.stringify(payload);
  const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": `ci-e2e-${++deliveries}`, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
  await response.arrayBuffer();
  return response.status;
}

/** Waits for a state of the run, never for a time: the bound only turns a hang into a clear failure. */
async function until(runId: string, predicate: (run: RunRecord, steps: StepRecord[]) => boolean): Promise<{ run: RunRecord; steps: Map<string, StepRecord> }> {
  for (let i = 0; i < 1200; i++) {
    const run = await runtime.store.getRun(runId as RunRecord["id"]);
    const steps = run ? await runtime.store.getSteps(run.id) : [];
    if (run && predicate(run, steps)) {
      await runtime.progress.idle();
      return { run, steps: new Map(steps.map((s) => [String(s.stepId), s])) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const run = await runtime.store.getRun(runId as RunRecord["id"]);
  throw new Error(`run did not get there: ${JSON.stringify({ status: run?.status, waiting: run?.waiting, error: run?.error })}`);
}

const json = (value: unknown) => ({ kind: "text" as const, text: JSON.stringify(value), usage: { input: 800, output: 200 }, chunkSize: 32 });
const modify = (summary: string, search: string, replace: string) => json({ summary, edits: [{ kind: "modify", path: "src/sum.ts", content: null, blocks: [{ search, replace }] }] });

/** Generate, then verify against CI and fix at most once (rows verify-1, verify-fix-1, verify-2). */
const CI_FIX = `name: ci-fix
description: Fix the issue and make the repository's CI pass
on:
  labels: ["octoflow:ci-fix"]
steps:
  - id: generate
    role: generate
    prompt: "Fix: {{ issue.title }}"
    output: pull_request
  - id: verify
    needs: generate
    loop:
      max: 1
      verify: { uses: ci, noChecksAfter: 10m }
      fix:
        role: generate
        prompt: |
          CI failed on your change:
          {{ steps.verify.output }}
`;

/** Generate, then one check that gives up on CI after two seconds. */
const VERIFY_ONCE = `name: verify-once
description: Fix the issue and look at CI once
on:
  labels: ["octoflow:verify-once"]
steps:
  - id: generate
    role: generate
    prompt: "Fix: {{ issue.title }}"
    output: pull_request
  - id: verify
    needs: generate
    uses: ci
    noChecksAfter: 2s
`;

/** Labels issue `number` and returns the run the label started. */
async function label(name: string, number: number, title: string): Promise<RunRecord> {
  const payload = await example("issues", "labeled", (p) => {
    (p.label as Json).name = name;
    Object.assign(p.issue as Json, { number, title, body: "sum(2, 2) returns 0", state: "open" });
    p.sender = { login: "alice", id: 1, type: "User" };
  });
  expect(await post("issues", payload)).toBe(200);
  for (let i = 0; i < 1200; i++) {
    const run = (await runtime.store.listRuns({ limit: 100 })).find((r) => r.trigger.number === number);
    if (run) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no run started for #${number}`);
}

const checkRunPatches = () => gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").map((r) => r.body as { status?: string; conclusion?: string; output?: { summary?: string } });

beforeAll(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, {
    owner: "octo",
    repo: "app",
    files: {
      "src/sum.ts": BUGGY,
      ".github/workflows/ci.yml": "on: [push, pull_request]\njobs: {}\n",
      ".github/octoflow/workflows/ci-fix.yml": CI_FIX,
      ".github/octoflow/workflows/verify-once.yml": VERIFY_ONCE,
      "README.md": "# app\n",
    },
    permissions: { alice: "write" },
    issues: { 7: { title: "sum() subtracts", body: "sum(2, 2) returns 0" }, 8: { title: "sum() is wrong", body: "sum(2, 2) returns 0" } },
  });
  models = await startModelServer();
  dataDir = mkdtempSync(join(tmpdir(), "octoflow-ci-e2e-"));
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
    // only a webhook or the no-CI deadline wakes a parked run within a test
    OCTOFLOW_CI_POLL_MS: "3600000",
  });
  runtime = await createRuntime(env, silentLog, { metrics: createMetrics({ defaults: false }), progressIntervalMs: 100 });
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

describe("verify against the repository's CI, end to end", { timeout: 90_000 }, () => {
  it("CI red → the fix step reads the failure → CI green: one draft PR with two commits; pending CI parks the run and webhooks resume it", async () => {
    models.expect("openai.responses", modify("Use + in sum()", "return a - b;", "return a + b + 1;"), modify("Drop the stray + 1", "return a + b + 1;", "return a + b;"));
    const run = await label("octoflow:ci-fix", 7, "sum() subtracts");
    expect(run.plan.steps.map((step) => String(step.id))).toEqual(["generate", "verify-1", "verify-fix-1", "verify-2"]);
    const branch = "octoflow/7-sum-subtracts";

    // 1. generate pushed its commit and opened the draft PR; CI has not reported yet: parked
    const first = await until(run.id, (r) => r.status === "waiting");
    const sha1 = repo.state.refs.get(`heads/${branch}`) ?? "";
    expect(first.run.waiting?.keys).toEqual([`ci:${sha1}`]);
    expect(first.steps.get("verify-1")?.waiting?.message).toBe(`waiting for CI on ${sha1.slice(0, 7)} (no check reported yet)`);
    expect(repo.state.pulls).toHaveLength(1);
    expect(repo.state.pulls[0]).toMatchObject({ draft: true, head: { ref: branch } });

    // 2. CI starts: a job runs, a status reports; the status webhook wakes the run, which parks again
    const job = repo.ci.addCheckRun(sha1, { name: "test (ubuntu)", status: "in_progress" });
    repo.ci.addStatus(sha1, { context: "ci/lint", state: "success" });
    const status = (await examplePayloads("status"))[0] as Json;
    expect(await post("status", { ...status, sha: sha1, state: "success", context: "ci/lint" })).toBe(200);
    // (the step records its wait before the run parks)
    const pending = await until(run.id, (r, steps) => r.status === "waiting" && steps.find((s) => s.stepId === "verify-1")?.waiting?.message.includes("1 of 2") === true);
    expect(pending.steps.get("verify-1")?.waiting?.message).toBe(`waiting for CI on ${sha1.slice(0, 7)} (1 of 2 checks done)`);
    // the check run stays in progress and shows the wait
    const shown = checkRunPatches().at(-1);
    expect(shown?.status ?? "in_progress").toBe("in_progress");
    expect(shown?.output?.summary).toContain("waiting");

    // 3. the job fails; Octoflow's own check suite finishing wakes nothing; the Actions suite does
    repo.ci.complete(job, "failure", {
      title: "1 failed",
      annotations: [{ path: "src/sum.ts", line: 2, message: "expected sum(2, 2) to be 4, got 5" }],
      log: "2026-01-01T00:00:00.0000000Z FAIL test/sum.test.ts\n2026-01-01T00:00:01.0000000Z ##[error]Process completed with exit code 1.\n",
    });
    const suite = (appId: number) =>
      example("check_suite", "completed", (p) => {
        const s = p.check_suite as Json;
        Object.assign(s, { head_sha: sha1, head_branch: branch, conclusion: "failure", app: { ...(s.app as Json), id: appId } });
      });
    const reads = () => gh.find("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs").filter((r) => r.path.endsWith(`/${sha1}/check-runs`)).length;
    const readsBefore = reads();
    expect(await post("check_suite", await suite(123))).toBe(200);
    await runtime.inbox.drain();
    expect(reads()).toBe(readsBefore);
    expect(await post("check_suite", await suite(ACTIONS_APP_ID))).toBe(200);

    // 4. verify-1 fails with the report; the fix row reads it and pushes a second commit; CI runs on it
    const second = await until(run.id, (r) => r.status === "waiting" && r.waiting?.keys[0] !== `ci:${sha1}`);
    const sha2 = repo.state.refs.get(`heads/${branch}`) ?? "";
    expect(second.run.waiting?.keys).toEqual([`ci:${sha2}`]);
    const verify1 = second.steps.get("verify-1");
    expect(verify1?.status).toBe("failed");
    expect(verify1?.error).toBe(`CI failed on ${sha1.slice(0, 7)}: 1 of 2 checks failed (test (ubuntu))`);
    expect(verify1?.output?.text).toContain("- src/sum.ts:2 (failure) expected sum(2, 2) to be 4, got 5");
    const fixPrompt = JSON.stringify(models.requestsTo("openai.responses")[1]?.body);
    expect(fixPrompt).toContain("src/sum.ts:2 (failure) expected sum(2, 2) to be 4, got 5");
    expect(fixPrompt).toContain("##[error]Process completed with exit code 1.");

    // 5. CI green on the fix: the check_run webhook wakes the run, which succeeds
    repo.ci.complete(repo.ci.addCheckRun(sha2, { name: "test (ubuntu)" }), "success");
    const checkRun = await example("check_run", "completed", (p) => {
      const c = p.check_run as Json;
      Object.assign(c, { head_sha: sha2, conclusion: "success", app: { ...(c.app as Json), id: ACTIONS_APP_ID } });
    });
    expect(await post("check_run", checkRun)).toBe(200);
    const done = await until(run.id, (r) => r.status === "succeeded" || r.status === "failed");
    expect(done.run.status).toBe("succeeded");
    expect(done.steps.get("verify-2")?.status).toBe("succeeded");
    expect(done.steps.get("verify-2")?.output?.text).toContain(`CI passed on ${sha2.slice(0, 7)}: 1 check green.`);
    models.assertDone();

    // one pull request, two commits on the branch (generate, then the fix), main untouched
    expect(repo.state.pulls).toHaveLength(1);
    expect(repo.state.refs.get(`heads/${branch}`)).toBe(sha2);
    const fixCommit = repo.state.commits.get(sha2);
    expect(fixCommit?.message).toMatch(/^Fix CI #1: Drop the stray \+ 1/);
    expect(fixCommit?.parents).toEqual([sha1]);
    expect(repo.state.commits.get(sha1)?.parents).toEqual([repo.state.refs.get("heads/main")]);
    expect(repo.filesAt(branch).get("src/sum.ts")).toContain("return a + b;\n");
    expect(repo.filesAt("main").get("src/sum.ts")).toBe(BUGGY);
    expect(done.run.pullRequestNumber).toBe(repo.state.pulls[0]?.number);
    expect(checkRunPatches().at(-1)?.conclusion).toBe("success");
    gh.verify();
  });

  it("CI never reports: the verify step ends neutral with the reason when its time is up, and the run succeeds", async () => {
    models.expect("openai.responses", modify("Use + in sum()", "return a - b;", "return a + b;"));
    const run = await label("octoflow:verify-once", 8, "sum() is wrong");
    const done = await until(run.id, (r) => r.status === "succeeded" || r.status === "failed");
    const sha = repo.state.refs.get("heads/octoflow/8-sum-is-wrong") ?? "";
    expect(done.run.status).toBe("succeeded");
    const verify = done.steps.get("verify");
    expect(verify?.status).toBe("succeeded");
    expect(verify?.output?.text).toBe(`No CI reported within 2 s on ${sha.slice(0, 7)}.`);
    expect(verify?.output?.data).toMatchObject({ conclusion: "neutral", reason: "no CI reported" });
    models.assertDone();
    gh.verify();
  });
});
