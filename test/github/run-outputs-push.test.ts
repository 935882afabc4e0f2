/**
 * `RunOutputs.push` of the GitHub adapter: mid-run, the producing steps finished so far become
 * commits on the run's branch and the draft pull request opens; pushing again is idempotent; the
 * final delivery adds only what came since.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubRunOutputs } from "../../src/github/outputs/github-run-outputs.ts";
import { isTransient } from "../../src/resilience/classify-error.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { asRunId, type StepOutput, type StepRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/sum.ts": "export const sum = 1;\n" } });
  store = createMemoryRunStore();
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

const usage = { inputTokens: 1, outputTokens: 1, cachedTokens: 0 };
const edit = (path: string, content: string): StepOutput => ({ text: `write ${path}`, usage, costUsd: 0, edits: [{ kind: "create", path, content }] });
const record = (id: string, status: StepRecord["status"], output?: StepOutput): StepRecord => ({ runId: asRunId("run-p"), stepId: step(id, "generate", "pull_request").id, status, attempts: 1, ...(output ? { output } : {}) });

describe("RunOutputs.push (GitHub)", () => {
  it("commits the finished producing steps, opens the draft PR once, returns the branch head; the fix commit goes on top", async () => {
    const generate = step("generate", "generate", "pull_request");
    const fix = step("fix-1", "generate", "pull_request", ["generate"]);
    const run = runRecord("run-p", [generate, fix]);
    await store.createRun(run, []);
    const outputs = createGitHubRunOutputs({ clients: { forInstallation: async () => testOctokit(gh.url) }, store, log: silentLog });

    // nothing produced yet: nothing pushed, nothing asked
    expect(await outputs.push?.(run, [record("generate", "running"), record("fix-1", "pending")])).toBeUndefined();
    expect(gh.requests).toHaveLength(0);

    const first = await outputs.push?.(run, [record("generate", "succeeded", edit("src/a.ts", "a\n")), record("fix-1", "pending")]);
    const branch = "octoflow/7-add-a-greeting";
    expect(first).toEqual({ sha: model.state.refs.get(`heads/${branch}`), branch, pullRequest: { number: model.state.pulls[0]?.number, url: expect.stringContaining("/pull/") } });
    expect(model.state.pulls).toHaveLength(1);
    expect(model.state.pulls[0]?.draft).toBe(true);

    // again with the same steps: the same head, no new commit, no second PR
    const again = await outputs.push?.(run, [record("generate", "succeeded", edit("src/a.ts", "a\n")), record("fix-1", "pending")]);
    expect(again?.sha).toBe(first?.sha);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(1);

    const second = await outputs.push?.(run, [record("generate", "succeeded", edit("src/a.ts", "a\n")), record("fix-1", "succeeded", edit("src/b.ts", "b\n"))]);
    expect(second?.sha).not.toBe(first?.sha);
    expect(model.state.commits.get(second?.sha ?? "")?.parents).toEqual([first?.sha]);
    expect(model.filesAt(branch).get("src/b.ts")).toBe("b\n");
    expect(model.state.pulls).toHaveLength(1);
    gh.verify();
  });

  it("a 502 from GitHub is transient, like deliver's failures", async () => {
    const generate = step("generate", "generate", "pull_request");
    const run = runRecord("run-p", [generate]);
    await store.createRun(run, []);
    gh.fault("POST", "/repos/{owner}/{repo}/git/trees", { kind: "status", status: 502 });
    const outputs = createGitHubRunOutputs({ clients: { forInstallation: async () => testOctokit(gh.url) }, store, log: silentLog });
    const error = await outputs.push?.(run, [record("generate", "succeeded", edit("src/a.ts", "a\n"))]).catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
  });
});
