import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, step, trigger } from "../github/support.ts";
import { tempDir, workspacesOver } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;
let cache: Awaited<ReturnType<typeof tempDir>>;

const FILES = {
  "README.md": "# app\n\nA demo.\n",
  "src/app.ts": "import { lowStock } from './stock.ts';\nexport const a = lowStock(3);\n",
  "src/stock.ts": "export function lowStock(n: number) {\n  return n < 5;\n}\n",
  "docs/guide/intro.md": "Intro\n",
};

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: FILES });
  store = createMemoryRunStore();
  cache = await tempDir();
});
afterEach(async () => {
  await gh.close();
  await store.close();
  await cache.remove();
});

const gen = step("generate", "generate", "pull_request");
const run = runRecord("run-1", [gen]);
const request = { runId: "run-1", trigger: trigger(), plan: run.plan, step: gen, upstream: {} };

describe("snapshot of the base commit", () => {
  it("downloads the archive once through GitHub's redirect, reads every file locally and caches it on disk by SHA", async () => {
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const view = await workspaces.viewFor(request);
    gh.verify();
    expect(view.mode).toBe("snapshot");
    expect(view.notice).toBeUndefined();
    expect(view.baseSha).toBe(model.state.refs.get("heads/main"));
    expect(await view.listFiles()).toEqual(["README.md", "docs/guide/intro.md", "src/app.ts", "src/stock.ts"]);
    expect(await view.listFiles("src")).toEqual(["src/app.ts", "src/stock.ts"]);
    expect(await view.listFiles(undefined, "*.md")).toEqual(["README.md", "docs/guide/intro.md"]);
    expect(await view.listFiles("docs", "docs/*.md")).toEqual([]);
    expect(await view.readFile("./src//stock.ts")).toBe(FILES["src/stock.ts"]);
    expect(await view.search(/lowStock\(/)).toEqual([
      { path: "src/app.ts", line: 2, text: "export const a = lowStock(3);" },
      { path: "src/stock.ts", line: 1, text: "export function lowStock(n: number) {" },
    ]);
    expect(await view.search(/^\s+return/, { glob: "src/**" })).toEqual([{ path: "src/stock.ts", line: 2, text: "  return n < 5;" }]);
    expect(gh.find("GET", "/repos/{owner}/{repo}/tarball/{ref}")).toHaveLength(1);
    expect(gh.find("GET", "/_codeload/octo/app/legacy.tar.gz/{sha}")).toHaveLength(1);
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}")).toHaveLength(0);
    expect(await readdir(cache.dir)).toEqual([`octo_app_${view.baseSha}.snap`]);

    // another process with the same cache folder: no download
    const again = await workspacesOver(gh.url, store, cache.dir).viewFor(request);
    expect(await again.readFile("README.md")).toBe(FILES["README.md"]);
    expect(gh.find("GET", "/repos/{owner}/{repo}/tarball/{ref}")).toHaveLength(1);
  });

  it("falls back to lazy reads when the archive answers 404, and says that search covers only files read", async () => {
    model.state.archiveStatus = 404;
    const view = await workspacesOver(gh.url, store, cache.dir).viewFor(request);
    gh.verify();
    expect(view.mode).toBe("lazy");
    expect(view.notice).toMatch(/HTTP 404.*search covers only the 0 files read so far/);
    expect(await view.listFiles("src")).toEqual(["src/app.ts", "src/stock.ts"]);
    expect(await view.search(/lowStock/)).toEqual([]);
    expect(await view.readFile("src/stock.ts")).toBe(FILES["src/stock.ts"]);
    expect(await view.readFile("missing.ts")).toBeUndefined();
    expect(await view.search(/lowStock/)).toEqual([{ path: "src/stock.ts", line: 1, text: "export function lowStock(n: number) {" }]);
    expect(view.notice).toMatch(/the 1 file read so far/);
    await view.readFile("src/stock.ts");
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}")).toHaveLength(2);
    expect(gh.find("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")).toHaveLength(1);
    expect(await readdir(cache.dir)).toEqual([]);
  });

  it("reads lazily when the repository is larger than the snapshot limit", async () => {
    const view = await workspacesOver(gh.url, store, cache.dir, { maxArchiveBytes: 40 }).viewFor(request);
    expect(view.mode).toBe("lazy");
    expect(view.notice).toMatch(/larger than the snapshot limit/);
    expect(await view.readFile("README.md")).toBe(FILES["README.md"]);
  });

  it("evicts the least recently used snapshots past the disk cap", async () => {
    const first = await workspacesOver(gh.url, store, cache.dir).viewFor(request);
    const cap = Math.round((await stat(join(cache.dir, `octo_app_${first.baseSha}.snap`))).size * 1.5);
    const next = model.commitFiles("main", { "b.txt": "b\n" });
    const other = runRecord("run-2", [gen]);
    const second = await workspacesOver(gh.url, store, cache.dir, { maxDiskBytes: cap }).viewFor({ ...request, runId: "run-2", plan: other.plan });
    expect(second.baseSha).toBe(next);
    expect(await second.readFile("b.txt")).toBe("b\n");
    expect(await readdir(cache.dir)).toEqual([`octo_app_${next}.snap`]);
    expect(first.baseSha).not.toBe(next);
  });
});
