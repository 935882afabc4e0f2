import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubClients } from "../../../src/github/client.ts";
import { createGitHubProgressSink } from "../../../src/github/progress/github-progress-sink.ts";
import { sweepUnreportedRuns } from "../../../src/github/progress/sweep-unreported-runs.ts";
import { createMetrics } from "../../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../../src/store/memory-run-store.ts";
import { systemClock, type RunStore } from "../../../src/workflows/ports.ts";
import type { RunFinishedEvent, RunRecord } from "../../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit } from "../support.ts";

let gh: GitHubFake;
let repo: RepoModel;
let store: RunStore;

beforeEach(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, { owner: "octo", repo: "app", files: { "a.txt": "a" } });
  store = createMemoryRunStore();
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

const NOW = 10_000_000;
const sink = () => {
  const clients: GitHubClients = { forInstallation: async () => testOctokit(gh.url) };
  return createGitHubProgressSink({ clients, store, clock: systemClock, log: silentLog, metrics: createMetrics({ defaults: false }), intervalMs: 10 });
};

/** A run recorded finished `agoMs` before NOW whose process died before the final GitHub write. */
async function finishedWithoutFinalWrite(id: string, agoMs: number): Promise<RunRecord> {
  const steps = [step("generate", "generate", "none")];
  const run = runRecord(id, steps, undefined, { status: "running", startedAt: NOW - agoMs - 1000 });
  await store.createRun(run, [{ runId: run.id, stepId: steps[0]!.id, status: "succeeded", attempts: 1 }]);
  const started = sink();
  await started.emit({ type: "run.started", runId: run.id, at: NOW - agoMs - 1000 }, run);
  await started.idle();
  const event: RunFinishedEvent = {
    type: "run.finished",
    runId: run.id,
    status: "succeeded",
    at: NOW - agoMs,
    summary: { steps: 1, succeeded: 1, failed: 0, skipped: 0, cancelled: 0, successRate: 1, durationMs: 1000, criticalPath: [], criticalPathMs: 0, usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0 },
  };
  expect(await store.finishRun(run.id, ["running"], event, { finishedAt: NOW - agoMs })).toBe(true);
  return (await store.getRun(run.id))!;
}

describe("sweepUnreportedRuns", () => {
  it("completes the check run of a run recorded finished whose final write never happened, once", async () => {
    const lost = await finishedWithoutFinalWrite("run-lost", 10 * 60_000);
    const recent = await finishedWithoutFinalWrite("run-recent", 5_000);
    expect([...repo.state.checkRuns.values()].map((c) => c.status)).toEqual(["in_progress", "in_progress"]);

    const progress = sink();
    expect(await sweepUnreportedRuns({ store, progress, log: silentLog, now: NOW })).toBe(1);
    await progress.idle();
    const byRun = new Map([...repo.state.checkRuns.values()].map((c) => [c.external_id, c]));
    expect(byRun.get(String(lost.id))).toMatchObject({ status: "completed", conclusion: "success" });
    // finished 5 s ago: its own process may still be writing, so it is left for a later sweep
    expect(byRun.get(String(recent.id))?.status).toBe("in_progress");

    expect(await sweepUnreportedRuns({ store, progress, log: silentLog, now: NOW })).toBe(0);
    expect(await sweepUnreportedRuns({ store, progress, log: silentLog, now: NOW + 3 * 60_000 })).toBe(1);
    await progress.idle();
    expect([...repo.state.checkRuns.values()].map((c) => c.status)).toEqual(["completed", "completed"]);
    expect(gh.find("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(2);
    gh.verify();
  });
});
