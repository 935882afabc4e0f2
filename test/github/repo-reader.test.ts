import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubRepoReader } from "../../src/github/repo-reader.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { testOctokit } from "./support.ts";

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
});
