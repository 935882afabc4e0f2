import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubClients } from "../../../src/github/client.ts";
import { createMetrics } from "../../../src/observability/metrics.ts";
import { createGitHubProgressSink } from "../../../src/github/progress/github-progress-sink.ts";
import { stickyMarker } from "../../../src/progress/render.ts";
import { createMemoryRunStore } from "../../../src/store/memory-run-store.ts";
import type { RunStore } from "../../../src/workflows/ports.ts";
import { asStepId, type RunEvent, type RunRecord, type RunSummary, type StepOutput } from "../../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit } from "../support.ts";
import { createFakeClock, type FakeClock } from "../../fakes/fake-clock.ts";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;
let clock: FakeClock;

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "a.txt": "a" } });
  store = createMemoryRunStore();
  clock = createFakeClock({ mode: "manual" });
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

const summary = (over: Partial<RunSummary> = {}): RunSummary => ({
  steps: 2,
  succeeded: 2,
  failed: 0,
  skipped: 0,
  cancelled: 0,
  successRate: 1,
  durationMs: 4000,
  criticalPath: [],
  criticalPathMs: 0,
  usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 },
  costUsd: 0.02,
  ...over,
});
const output = (text: string, extra: Partial<StepOutput> = {}): StepOutput => ({ text, usage: { inputTokens: 100, outputTokens: 50, cachedTokens: 0 }, costUsd: 0.01, ...extra });

function sink(metrics = createMetrics({ defaults: false })) {
  const clients: GitHubClients = { forInstallation: async () => testOctokit(gh.url) };
  return { metrics, sink: createGitHubProgressSink({ clients, store, clock, log: silentLog, metrics, intervalMs: 3000 }) };
}

async function play(s: ReturnType<typeof sink>["sink"], run: RunRecord, events: RunEvent[], stepMs = 0) {
  for (const e of events) {
    if (e.type === "step.progress" && stepMs) await clock.advance(stepMs);
    await s.emit(e, run);
  }
  await s.idle();
}

function streamEvents(run: RunRecord, stepId: string, chunks: number): RunEvent[] {
  const id = asStepId(stepId);
  return Array.from({ length: chunks }, (_, i) => ({ type: "step.progress" as const, runId: run.id, stepId: id, at: i, tokens: i + 1, tail: `chunk ${i}` }));
}

