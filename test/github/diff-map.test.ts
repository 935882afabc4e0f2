import { describe, expect, it } from "vitest";
import { changedByPush, lineText, parsePatch, parseUnifiedDiff, placeInDiff } from "../../src/github/outputs/diff-map.ts";

const PATCH = ["@@ -1,4 +1,5 @@", " line1", "-old2", "+new2", "+new3", " line3", "@@ -20,2 +21,2 @@", " ctx20", "-gone21", "+added22"].join("\n");

describe("diff map", () => {
  it("numbers added, deleted and context lines per side and hunk", () => {
    const f = parsePatch("a.ts", PATCH);
    expect([...f.right.keys()]).toEqual([1, 2, 3, 4, 21, 22]);
    expect([...f.left.keys()]).toEqual([1, 2, 3, 20, 21]);
    expect(f.right.get(2)).toBe(0);
    expect(f.right.get(22)).toBe(1);
    expect(f.rightText.get(3)).toBe("new3");
    expect(f.leftText.get(2)).toBe("old2");
    expect([...f.added]).toEqual([2, 3, 22]);
    expect([...f.removed]).toEqual([2, 21]);
  });

  it("tells whether a push changed a finding's lines: an added line of its range, or a removed line with its text on the left", () => {
    const pushed = new Map([["a.ts", parsePatch("a.ts", PATCH)]]);
    expect(changedByPush(pushed, { path: "a.ts", line: 3, side: "RIGHT" }, "")).toBe(true);
    expect(changedByPush(pushed, { path: "a.ts", line: 4, side: "RIGHT" }, "")).toBe(false); // context only
    expect(changedByPush(pushed, { path: "a.ts", line: 4, startLine: 3, side: "RIGHT" }, "")).toBe(true);
    expect(changedByPush(pushed, { path: "b.ts", line: 3, side: "RIGHT" }, "")).toBe(false);
    // left side: the pull request's numbering of the base differs from the push's, so the text decides
    expect(changedByPush(pushed, { path: "a.ts", line: 9, side: "LEFT" }, "gone21")).toBe(true);
    expect(changedByPush(pushed, { path: "a.ts", line: 20, side: "LEFT" }, "ctx20")).toBe(false);
    expect(changedByPush(pushed, { path: "a.ts", line: 2, side: "LEFT" }, "")).toBe(false);
  });

  it("places findings only on diff lines, keeps ranges inside one hunk", () => {
    const files = new Map([["a.ts", parsePatch("a.ts", PATCH)]]);
    expect(placeInDiff(files, { path: "a.ts", line: 3, side: "RIGHT" })).toEqual({ path: "a.ts", line: 3, side: "RIGHT" });
    expect(placeInDiff(files, { path: "a.ts", line: 3, startLine: 2, side: "RIGHT" })).toEqual({ path: "a.ts", line: 3, side: "RIGHT", startLine: 2 });
    expect(placeInDiff(files, { path: "a.ts", line: 22, startLine: 3, side: "RIGHT" })).toEqual({ path: "a.ts", line: 22, side: "RIGHT" });
    expect(placeInDiff(files, { path: "a.ts", line: 10, side: "RIGHT" })).toBeUndefined();
    expect(placeInDiff(files, { path: "a.ts", line: 2, side: "LEFT" })).toEqual({ path: "a.ts", line: 2, side: "LEFT" });
    expect(placeInDiff(files, { path: "b.ts", line: 1, side: "RIGHT" })).toBeUndefined();
    expect(lineText(files, { path: "a.ts", line: 22, side: "RIGHT" })).toBe("added22");
  });

  it("parses a multi-file unified diff", () => {
    const diff = [
      "diff --git a/x.md b/x.md",
      "index 1..2 100644",
      "--- a/x.md",
      "+++ b/x.md",
      "@@ -1 +1 @@",
      "-a",
      "+b",
      "diff --git a/gone.txt b/gone.txt",
      "--- a/gone.txt",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-bye",
      "",
    ].join("\n");
    const files = parseUnifiedDiff(diff);
    expect([...files.keys()]).toEqual(["x.md", "gone.txt"]);
    expect(files.get("x.md")?.right.has(1)).toBe(true);
    expect(files.get("gone.txt")?.left.has(1)).toBe(true);
  });
});
