import { describe, expect, it } from "vitest";
import { applyAnswerEdits } from "../../src/agents/tools/answer-edits.ts";
import { capBytes, executeToolCall, toolsFor } from "../../src/agents/tools/tool-set.ts";
import { createRepoReaderView } from "../../src/agents/repo-reader-view.ts";
import { createMemoryView } from "../fakes/memory-workspace.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const files = {
  "src/stock.ts": "export function lowStock(items) {\n  return items.filter((i) => i.qty < 3);\n}\n",
  "src/app.ts": "import { lowStock } from './stock';\nconst a = 1;\nconst a2 = 1;\n",
  "README.md": "# shop\n",
  ".github/workflows/ci.yml": "on: push\n",
};

async function call(name: string, input: unknown, view = createMemoryView(files), maxBytes = 16_000) {
  const done = await executeToolCall({ id: "c1", name, input }, toolsFor("edits"), { view }, maxBytes);
  return { ...done, view };
}

describe("workspace tools", () => {
  it("read_file numbers lines, reads a range, and fences the answer as untrusted data", async () => {
    const whole = await call("read_file", { path: "./src/stock.ts" });
    expect(whole.result.isError).toBe(false);
    expect(whole.result.output).toMatch(/^<untrusted-data source="read_file result">\nsrc\/stock.ts \(3 lines\):\n1\| export function lowStock/);
    expect(whole.label).toBe("read src/stock.ts 1–3");
    const part = await call("read_file", { path: "src/stock.ts", from: 2, to: 2 });
    expect(part.result.output).toContain("src/stock.ts lines 2–2 of 3:\n2|   return items");
    expect(part.result.output).not.toContain("1| export");
  });

  it("search answers path:line hits and counts them in the label; bad patterns are tool errors", async () => {
    const hit = await call("search", { regex: "lowStock", glob: "src/**" });
    expect(hit.result.output).toContain("src/app.ts:1: import { lowStock }");
    expect(hit.result.output).toContain("src/stock.ts:1: export function lowStock");
    expect(hit.label).toBe("search lowStock in src/**: 2 hits");
    expect((await call("search", { regex: "(" })).result).toMatchObject({ isError: true, output: expect.stringContaining("Not a valid JavaScript regular expression") });
    expect((await call("search", { regex: "(a+)+$" })).result).toMatchObject({ isError: true, output: expect.stringContaining("nests quantifiers") });
  });

  it("list_files lists recursively with a glob; the root is \"\"", async () => {
    const all = await call("list_files", { dir: "" });
    expect(all.result.output).toContain("4 files");
    const ts = await call("list_files", { dir: "src", glob: "**/*.ts" });
    expect(ts.result.output).toContain("src/app.ts\nsrc/stock.ts");
    expect(ts.label).toBe("list src **/*.ts: 2 files");
  });

  it("edit_file applies to the layer at once, and says precisely when the search text is missing or ambiguous", async () => {
    const view = createMemoryView(files);
    const ok = await call("edit_file", { path: "src/stock.ts", search: "i.qty < 3", replace: "i.qty < threshold" }, view);
    expect(ok.result).toMatchObject({ isError: false, output: expect.stringContaining("Edited src/stock.ts: replaced 1 line(s) at line 2") });
    expect(view.changes()).toEqual([{ path: "src/stock.ts", content: files["src/stock.ts"].replace("i.qty < 3", "i.qty < threshold") }]);
    const missing = await call("edit_file", { path: "src/stock.ts", search: "i.qty < 3", replace: "x" }, view);
    expect(missing.result).toMatchObject({ isError: true, output: expect.stringContaining("Search text not found in src/stock.ts") });
    const twice = await call("edit_file", { path: "src/app.ts", search: "= 1;", replace: "= 2;" }, view);
    expect(twice.result).toMatchObject({ isError: true, output: expect.stringContaining("found 2 times in src/app.ts (first at lines 2 and 3)") });
    const absent = await call("edit_file", { path: "src/nope.ts", search: "a", replace: "b" }, view);
    expect(absent.result.output).toContain("File missing: src/nope.ts does not exist");
    expect(view.changes()).toHaveLength(1);
  });

  it("refuses paths outside the repository, in .git, absolute, and writes under .github/workflows/", async () => {
    for (const [name, input, reason] of [
      ["read_file", { path: "../secrets" }, "leaves the repository"],
      ["read_file", { path: "/etc/passwd" }, "absolute paths are not allowed"],
      ["read_file", { path: "C:\\\\x" }, "absolute paths are not allowed"],
      ["read_file", { path: "a/.git/config" }, ".git directory"],
      ["write_file", { path: ".github/workflows/ci.yml", content: "x" }, "never changed by Octoflow"],
      ["edit_file", { path: ".GitHub/Workflows/ci.yml", search: "on", replace: "off" }, "never changed by Octoflow"],
      ["delete_file", { path: ".github/workflows/ci.yml" }, "never changed by Octoflow"],
    ] as const) {
      const done = await call(name, input);
      expect(done.result, `${name} ${JSON.stringify(input)}`).toMatchObject({ isError: true, output: expect.stringContaining(reason) });
      expect(done.view.changes()).toEqual([]);
    }
    // reading CI is fine; only writes are refused
    expect((await call("read_file", { path: ".github/workflows/ci.yml" })).result.isError).toBe(false);
  });

  it("unknown tools, invalid input and oversized answers come back as tool errors / capped text", async () => {
    expect((await call("run_shell", { cmd: "rm -rf /" })).result).toMatchObject({ isError: true, output: expect.stringContaining('Unknown tool "run_shell"') });
    expect((await call("read_file", { path: 3 })).result).toMatchObject({ isError: true, output: expect.stringContaining("Invalid input for read_file: path:") });
    const big = createMemoryView({ "big.txt": "x".repeat(50_000) });
    const capped = await call("read_file", { path: "big.txt" }, big, 2_000);
    expect(Buffer.byteLength(capped.result.output)).toBeLessThan(2_200);
    expect(capped.result.output).toContain("[cut: ");
    expect(capBytes("ééé", 4)).not.toContain("\uFFFD");
  });

  it("write_file and delete_file change the layer; deleting a missing file is an error", async () => {
    const view = createMemoryView(files);
    await call("write_file", { path: "src/new.ts", content: "export {};\n" }, view);
    await call("delete_file", { path: "README.md" }, view);
    const again = await call("delete_file", { path: "README.md" }, view);
    expect(again.result.output).toContain("File missing: README.md");
    expect(view.changes()).toEqual([
      { path: "README.md", content: null },
      { path: "src/new.ts", content: "export {};\n" },
    ]);
    expect(await view.listFiles("src")).toEqual(["src/app.ts", "src/new.ts", "src/stock.ts"]);
  });
});

