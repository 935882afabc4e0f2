import { describe, expect, it } from "vitest";
import { applyBlocks, normalizeRepoPath, validateEdits } from "../../src/agents/roles/validate-edits.ts";
import { toFindings } from "../../src/agents/roles/role-schemas.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const reader = createInMemoryRepoReader({ files: { "src/a.ts": "one\ntwo\ntwo\nthree\n", "docs/x.md": "# x" } });

describe("validateEdits", () => {
  it("normalises paths and accepts edits that apply", async () => {
    const result = await validateEdits(
      [
        { kind: "modify", path: "./src//a.ts", blocks: [{ search: "one", replace: "ONE" }, { search: "ONE\ntwo\ntwo", replace: "x" }] },
        { kind: "create", path: "/src/b.ts", content: "b" },
        { kind: "delete", path: "docs/x.md" },
      ],
      reader,
      "main",
    );
    expect(result.problems).toEqual([]);
    expect(result.edits.map((e) => `${e.kind} ${e.path}`)).toEqual(["modify src/a.ts", "create src/b.ts", "delete docs/x.md"]);
  });

  it("names every problem", async () => {
    const result = await validateEdits(
      [
        { kind: "modify", path: "src/a.ts", blocks: [{ search: "two", replace: "2" }] },
        { kind: "modify", path: "src/missing.ts", blocks: [{ search: "a", replace: "b" }] },
        { kind: "delete", path: "nope.md" },
        { kind: "create", path: "docs/x.md", content: "dup" },
        { kind: "create", path: "../etc/passwd", content: "x" },
        { kind: "create", path: ".GitHub/Workflows/ci.yml", content: "x" },
      ],
      reader,
      "main",
    );
    expect(result.problems).toEqual([
      "src/a.ts block 1: the search text occurs 2 times (it must occur exactly once)",
      'src/missing.ts: cannot modify a file that does not exist; use "create"',
      "nope.md: cannot delete a file that does not exist",
      'docs/x.md: already exists; use "modify" with search/replace blocks',
      '"../etc/passwd": not a path inside the repository',
      ".GitHub/Workflows/ci.yml: files under .github/workflows/ are never changed by Octoflow",
    ]);
  });

  it("normalizeRepoPath and applyBlocks", () => {
    expect(normalizeRepoPath("a\\b/./c")).toBe("a/b/c");
    expect(normalizeRepoPath("C:/x")).toBeUndefined();
    expect(normalizeRepoPath("  ")).toBeUndefined();
    expect(applyBlocks("a $& b", [{ search: "a", replace: "$&$&" }])).toBe("$&$& $& b");
  });

  it("findings: nulls dropped, ranges ordered", () => {
    expect(toFindings([{ path: "./a.ts", line: 2, startLine: 9, side: "RIGHT", severity: "minor", body: "b", suggestion: "s" }])).toEqual([
      { path: "a.ts", line: 9, startLine: 2, side: "RIGHT", severity: "minor", body: "b", suggestion: "s" },
    ]);
  });
});
