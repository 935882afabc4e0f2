import { describe, expect, it } from "vitest";
import { refusePath } from "../../src/github/outputs/edit-paths.ts";

describe("refusePath", () => {
  it("allows ordinary repository paths", () => {
    for (const path of ["src/a.ts", ".github/CODEOWNERS", "docs/.gitkeep", "a/.gitignore"]) expect(refusePath(path), path).toBeUndefined();
  });

  it("refuses traversal, absolute, Windows and empty-segment paths", () => {
    for (const path of ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\b", "a//b", "./a", "a/", ""]) expect(refusePath(path), path).toBeDefined();
  });

  it("refuses .git at any depth and in any case, and workflows in any case", () => {
    for (const path of [".git/config", "vendor/lib/.git/hooks/pre-commit", ".GIT/config", ".Git/HEAD", ".github/workflows/x.yml", ".GitHub/Workflows/x.yml"]) {
      expect(refusePath(path), path).toBeDefined();
    }
  });
});