describe("final-answer edits", () => {
  it("a modify with the whole new content and blocks: null replaces the file (it used to fail the step)", async () => {
    const view = createMemoryView(files);
    const done = await applyAnswerEdits(view, [{ kind: "modify", path: "README.md", content: "# shop\n\nNew.\n", blocks: null }]);
    expect(done).toEqual({ applied: ["README.md"], problems: [] });
    expect(await view.readFile("README.md")).toBe("# shop\n\nNew.\n");
  });

  it("applies all or nothing and names every problem", async () => {
    const view = createMemoryView(files);
    const done = await applyAnswerEdits(view, [
      { kind: "create", path: "src/ok.ts", content: "1", blocks: null },
      { kind: "create", path: "README.md", content: "dup", blocks: null },
      { kind: "modify", path: "src/app.ts", content: "x", blocks: [{ search: "a", replace: "b" }] },
      { kind: "modify", path: "src/app.ts", content: null, blocks: [] },
      { kind: "delete", path: "gone.md", content: null, blocks: null },
      { kind: "create", path: "x.ts", content: null, blocks: null },
    ]);
    expect(done.applied).toEqual([]);
    expect(done.problems).toEqual([
      expect.stringContaining("README.md already exists"),
      expect.stringContaining('either "blocks" (search/replace) or the whole new "content", not both'),
      expect.stringContaining('"modify" needs search/replace "blocks" or the whole new "content"'),
      expect.stringContaining("cannot delete gone.md: the file does not exist"),
      expect.stringContaining('"create" needs the full file content'),
    ]);
    expect(view.changes()).toEqual([]);
  });
});

describe("the fallback view over a RepoReader", () => {
  it("applies upstream edits in order, keeps its own layer, and searches only files already read (lazy)", async () => {
    const reader = createInMemoryRepoReader({ files: { "a.ts": "const a = 1;\n", "b.ts": "const b = 1;\n" } });
    const view = createRepoReaderView({
      reader,
      ref: "main",
      upstream: [
        { text: "", usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0, edits: [{ kind: "modify", path: "a.ts", blocks: [{ search: "= 1", replace: "= 2" }] }] },
        { text: "", usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0, edits: [{ kind: "create", path: "c.ts", content: "const c = 1;\n" }] },
      ],
    });
    expect(view.mode).toBe("lazy");
    expect(await view.readFile("a.ts")).toBe("const a = 2;\n");
    expect(await view.listFiles()).toEqual(["a.ts", "b.ts", "c.ts"]);
    expect((await view.search(/const/)).map((h) => h.path)).toEqual(["a.ts", "c.ts"]); // b.ts not read yet
    await view.writeFile("b.ts", "const b = 3;\n");
    expect(view.changes()).toEqual([{ path: "b.ts", content: "const b = 3;\n" }]);
    const diff = await view.diff();
    expect(diff).toContain("diff --git a/a.ts b/a.ts\n--- a/a.ts\n+++ b/a.ts\n@@ -1,1 +1,1 @@\n-const a = 1;\n+const a = 2;");
    expect(diff).toContain("diff --git a/c.ts b/c.ts\nnew file mode 100644\n--- /dev/null");
    await expect(view.writeFile("../x", "")).rejects.toMatchObject({ name: "WorkspacePathError" });
  });
});
