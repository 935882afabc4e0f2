/**
 * kill -9 after the last step finished, while the run's pull request is being opened: the process
 * that resumes the run (same SQLite file) delivers the PR exactly once, keeps the commit made before
 * the crash, completes the check run and records the run succeeded with its link.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubRunOutputs } from "../../src/github/outputs/github-run-outputs.ts";
import { createGitHubProgressSink } from "../../src/github/progress/github-progress-sink.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createEmbeddedQueue } from "../../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { composeSinks } from "../../src/workflows/compose-sinks.ts";
import { systemClock, type ProgressSink } from "../../src/workflows/ports.ts";
import { asRunId } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { silentLog, testOctokit } from "../github/support.ts";
import { changeAgent } from "./helpers/change-workflow.ts";

let gh: GitHubFake;
let repo: RepoModel;
let dir: string;

beforeEach(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/app.ts": "export const a = 1;\n" } });
  dir = mkdtempSync(join(tmpdir(), "octoflow-kill-delivery-"));
});
afterEach(async () => {
  await gh.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits for a condition on observable state; the bound only turns a hang into a clear failure. */
async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("kill -9 while the run's results are being delivered", () => {
  it("the resumed run delivers the pull request once and completes the check run", { timeout: 60_000 }, async () => {
    // the first attempt to open the PR never gets an answer: the worker is killed while waiting for it
    gh.expect("POST", "/repos/{owner}/{repo}/pulls", () => new Promise(() => {}));
    const path = join(dir, "octoflow.db");
    const child = spawn(process.execPath, [join(import.meta.dirname, "helpers/crash-delivery-worker.ts"), path, gh.url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    await until("the worker to open the pull request", () => gh.find("POST", "/repos/{owner}/{repo}/pulls").length === 1);
    child.kill("SIGKILL");
    await exited;
    const runId = asRunId(/started (\S+)/.exec(out)?.[1] ?? "");

    const store = createSqliteRunStore({ path });
    const stored = await store.getRun(runId);
    expect(stored?.status).toBe("running");
    expect((await store.getSteps(runId)).map((s) => s.status)).toEqual(["succeeded"]);
    expect([...repo.state.checkRuns.values()].map((c) => c.status)).toEqual(["in_progress"]);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(1);

    const clients = { forInstallation: async () => testOctokit(gh.url) };
    const agents = changeAgent("second worker");
    let onFinished: () => void = () => {};
    const finished = new Promise<void>((resolve) => (onFinished = resolve));
    const github = createGitHubProgressSink({ clients, store, clock: systemClock, log: silentLog, metrics: createMetrics({ defaults: false }), intervalMs: 50 });
    const done: ProgressSink = { emit: (event) => void (event.type === "run.finished" && onFinished()) };
    const queue = createEmbeddedQueue({ store, pollMs: 10, leaseMs: 5000 });
    const engine = createEngine({ store, queue, agents, outputs: createGitHubRunOutputs({ clients, store, log: silentLog }), progress: composeSinks([github, done]) });
    await queue.start(engine.execute);
    expect(await engine.resumeUnfinished()).toBe(1);
    await finished;
    await github.idle();
    await queue.stop();

    gh.verify();
    const run = await store.getRun(runId);
    expect(run?.status).toBe("succeeded");
    // the step was not run again, its commit not made again, and one pull request exists
    expect(agents.calls).toBe(0);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(1);
    expect(repo.state.pulls).toHaveLength(1);
    expect(run?.outputs?.pullRequest?.number).toBe(repo.state.pulls[0]?.number);
    expect(repo.filesAt(repo.state.pulls[0]!.head.ref).get("src/app.ts")).toBe("export const a = 2;\n");
    // one check run, completed successfully, linking the PR
    const checkRuns = [...repo.state.checkRuns.values()];
    expect(checkRuns.map((c) => [c.status, c.conclusion])).toEqual([["completed", "success"]]);
    const final = gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1)?.body as { output: { summary: string } };
    expect(final.output.summary).toContain(`/pull/${repo.state.pulls[0]?.number}`);
    await store.close();
  });
});
