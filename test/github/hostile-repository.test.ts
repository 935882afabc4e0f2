/**
 * No repository can stall the app: the real Probot server receives signed deliveries for repositories
 * whose `.github/octoflow.yml` has 20,000 / 40,000 / 100,000 top-level keys, whose template uses an
 * unknown YAML tag, or whose `review.paths` glob backtracks catastrophically, while `/healthz` is
 * probed without pause. Every probe is answered (no timing assertion: the worst latency is printed),
 * and each repository gets a clear error naming the limit. A second delivery for the same broken
 * repository is answered from the loader's cache (no second read).
 */
import { createServer, type Server } from "node:http";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { createTestProbot, examplePayloads, scriptedAgents, testPrivateKey, usage, WEBHOOK_SECRET } from "./app-harness.ts";
import { silentLog } from "./support.ts";

type Json = Record<string, unknown>;

let gh: GitHubFake;
let runtime: Runtime;
let server: Server;
let url: string;
let deliveries = 0;
const repos = new Map<string, RepoModel>();

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: v\n`).join("");
const HOSTILE: Record<string, Record<string, string>> = {
  "keys-20k": { ".github/octoflow.yml": keys(20_000) },
  "keys-40k": { ".github/octoflow.yml": keys(40_000) },
  "keys-100k": { ".github/octoflow.yml": keys(100_000) },
  "js-tag": { ".github/octoflow/workflows/evil.yml": "name: evil\nsteps:\n  - id: a\n    role: generate\n    prompt: !!js/function 'function () { return process.exit(1) }'\n" },
  fine: {},
  "glob-bomb": { ".github/octoflow.yml": `review:\n  paths:\n    include: ["${"*a".repeat(14)}*b"]\n` },
};

async function post(event: string, payload: object): Promise<number> {
  const body = JSON.stringify(payload);
  const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": `hostile-${++deliveries}`, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  gh = await startGitHubFake();
  for (const [name, files] of Object.entries(HOSTILE)) {
    repos.set(name, installRepoModel(gh, { owner: "octo", repo: name, files: { "README.md": "# x\n", ["a".repeat(200)]: "x\n", ...files }, permissions: { alice: "write" } }));
  }
  const env = loadEnv({ NODE_ENV: "test", APP_ID: "123", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET, LOG_LEVEL: "silent" });
  runtime = await createRuntime(env, silentLog, {
    store: createMemoryRunStore(),
    agents: scriptedAgents(() => ({ text: "done", usage, costUsd: 0 })),
    metrics: createMetrics({ defaults: false }),
    progressIntervalMs: 1000,
    startWorkers: false,
  });
  const middleware = await createNodeMiddleware(octoflowApp(runtime), { probot: createTestProbot(gh.url) });
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
  await gh?.close();
});

async function labeled(repo: string): Promise<Json> {
  const payload = (await examplePayloads("issues")).find((p) => p.action === "labeled") as Json;
  Object.assign(payload.repository as Json, { name: repo, full_name: `octo/${repo}` });
  Object.assign(payload.issue as Json, { number: 3, state: "open" });
  delete (payload.issue as Json).pull_request;
  (payload.label as Json).name = "octoflow";
  (payload.sender as Json).login = "alice";
  return payload;
}

async function opened(repo: string): Promise<Json> {
  const model = repos.get(repo) as RepoModel;
  const pull = model.addPull({ number: 5, title: "Change", body: "", draft: false, head: { ref: "feature", sha: "c".repeat(40), repoFullName: `octo/${repo}` }, base: { ref: "main", sha: "d".repeat(40) }, files: [{ filename: "a".repeat(200), status: "modified", additions: 1, deletions: 1, patch: "@@ -1 +1 @@\n-x\n+y" }] });
  const payload = (await examplePayloads("pull_request")).find((p) => p.action === "opened") as Json;
  Object.assign(payload.repository as Json, { name: repo, full_name: `octo/${repo}` });
  Object.assign(payload.pull_request as Json, { number: pull.number, state: "open", draft: false, additions: 1, deletions: 1, changed_files: 1 });
  Object.assign((payload.pull_request as Json).head as Json, { sha: "c".repeat(40), ref: "feature" });
  Object.assign((payload.pull_request as Json).base as Json, { sha: "d".repeat(40), ref: "main" });
  (payload.sender as Json).login = "alice";
  return payload;
}

describe("hostile repositories", { timeout: 120_000 }, () => {
  it("/healthz answers every probe while hostile repositories are processed, and each gets an error naming the limit", async () => {
    // Warm-up with a healthy repository: the fake GitHub (in this process) loads GitHub's OpenAPI
    // description on its first request, which is not the app's work.
    expect(await post("issues", await labeled("fine"))).toBeLessThan(300);
    const latencies: number[] = [];
    const failures: string[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        try {
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
          await response.arrayBuffer();
          if (response.status !== 200) failures.push(`status ${response.status}`);
        } catch (error) {
          failures.push(String(error));
        }
        latencies.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const statuses: number[] = [];
    for (const repo of ["keys-20k", "keys-40k", "keys-100k", "js-tag"]) {
      // two deliveries: the second is answered from the loader's cache of the failed load
      statuses.push(await post("issues", await labeled(repo)));
      statuses.push(await post("issues", await labeled(repo)));
    }
    statuses.push(await post("pull_request", await opened("glob-bomb")));
    const commentsOf = (repo: string) => [...(repos.get(repo)?.state.comments.values() ?? [])].map((c) => c.body);
    const checkRunsOf = (repo: string) => [...(repos.get(repo)?.state.checkRuns.values() ?? [])];
    // The inbox processes deliveries after acknowledging them: wait for the outcomes (bounded; no timing asserted).
    for (let i = 0; i < 600; i++) {
      if (["keys-20k", "keys-40k", "keys-100k", "js-tag"].every((r) => commentsOf(r).length >= 2) && checkRunsOf("glob-bomb").length >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    probing = false;
    await probe;

    expect(statuses.every((s) => s >= 200 && s < 300)).toBe(true);
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(0);
    for (const repo of ["keys-20k", "keys-40k", "keys-100k"]) {
      // one comment per delivery (two label events), both naming the limit
      expect(commentsOf(repo), repo).toEqual(Array(2).fill(expect.stringContaining("more than 10,000 YAML nodes (keys, values and list items); the limit is 10,000")));
      // the config was read (and parsed) once for both deliveries
      expect(gh.requests.filter((r) => r.path === `/repos/octo/${repo}/contents/.github%2Foctoflow.yml`), repo).toHaveLength(1);
    }
    expect(commentsOf("js-tag")).toEqual(Array(2).fill(expect.stringContaining("evil.yml:5: unknown YAML tag !!js/function")));
    expect(checkRunsOf("glob-bomb")).toEqual([expect.objectContaining({ conclusion: "failure", output: expect.objectContaining({ summary: expect.stringContaining("review.paths: matching the globs") }) })]);
    const worst = Math.max(...latencies);
    console.log(`hostile repositories: /healthz answered ${latencies.length}/${latencies.length} probes, worst latency ${worst.toFixed(0)} ms, median ${[...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)]?.toFixed(0)} ms`);
  });
});