describe("GitHub progress sink", () => {
  it("creates the check run and sticky comment once, coalesces streaming updates, completes with a final write", async () => {
    const steps = [step("generate", "generate", "comment"), step("docs", "docs", "none", ["generate"])];
    const run = runRecord("run-1", steps);
    await store.createRun(run, steps.map((s) => ({ runId: run.id, stepId: s.id, status: "pending", attempts: 0 })));
    const { sink: s, metrics } = sink();
    const g = asStepId("generate");
    await play(s, run, [{ type: "run.started", runId: run.id, at: 0 }, { type: "step.started", runId: run.id, stepId: g, attempt: 1, at: 0 }]);
    // 1,000 streamed chunks over 10 simulated seconds → a handful of writes, not a thousand
    await play(s, run, streamEvents(run, "generate", 1000), 10);
    await store.updateStep(run.id, g, { status: "succeeded", attempts: 1, output: output("Here is the plan") });
    // what the engine's finaliser stored before run.finished: the sink only renders it
    await store.updateRun(run.id, { outputs: { results: [{ step: "generate", text: "Here is the plan" }], notes: [], findings: 0 } });
    await play(s, run, [
      { type: "step.finished", runId: run.id, stepId: g, status: "succeeded", attempts: 1, durationMs: 10_000, output: output("Here is the plan"), at: 1 },
      { type: "step.started", runId: run.id, stepId: asStepId("docs"), attempt: 1, at: 2 },
      { type: "step.finished", runId: run.id, stepId: asStepId("docs"), status: "succeeded", attempts: 1, durationMs: 5, output: output("docs"), at: 3 },
      { type: "run.finished", runId: run.id, status: "succeeded", at: 4, summary: summary() },
    ]);
    gh.verify();

    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(1);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(1);
    const created = gh.find("POST", "/repos/{owner}/{repo}/check-runs")[0]?.body as Record<string, unknown>;
    expect(created).toMatchObject({ name: "Octoflow: feature-development", status: "in_progress", external_id: "run-1", head_sha: model.state.refs.get("heads/main") });
    expect(created.actions).toEqual([{ label: "Cancel", description: "Cancel this Octoflow run", identifier: "cancel" }]);

    const checkWrites = metrics.githubWrites.get();
    const total = (await checkWrites).values.reduce((n, v) => n + v.value, 0);
    expect(total).toBeLessThanOrEqual(14);
    const patches = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}");
    expect(patches.length).toBeGreaterThanOrEqual(2);
    const final = patches.at(-1)?.body as { status: string; conclusion: string; output: { summary: string; text?: string }; actions: unknown[] };
    expect(final).toMatchObject({ status: "completed", conclusion: "success", actions: [] });
    expect(final.output.summary).toContain("| generate | ✅ succeeded | 10.0 s | 1 | 150 | $0.0100 |");
    // the last step's own text, not the last streamed chunk of raw model output
    expect(final.output.text).toContain("Latest output of **docs**");
    expect(final.output.text).not.toContain("chunk 999");

    const [comment] = [...model.state.comments.values()];
    expect(comment?.body.startsWith(stickyMarker("run-1"))).toBe(true);
    expect(comment?.body).toContain("✅ succeeded (2 succeeded of 2 steps)");
    expect(comment?.body).toContain("Here is the plan");
    const stored = await store.getRun(run.id);
    expect(stored?.checkRunId).toBeTypeOf("number");
    expect(stored?.commentId).toBe(comment?.id);
  });

  it("shows a failure in words with a Retry button; a resumed run on another replica reuses both surfaces", async () => {
    const steps = [step("generate", "generate", "pull_request")];
    const run = runRecord("run-2", steps);
    await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "pending", attempts: 0 }]);
    const first = sink().sink;
    await play(first, run, [{ type: "run.started", runId: run.id, at: 0 }, { type: "step.started", runId: run.id, stepId: asStepId("generate"), attempt: 1, at: 0 }]);
    // "crash": a second replica picks the run up with a fresh sink
    const second = sink().sink;
    const err = 'The model provider "openai" is unavailable right now (too many recent failures); try again in a minute.';
    await play(second, (await store.getRun(run.id))!, [
      { type: "step.finished", runId: run.id, stepId: asStepId("generate"), status: "failed", attempts: 3, durationMs: 100, error: err, at: 1 },
      { type: "run.finished", runId: run.id, status: "failed", at: 2, summary: summary({ failed: 1, succeeded: 0 }), error: "1 step failed" },
    ]);
    gh.verify();
    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(1);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(1);
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { conclusion: string; actions: { identifier: string }[]; output: { summary: string } };
    expect(final.conclusion).toBe("failure");
    expect(final.actions.map((a) => a.identifier)).toEqual(["retry"]);
    expect(final.output.summary).toContain("unavailable right now");
    const [comment] = [...model.state.comments.values()];
    expect(comment?.body).toContain("/octoflow retry");
  });

  it("a parked run is shown waiting at once and forgotten; woken, it updates the same check run and comment", async () => {
    const steps = [step("generate", "generate", "pull_request"), step("verify", "ci", "none", ["generate"])];
    const run = runRecord("run-parked", steps);
    await store.createRun(run, steps.map((s) => ({ runId: run.id, stepId: s.id, status: "pending", attempts: 0 })));
    const { sink: s } = sink();
    const v = asStepId("verify");
    await play(s, run, [
      { type: "run.started", runId: run.id, at: 0 },
      { type: "step.started", runId: run.id, stepId: asStepId("generate"), attempt: 1, at: 0 },
      { type: "step.finished", runId: run.id, stepId: asStepId("generate"), status: "succeeded", attempts: 1, durationMs: 5, output: output("change"), at: 1 },
      { type: "step.started", runId: run.id, stepId: v, attempt: 1, at: 2 },
      { type: "step.waiting", runId: run.id, stepId: v, reason: "ci", message: "waiting for CI on abc1234 (0 of 2 checks done)", at: 3 },
      { type: "run.waiting", runId: run.id, at: 3, keys: ["ci:abc1234"], messages: ["verify: waiting for CI on abc1234 (0 of 2 checks done)"] },
    ]);
    // written at once (no coalescing delay: the worker is gone), without waiting for the clock
    const waitingWrite = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { status: string; output: { title: string; summary: string } };
    expect(waitingWrite.status).toBe("in_progress");
    expect(waitingWrite.output.title).toContain("⏸️ waiting");
    expect(waitingWrite.output.summary).toContain("⏸️ waiting — waiting for CI on abc1234 (0 of 2 checks done)");
    expect(waitingWrite.output.summary).toContain("**Waiting**");
    expect([...model.state.comments.values()][0]?.body).toContain("⏸️ waiting");
    // woken later (the same or another process): the same surfaces, no new ones
    await store.updateRun(run.id, { status: "running" });
    await store.updateStep(run.id, v, { status: "succeeded", attempts: 1, output: output("CI passed") });
    await play(s, (await store.getRun(run.id))!, [
      { type: "run.started", runId: run.id, at: 10 },
      { type: "step.finished", runId: run.id, stepId: v, status: "succeeded", attempts: 1, durationMs: 5, output: output("CI passed"), at: 11 },
      { type: "run.finished", runId: run.id, status: "succeeded", at: 12, summary: summary() },
    ]);
    gh.verify();
    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(1);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(1);
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { status: string; conclusion: string; output: { summary: string } };
    expect(final).toMatchObject({ status: "completed", conclusion: "success" });
    expect(final.output.summary).not.toContain("**Waiting**");
  });

  it("a process killed between creating the surfaces and storing their ids: the restarted run adopts both, creates none", async () => {
    const steps = [step("generate", "generate", "pull_request")];
    const run = runRecord("run-killed", steps);
    await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "pending", attempts: 0 }]);
    // what the killed process had written to GitHub before it could record anything
    const octokit = testOctokit(gh.url);
    const head = model.state.refs.get("heads/main") ?? "";
    const { data: created } = await octokit.rest.checks.create({ owner: "octo", repo: "app", name: "Octoflow: feature-development", head_sha: head, external_id: run.id, status: "in_progress" });
    const { data: comment } = await octokit.rest.issues.createComment({ owner: "octo", repo: "app", issue_number: run.trigger.number, body: `${stickyMarker(run.id)}\nrunning` });
    const before = { checks: gh.find("POST", "/repos/{owner}/{repo}/check-runs").length, comments: gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments").length };
    // the resumed execution starts again (run.started) in a fresh process
    await play(sink().sink, run, [
      { type: "run.started", runId: run.id, at: 0 },
      { type: "run.finished", runId: run.id, status: "succeeded", at: 2, summary: summary({ steps: 1, succeeded: 1 }) },
    ]);
    gh.verify();
    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(before.checks);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(before.comments);
    expect(model.state.checkRuns.get(created.id)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(model.state.comments.get(comment.id)?.body).toContain("succeeded");
    expect((await store.getRun(run.id))?.checkRunId).toBe(created.id);
  });

  it("a check run GitHub could not create at the start (502) is created at the final write, completed", async () => {
    const steps = [step("generate", "generate", "pull_request")];
    const run = runRecord("run-6", steps);
    await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "succeeded", attempts: 1, output: output("Add b") }]);
    gh.expect("POST", "/repos/{owner}/{repo}/check-runs", () => ({ status: 502, body: { message: "Server Error" } }));
    const s = sink().sink;
    await play(s, run, [{ type: "run.started", runId: run.id, at: 0 }]);
    expect(model.state.checkRuns.size).toBe(0);
    const error = "Octoflow could not deliver this run's results: GitHub answered HTTP 422: Reference update failed";
    await store.updateRun(run.id, { error });
    await play(s, (await store.getRun(run.id))!, [{ type: "run.finished", runId: run.id, status: "failed", at: 1, summary: summary(), error }]);
    gh.verify();
    const [checkRun] = [...model.state.checkRuns.values()];
    expect(checkRun).toMatchObject({ status: "completed", conclusion: "failure" });
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { output: { summary: string } };
    expect(final.output.summary).toContain("could not deliver this run's results: GitHub answered HTTP 422");
    const [comment] = [...model.state.comments.values()];
    expect(comment?.body).toContain("could not deliver this run's results");
    expect(comment?.body).not.toContain("🔄 running");
  });

  it("a retried run gets a new check run (a completed one cannot reopen) and keeps its sticky comment", async () => {
    const steps = [step("generate", "generate", "none")];
    const run = runRecord("run-5", steps);
    await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "pending", attempts: 0 }]);
    const s = sink().sink;
    const finishedAs = (status: "failed" | "succeeded"): RunEvent => ({ type: "run.finished", runId: run.id, status, at: 2, summary: summary(), ...(status === "failed" ? { error: "boom" } : {}) });
    await play(s, run, [{ type: "run.started", runId: run.id, at: 0 }, finishedAs("failed")]);
    const retried = (await store.getRun(run.id))!;
    await play(s, retried, [{ type: "run.started", runId: run.id, at: 3 }, finishedAs("succeeded")]);
    gh.verify();
    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(2);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(1);
    const ids = [...model.state.checkRuns.keys()];
    expect(ids.map((id) => model.state.checkRuns.get(id)?.conclusion)).toEqual(["failure", "success"]);
    expect((await store.getRun(run.id))?.checkRunId).toBe(ids[1]);
  });

  it("concludes neutral when a review run produced findings, cancelled when cancelled", async () => {
    const steps = [step("review", "review", "review")];
    const run = runRecord("run-3", steps, { ...runRecord("x", []).trigger, number: 5, isPullRequest: true, pullRequest: { headSha: "abc", baseSha: "b", headRef: "f", baseRef: "main", fromFork: false, draft: false } });
    model.addPull({ number: 5, title: "t", body: "", draft: false, head: { ref: "f", sha: "abc", repoFullName: "octo/app" }, base: { ref: "main", sha: "b" }, files: [{ filename: "a.txt", status: "modified", additions: 1, deletions: 0, patch: "@@ -1 +1,2 @@\n a\n+b" }] });
    await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "succeeded", attempts: 1, output: output("review", { findings: [{ path: "a.txt", line: 2, side: "RIGHT", severity: "minor", body: "b?" }] }) }]);
    await store.updateRun(run.id, { outputs: { review: { url: "https://github.com/octo/app/pull/5#pullrequestreview-1" }, results: [], notes: [], findings: 1 } });
    const s = sink().sink;
    await play(s, (await store.getRun(run.id))!, [{ type: "run.started", runId: run.id, at: 0 }, { type: "run.finished", runId: run.id, status: "succeeded", at: 1, summary: summary() }]);
    const cancelled = runRecord("run-4", steps);
    await store.createRun(cancelled, []);
    await play(s, cancelled, [{ type: "run.started", runId: cancelled.id, at: 0 }, { type: "run.finished", runId: cancelled.id, status: "cancelled", at: 1, summary: summary(), error: "cancelled by @alice" }]);
    gh.verify();
    const conclusions = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").map((r) => (r.body as { conclusion?: string }).conclusion).filter(Boolean);
    expect(conclusions).toEqual(["neutral", "cancelled"]);
    // delivering is the engine's job: the sink posts no review of its own
    expect(model.state.reviews).toHaveLength(0);
    expect(model.state.checkRuns.get([...model.state.checkRuns.keys()][0]!)?.head_sha).toBe("abc");
  });
});
