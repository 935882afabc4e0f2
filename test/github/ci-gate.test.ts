/**
 * The App's CI gate against the fake GitHub (every request validated against the OpenAPI
 * description): what counts as CI, what is ignored, what a red CI reports to the fix step.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCiGate } from "../../src/github/ci/ci-gate.ts";
import { logTail } from "../../src/github/ci/ci-failure-report.ts";
import { isTransient } from "../../src/resilience/classify-error.ts";
import type { GateRequest, GateResult, PushedHead } from "../../src/workflows/ports.ts";
import { asRunId, type PlannedStep, type StepRecord, type StepWait } from "../../src/workflows/types.ts";
import { createFakeClock, type FakeClock } from "../fakes/fake-clock.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { GITHUB_ACTIONS } from "../fakes/github-ci-model.ts";
import { runRecord, silentLog, step, testOctokit } from "./support.ts";

const POLL_MS = 120_000;
const TEN_MIN = 600_000;

let gh: GitHubFake;
let model: RepoModel;
let clock: FakeClock;
let head: PushedHead;

const verify: PlannedStep = { ...step("verify", "ci", "none", ["generate"]), uses: { kind: "ci", noChecksAfterMs: TEN_MIN } };
const generate = step("generate", "generate", "pull_request");
const run = runRecord("run-ci", [generate, verify]);

function gate() {
  return createCiGate({ clients: { forInstallation: async () => testOctokit(gh.url) }, clock, log: silentLog, appId: 123, pollMs: POLL_MS });
}

function request(options: { head?: PushedHead; waiting?: StepWait; step?: PlannedStep } = {}): GateRequest {
  const record: StepRecord = { runId: asRunId("run-ci"), stepId: verify.id, status: options.waiting ? "waiting" : "running", attempts: 1, ...(options.waiting ? { waiting: options.waiting } : {}) };
  return { run, step: options.step ?? verify, record, steps: [record], upstream: {}, signal: new AbortController().signal, ...(options.head === undefined ? {} : { head: options.head }) };
}

const waitedSince = (since: number, key = `ci:${head.sha}`): StepWait => ({ reason: "ci", key, message: "waiting", since, data: { hasCi: true } });

function expectKind<K extends GateResult["kind"]>(result: GateResult, kind: K): Extract<GateResult, { kind: K }> {
  expect(result.kind, JSON.stringify(result)).toBe(kind);
  return result as Extract<GateResult, { kind: K }>;
}

async function setup(files: Record<string, string> = { ".github/workflows/ci.yml": "on: push\n", "src/sum.ts": "export const sum = 1;\n" }) {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files });
  clock = createFakeClock({ mode: "manual" });
  const sha = model.commitFiles("octoflow/7-add-a-greeting", { "src/sum.ts": "export const sum = 2;\n" });
  head = { sha, branch: "octoflow/7-add-a-greeting", pullRequest: { number: 8, url: "https://github.com/octo/app/pull/8" } };
}

beforeEach(async () => {
  await setup();
});
afterEach(async () => {
  gh.verify();
  await gh.close();
});

describe("the CI gate", () => {
  it("passes neutral when nothing was pushed (and asks GitHub nothing)", async () => {
    const result = expectKind(await gate().check(request()), "passed");
    expect(result.output.text).toBe("Nothing was pushed, so there is no CI to wait for.");
    expect(result.output.data?.["conclusion"]).toBe("neutral");
    expect(gh.requests).toHaveLength(0);
  });

  it("waits while checks run, counting only other apps' checks, with a poll and the ci:<sha> key", async () => {
    // Octoflow's own check run on the same commit is not CI
    model.state.checkRuns.set(1, { head_sha: head.sha, name: "Octoflow: feature-development", status: "in_progress" });
    const build = model.ci.addCheckRun(head.sha, { name: "build" });
    model.ci.complete(build, "success");
    model.ci.addCheckRun(head.sha, { name: "test (ubuntu)", status: "in_progress" });
    model.ci.addStatus(head.sha, { context: "ci/circleci", state: "pending" });
    const result = expectKind(await gate().check(request({ head })), "wait");
    expect(result.key).toBe(`ci:${head.sha}`);
    expect(result.message).toBe(`waiting for CI on ${head.sha.slice(0, 7)} (1 of 3 checks done)`);
    expect(result.wakeAt).toBe(clock.now() + POLL_MS);
    expect(gh.find("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")[0]?.query.get("filter")).toBe("latest");
  });

  it("passes when every check is green; cancelled checks are named but not counted", async () => {
    model.ci.complete(model.ci.addCheckRun(head.sha, { name: "build" }), "success");
    model.ci.complete(model.ci.addCheckRun(head.sha, { name: "docs" }), "skipped");
    model.ci.complete(model.ci.addCheckRun(head.sha, { name: "deploy preview" }), "cancelled");
    model.ci.addStatus(head.sha, { context: "ci/circleci", state: "success" });
    const result = expectKind(await gate().check(request({ head })), "passed");
    expect(result.output.data?.["conclusion"]).toBe("success");
    expect(result.output.text).toContain(`CI passed on ${head.sha.slice(0, 7)}: 3 checks green.`);
    expect(result.output.text).toContain("Not counted: deploy preview (cancelled).");
    expect(result.output.costUsd).toBe(0);
  });

  it("fails once every check is done, with names, summaries, annotations with file and line, and the job's log tail (scrubbed)", async () => {
    const test = model.ci.addCheckRun(head.sha, { name: "test (ubuntu)" });
    const lint = model.ci.addCheckRun(head.sha, { name: "lint", app: { id: 777, slug: "super-linter", name: "Linter" } });
    model.ci.addStatus(head.sha, { context: "ci/circleci", state: "success" });
    model.ci.complete(test, "failure", {
      title: "1 test failed",
      summary: "sum.test.ts",
      annotations: [
        { path: "README.md", line: 1, level: "notice", message: "Consider docs" },
        { path: "src/sum.ts", line: 4, level: "failure", message: "expected 2, got 3", title: "sum adds" },
      ],
      log: ["2026-01-01T00:00:01.1234567Z \u001b[36m> vitest run\u001b[0m", "2026-01-01T00:00:02.0000000Z FAIL test/sum.test.ts > sum adds", "2026-01-01T00:00:02.5000000Z token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "2026-01-01T00:00:03.0000000Z ##[error]Process completed with exit code 1.", ""].join("\n"),
    });
    expectKind(await gate().check(request({ head })), "wait");
    model.ci.complete(lint, "timed_out", { summary: "linter ran too long" });
    const result = expectKind(await gate().check(request({ head, waiting: waitedSince(clock.now()) })), "failed");
    const short = head.sha.slice(0, 7);
    expect(result.error).toBe(`CI failed on ${short}: 2 of 3 checks failed (test (ubuntu), lint)`);
    const text = result.output?.text ?? "";
    expect(text).toContain("### test (ubuntu) — failure");
    expect(text).toContain("1 test failed — sum.test.ts");
    expect(text).toContain("- src/sum.ts:4 (failure) sum adds: expected 2, got 3");
    // failures before notices
    expect(text.indexOf("src/sum.ts:4")).toBeLessThan(text.indexOf("README.md:1"));
    expect(text).toContain("FAIL test/sum.test.ts > sum adds\n");
    expect(text).toContain("##[error]Process completed with exit code 1.");
    expect(text).not.toContain("2026-01-01T00:00:02");
    expect(text).not.toContain("\u001b[");
    expect(text).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    expect(text).toContain("### lint — timed_out");
    expect(result.output?.data?.["conclusion"]).toBe("failure");
    const failing = result.output?.data?.["failing"] as { name: string; annotations: { path: string; line: number }[]; logTail?: string }[];
    expect(failing.map((f) => f.name)).toEqual(["test (ubuntu)", "lint"]);
    expect(failing[0]?.annotations[0]).toMatchObject({ path: "src/sum.ts", line: 4, level: "failure" });
    // the linter is not GitHub Actions: no job log is asked for
    expect(gh.find("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs").map((r) => r.path)).toEqual([`/repos/octo/app/actions/jobs/${test}/logs`]);
  });

  it("without `actions: read` (403) the report has no log tail but says why", async () => {
    model.ci.logStatus = 403;
    model.ci.complete(model.ci.addCheckRun(head.sha, { name: "test", app: GITHUB_ACTIONS }), "failure", { log: "secret log" });
    const result = expectKind(await gate().check(request({ head })), "failed");
    expect(result.output?.text).toContain("(log not readable: the App needs the `actions: read` permission)");
    expect(result.output?.text).not.toContain("secret log");
  });

  it("a repository without CI (no workflows on the default branch, no checks or statuses on its head) passes neutral at once", async () => {
    await gh.close();
    await setup({ "src/sum.ts": "export const sum = 1;\n" });
    const result = expectKind(await gate().check(request({ head })), "passed");
    expect(result.output.data).toMatchObject({ conclusion: "neutral", reason: "no CI", sha: head.sha });
    expect(result.output.text).toContain("This repository has no CI");
  });

  it("a repository whose CI reports statuses on its default branch has CI, though it has no workflow files", async () => {
    await gh.close();
    await setup({ "src/sum.ts": "export const sum = 1;\n" });
    model.ci.addStatus(model.state.refs.get("heads/main") ?? "", { context: "ci/jenkins", state: "success" });
    expectKind(await gate().check(request({ head })), "wait");
  });

  it("with CI but no check at all: waits (polling no later than the deadline), then ends neutral with the reason", async () => {
    const first = expectKind(await gate().check(request({ head })), "wait");
    expect(first.message).toBe(`waiting for CI on ${head.sha.slice(0, 7)} (no check reported yet)`);
    expect(first.data).toEqual({ hasCi: true });
    const since = clock.now();
    await clock.advance(TEN_MIN - 60_000);
    const later = expectKind(await gate().check(request({ head, waiting: waitedSince(since) })), "wait");
    expect(later.wakeAt).toBe(since + TEN_MIN);
    // the repository's CI setup is read once, not at every poll
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}")).toHaveLength(1);
    await clock.advance(60_000);
    const done = expectKind(await gate().check(request({ head, waiting: waitedSince(since) })), "passed");
    expect(done.output.text).toBe(`No CI reported within 10 min on ${head.sha.slice(0, 7)}.`);
    expect(done.output.data).toMatchObject({ conclusion: "neutral", reason: "no CI reported" });
  });

  it("a GitHub failure (502) is transient: the engine looks again later", async () => {
    gh.fault("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", { kind: "status", status: 502 });
    const error = await gate().check(request({ head })).catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
  });

  it("a `command` step is refused in the App: it never runs repository code", async () => {
    const result = expectKind(await gate().check(request({ head, step: { ...verify, uses: { kind: "command", command: "test" } } })), "failed");
    expect(result.error).toContain("the App never executes repository code");
  });
});

describe("logTail", () => {
  it("keeps the last lines without timestamps and colour codes, bounded", () => {
    const log = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00.0000000Z \u001b[31mline ${i}\u001b[0m`).join("\r\n");
    expect(logTail(log, 3)).toBe("line 97\nline 98\nline 99");
    expect(logTail(log, 100, 20).length).toBeLessThanOrEqual(20);
  });
});
