import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { WorkspaceConflictError } from "../../src/errors/workspace-conflict-error.ts";
import { WorkspacePathError } from "../../src/errors/workspace-path-error.ts";
import { parseUnifiedDiff } from "../../src/github/outputs/diff-map.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import type { StepOutput } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, step, trigger } from "../github/support.ts";
import { output, tempDir, workspacesOver } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;
let cache: Awaited<ReturnType<typeof tempDir>>;

const README = ["# app", "", "## Usage", "", "Run it.", "", "## Testing", "", "Run the tests.", ""].join("\n");

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": README, "src/app.ts": "export const a = 1;\n", "logo.png": "\u0000PNG\u0000" } });
  store = createMemoryRunStore();
  cache = await tempDir();
});
afterEach(async () => {
  await gh.close();
  await store.close();
  await cache.remove();
});

// feature-development's shape: generate → (tests ∥ docs) → finalise
const generate = step("generate", "generate", "pull_request");
const tests = step("tests", "test", "pull_request", ["generate"]);
const docs = step("docs", "docs", "pull_request", ["generate"]);
const finalise = step("finalise", "generate", "pull_request", ["tests", "docs"]);
const run = runRecord("run-1", [generate, tests, docs, finalise]);
const viewRequest = (s: typeof generate, upstream: Record<string, StepOutput>) => ({ runId: "run-1", trigger: trigger(), plan: run.plan, step: s, upstream });

describe("step views", () => {
  it("a downstream step sees the upstream step's code, and its diff against the base contains the new line", async () => {
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const first = await workspaces.viewFor(viewRequest(generate, {}));
    await first.writeFile("src/app.ts", "export const a = 1;\nexport const hello = () => 'hi';\n");
    await first.writeFile("src/hello.ts", "export {};\n");
    expect(first.changes().map((c) => c.path)).toEqual(["src/app.ts", "src/hello.ts"]);

    const review = await workspaces.viewFor(viewRequest(tests, { generate: output(first.changes()) }));
    expect(review.changes()).toEqual([]);
    expect(await review.readFile("src/app.ts")).toContain("hello");
    expect(await review.search(/hello/)).toEqual([{ path: "src/app.ts", line: 2, text: "export const hello = () => 'hi';" }]);
    const diff = await review.diff();
    expect(diff).toContain("+export const hello = () => 'hi';");
    expect(diff).toContain("new file mode 100644");
    // the review output's parser anchors findings on the new line
    expect(parseUnifiedDiff(diff).get("src/app.ts")?.right.get(2)).toBe(0);
    expect(await review.diff({ paths: ["src/hello.ts"] })).not.toContain("src/app.ts");
  });

  it("merges two parallel edits of the same README three-way for the step that joins them", async () => {
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const gen = output([{ path: "src/app.ts", content: "export const a = 2;\n" }]);
    const testsView = await workspaces.viewFor(viewRequest(tests, { generate: gen }));
    await testsView.writeFile("README.md", README.replace("Run the tests.", "Run the tests with `npm test`."));
    const docsView = await workspaces.viewFor(viewRequest(docs, { generate: gen }));
    await docsView.writeFile("README.md", README.replace("Run it.", "Run it with `npm start`."));

    const join = await workspaces.viewFor(viewRequest(finalise, { generate: gen, tests: output(testsView.changes()), docs: output(docsView.changes()) }));
    const merged = await join.readFile("README.md");
    expect(merged).toContain("Run it with `npm start`.");
    expect(merged).toContain("Run the tests with `npm test`.");
    expect(await join.readFile("src/app.ts")).toBe("export const a = 2;\n");
  });

  it("fails the joining step, non-retriably, naming the file, the lines and both steps when parallel edits conflict", async () => {
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const upstream = {
      generate: output([]),
      tests: output([{ path: "README.md", content: README.replace("Run it.", "Run it daily.") }]),
      docs: output([{ path: "README.md", content: README.replace("Run it.", "Run it weekly.") }]),
    };
    const error = await workspaces.viewFor(viewRequest(finalise, upstream)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toMatch(/"tests" and "docs" changed README\.md \(line 5\)/);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(WorkspaceConflictError);
    expect(cause).toMatchObject({ path: "README.md", steps: ["tests", "docs"], lines: { from: 5, to: 5 } });
    // a deletion against a change conflicts too
    const deleted = await workspaces.viewFor(viewRequest(finalise, { ...upstream, docs: output([{ path: "README.md", content: null }]) })).catch((e: unknown) => e);
    expect((deleted as Error).message).toMatch(/README\.md/);
  });

  it("rebuilds the same view on resume in another process, from the recorded base and the persisted outputs", async () => {
    const upstream = { generate: output([{ path: "src/app.ts", content: "export const a = 3;\n" }]) };
    const before = await workspacesOver(gh.url, store, cache.dir).viewFor(viewRequest(tests, upstream));
    // the default branch moves on while the run is parked / the process dies
    model.commitFiles("main", { "src/app.ts": "export const a = 100;\n", "late.txt": "late\n" });
    const other = await tempDir();
    try {
      const after = await workspacesOver(gh.url, store, other.dir).viewFor(viewRequest(tests, upstream));
      expect(after.baseSha).toBe(before.baseSha);
      expect(await after.listFiles()).toEqual(await before.listFiles());
      expect(await after.readFile("src/app.ts")).toBe("export const a = 3;\n");
      expect(await after.diff()).toBe(await before.diff());
    } finally {
      await other.remove();
    }
  });

  it("applies an answer given as search/replace edits to the step's own view", async () => {
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const { changes: _none, ...gen } = output([], { edits: [{ kind: "modify", path: "src/app.ts", blocks: [{ search: "a = 1", replace: "a = 5" }] }, { kind: "create", path: "new.md", content: "new\n" }] });
    expect(_none).toEqual([]);
    const next = await workspaces.viewFor(viewRequest(tests, { generate: gen }));
    expect(await next.readFile("src/app.ts")).toBe("export const a = 5;\n");
    expect(await next.readFile("new.md")).toBe("new\n");
  });

  it("enforces the path rules and reports precise errors", async () => {
    const view = await workspacesOver(gh.url, store, cache.dir).viewFor(viewRequest(generate, {}));
    for (const bad of ["../x", "/etc/passwd", "C:/x", ".git/config", "a/.git/HEAD"]) {
      await expect(view.readFile(bad)).rejects.toBeInstanceOf(WorkspacePathError);
      await expect(view.writeFile(bad, "x")).rejects.toBeInstanceOf(WorkspacePathError);
    }
    await expect(view.writeFile(".github/workflows/ci.yml", "x")).rejects.toThrow(/\.github\/workflows/);
    await expect(view.deleteFile("missing.txt")).rejects.toThrow(/does not exist/);
    await expect(view.readFile("logo.png")).rejects.toThrow(/binary/);
    expect(await view.search(/PNG/)).toEqual([]);
    await view.writeFile("tmp.txt", "x");
    await view.deleteFile("tmp.txt");
    await view.deleteFile("README.md");
    expect(view.changes()).toEqual([{ path: "README.md", content: null }]);
    expect(await view.readFile("README.md")).toBeUndefined();
    expect(await view.listFiles()).toEqual(["logo.png", "src/app.ts"]);
    expect(await view.diff()).toContain("deleted file mode 100644");
  });
});
