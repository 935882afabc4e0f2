import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubRepoReader, repoReaderFor } from "../../src/github/repo-reader.ts";
import { createEmbeddedQueue } from "../../src/queue/embedded-queue.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { AgentRunner } from "../../src/workflows/ports.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { testOctokit, trigger } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/a.ts": "a\n", "docs/b.md": "b\n" }, issues: { 3: { title: "Bug", body: "It breaks" } } });
});
afterEach(async () => {
  await gh.close();
});

const reader = (options = {}) => createGitHubRepoReader(async () => testOctokit(gh.url), { owner: "octo", name: "app" }, options);

describe("GitHub RepoReader", () => {
  it("lists files and reads them at a ref; a missing or oversized file is undefined", async () => {
    const r = reader({ maxFileBytes: 3 });
    const listing = await r.listFiles("main");
    expect({ ...listing, paths: [...listing.paths].sort() }).toEqual({ paths: ["docs/b.md", "src/a.ts"], truncated: false });
    expect(await r.readFile("src/a.ts", "main")).toBe("a\n");
    expect(await r.readFile("nope.ts", "main")).toBeUndefined();
    model.commitFiles("main", { "big.txt": "0123456789" });
    expect(await r.readFile("big.txt", "main")).toBeUndefined();
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}").every((q) => q.query.get("ref") === "main")).toBe(true);
    gh.verify();
  });

  it("returns the pull request's diff, or only the commits since a SHA", async () => {
    const base = model.state.refs.get("heads/main") ?? "";
    const mid = model.commitFiles("feature", { "src/a.ts": "a2\n" });
    const head = model.commitFiles("feature", { "src/a.ts": "a3\n" });
    model.addPull({ number: 4, title: "t", body: "", draft: false, head: { ref: "feature", sha: head, repoFullName: "octo/app" }, base: { ref: "main", sha: base }, files: [{ filename: "src/a.ts", status: "modified", additions: 1, deletions: 1, patch: "@@ -1 +1 @@\n-a\n+a3" }] });
    const r = reader();
    expect(await r.pullRequestDiff(4)).toContain("+a3");
    const since = await r.pullRequestDiff(4, { sinceSha: mid });
    expect(since).toContain("-a2");
    expect(since).toContain("+a3");
    expect(gh.find("GET", "/repos/{owner}/{repo}/compare/{basehead}")[0]?.path).toContain(`${mid}...${head}`);
    // a force-pushed-away SHA falls back to the whole pull request
    expect(await r.pullRequestDiff(4, { sinceSha: "0".repeat(40) })).toContain("+a3");
    gh.verify();
  });

  it("reads the thread without Octoflow's own progress comments", async () => {
    const octokit = testOctokit(gh.url);
    await octokit.rest.issues.createComment({ owner: "octo", repo: "app", issue_number: 3, body: "I can reproduce it" });
    await octokit.rest.issues.createComment({ owner: "octo", repo: "app", issue_number: 3, body: "<!-- octoflow:run:r1 -->\n### Octoflow: table" });
    const thread = await reader().thread(3);
    expect(thread).toEqual({ title: "Bug", body: "It breaks", comments: [{ author: "octoflow[bot]", body: "I can reproduce it" }] });
    gh.verify();
  });

  it("one reader per run: the tree is read once however many steps (and concurrent readers) list it; a failed read is retried", async () => {
    const clients = { forInstallation: async () => testOctokit(gh.url) };
    const readerFor = repoReaderFor(clients);
    const seen: string[][] = [];
    const agents: AgentRunner = {
      async run(request) {
        const reader = readerFor(request.trigger);
        // the context builder and the instruction loader both list the tree in every step
        const [a, b] = await Promise.all([reader.listFiles("main"), reader.listFiles("main")]);
        a.paths.push("mutated-by-a-caller");
        seen.push(b.paths);
        return { text: "ok", usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0 };
      },
    };
    const store = createMemoryRunStore();
    const queue = createEmbeddedQueue({ store, pollMs: 5 });
    const engine = createEngine({ store, queue, agents });
    await queue.start(engine.execute);
    const template = workflow("three")
      .step({ id: "a", role: "generate", prompt: "a" })
      .step({ id: "b", role: "review", prompt: "b" }).needs("a")
      .step({ id: "c", role: "docs", prompt: "c" }).needs("a")
      .build();
    const runTrigger = trigger({ repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 } });
    const run = await engine.start(planRun(template, runTrigger), runTrigger);
    for (let i = 0; (await store.getRun(run.id))?.status !== "succeeded"; i++) {
      if (i > 2000) throw new Error("the run did not finish");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await queue.stop();
    expect(seen).toHaveLength(3);
    for (const paths of seen) expect([...paths].sort()).toEqual(["docs/b.md", "src/a.ts"]);
    expect(gh.find("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")).toHaveLength(1);

    // another run reads its own tree; a failed read is not remembered
    const other = readerFor({ ...runTrigger });
    gh.expect("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", () => ({ status: 502, body: { message: "Bad gateway" } }), { times: 1 });
    await expect(other.listFiles("main")).rejects.toThrow();
    expect((await other.listFiles("main")).paths.sort()).toEqual(["docs/b.md", "src/a.ts"]);
    expect(gh.find("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")).toHaveLength(3);
    gh.verify();
  });
});
