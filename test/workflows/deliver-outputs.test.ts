/**
 * The engine delivers a run's results (DESIGN D10): through the GitHub `RunOutputs` adapter against
 * the fake GitHub, before `run.finished`, retried on transient failures, never recorded as succeeded
 * without its pull request.
 */
import { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubClient, GitHubClients } from "../../src/github/client.ts";
import { createGitHubRunOutputs } from "../../src/github/outputs/github-run-outputs.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { AgentRunner, RunStore } from "../../src/workflows/ports.ts";
import type { RunEvent, RunRecord, StepOutput } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { silentLog, testOctokit, trigger } from "../github/support.ts";

let gh: GitHubFake;
let repo: RepoModel;
let store: RunStore;

beforeEach(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/app.ts": "export const a = 1;\n" } });
  store = createMemoryRunStore();
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

const usage = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };
const agents: AgentRunner = {
  async run(): Promise<StepOutput> {
    return { text: "Set a to 2", edits: [{ kind: "modify", path: "src/app.ts", blocks: [{ search: "a = 1", replace: "a = 2" }] }], usage, costUsd: 0.01 };
  },
};
const template = () => workflow("change").step({ id: "generate", role: "generate", prompt: "change a", output: "pull_request" }).build();

function gatewayError(): RequestError {
  return new RequestError("Bad Gateway", 502, { request: { method: "POST", url: "https://api.github.com/app/installations/1/access_tokens", headers: {} }, response: { status: 502, url: "", headers: {}, data: "" } });
}

async function runToEnd(clients: GitHubClients, options: { deliveryDeadlineMs?: number } = {}): Promise<{ run: RunRecord; finished: { event: RunEvent; run: RunRecord }[] }> {
  const finished: { event: RunEvent; run: RunRecord }[] = [];
  const outputs = createGitHubRunOutputs({ clients, store, log: silentLog });
  const engine = createEngine({
    store,
    agents,
    outputs,
    backoff: { baseMs: 5, maxMs: 20 },
    ...options,
    progress: {
      emit: async (event, run) => {
        if (event.type === "run.finished") finished.push({ event, run });
      },
    },
  });
  const t = trigger({ issue: { title: "Change a", body: "a should be 2" } });
  const started = await engine.start(planRun(template(), t), t);
  await engine.execute(started.id, new AbortController().signal);
  return { run: (await store.getRun(started.id))!, finished };
}

describe("delivering a run's results from the engine", () => {
  it("a token that could not be minted once at the end of the run: retried, the PR delivered once, its link stored before run.finished", async () => {
    let mints = 0;
    const clients: GitHubClients = {
      forInstallation: async () => {
        mints += 1;
        if (mints === 1) throw gatewayError();
        return testOctokit(gh.url) as GitHubClient;
      },
    };
    const { run, finished } = await runToEnd(clients);
    gh.verify();
    expect(mints).toBe(2);
    expect(run.status).toBe("succeeded");
    expect(repo.state.pulls).toHaveLength(1);
    expect(run.outputs?.pullRequest?.number).toBe(repo.state.pulls[0]?.number);
    expect(run.outputs?.pullRequest?.url).toMatch(/\/pull\/\d+$/);
    expect(repo.filesAt(repo.state.pulls[0]!.head.ref).get("src/app.ts")).toBe("export const a = 2;\n");
    // the record the sinks get with run.finished already carries the link
    expect(finished.map((f) => f.run.outputs?.pullRequest?.number)).toEqual([repo.state.pulls[0]?.number]);
    expect(gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(1);
  });

  it("GitHub refusing the pull request (422) fails the run in words; it is never recorded as succeeded", async () => {
    // refused twice: when the producing step pushes mid-run (logged, the run goes on) and at the delivery
    gh.expect("POST", "/repos/{owner}/{repo}/pulls", () => ({ status: 422, body: { message: "Validation Failed", errors: [{ message: "A pull request already exists" }] } }), { times: 2 });
    const { run } = await runToEnd({ forInstallation: async () => testOctokit(gh.url) });
    gh.verify();
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^Octoflow could not deliver this run's results: GitHub answered HTTP 422/);
    expect(run.outputs).toBeUndefined();
    expect(repo.state.pulls).toHaveLength(0);
  });

  it("5xx on every try until the delivery deadline: failed, saying how long it kept trying", async () => {
    gh.allow("POST", "/repos/{owner}/{repo}/pulls", () => ({ status: 502, body: { message: "Bad Gateway" } }));
    const clients: GitHubClients = { forInstallation: async () => testOctokit(gh.url) };
    // the fake loads GitHub's OpenAPI description on its first request: not part of the deadline
    await testOctokit(gh.url).rest.git.getRef({ owner: "octo", repo: "app", ref: "heads/main" });
    const { run } = await runToEnd(clients, { deliveryDeadlineMs: 1500 });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/GitHub answered HTTP 502.*still failing after \d+ attempts over \d+ s\)$/);
    const tries = gh.find("POST", "/repos/{owner}/{repo}/pulls").length;
    expect(tries).toBeGreaterThan(1);
    expect(repo.state.pulls).toHaveLength(0);
    // the branch and its commit were made once, however many times the pull request was tried
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(1);
  });
});
