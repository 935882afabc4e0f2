import { describe, expect, it } from "vitest";
import { addedSecret, refusePath } from "../../src/github/outputs/edit-paths.ts";

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

describe("protected paths", () => {
  it("refuses .github/actions/ like .github/workflows/, in any case, whatever the repository configures", () => {
    for (const path of [".github/actions/evil/action.yml", ".GitHub/Actions/x/action.yaml", ".github/actions"]) expect(refusePath(path, []), path).toMatch(/GitHub Actions/);
    expect(refusePath(".github/actions-notes.md")).toBeUndefined();
  });

  it("adds the repository's folders and files, never removes the defaults", () => {
    const extra = ["deploy/", "Dockerfile", "./infra/"];
    expect(refusePath("deploy/k8s/app.yml", extra)).toMatch(/protectedPaths/);
    expect(refusePath("DOCKERFILE", extra)).toMatch(/protectedPaths/);
    expect(refusePath("infra/main.tf", extra)).toMatch(/protectedPaths/);
    expect(refusePath("deployment.md", extra)).toBeUndefined();
    expect(refusePath("src/Dockerfile", extra)).toBeUndefined();
    expect(refusePath(".github/workflows/ci.yml", extra)).toMatch(/GitHub Actions/);
  });
});

describe("addedSecret", () => {
  const tokens = {
    github: `ghp_${"a1B2".repeat(9)}`,
    fineGrained: `github_pat_${"11AAAA".repeat(8)}`,
    anthropic: `sk-ant-api03-${"Zz09".repeat(10)}`,
    openai: `sk-proj-${"Qq12".repeat(10)}`,
    aws: "AKIAIOSFODNN7EXAMPLE",
    slack: "xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
    key: `-----BEGIN RSA PRIVATE KEY-----\n${"MIIEow".repeat(10)}\n`,
  };

  it("names each kind of live-looking credential", () => {
    for (const [name, token] of Object.entries(tokens)) expect(addedSecret(`const x = "${token}";`), name).toBeDefined();
  });

  it("ignores placeholders, short examples and secrets that were already in the file", () => {
    for (const text of ["GITHUB_TOKEN=ghp_xxx", "sk-...", "OPENAI_API_KEY=<your key>", "xoxb-your-token", "AKIA-EXAMPLE"]) expect(addedSecret(text), text).toBeUndefined();
    const before = `token: ${tokens.github}\n`;
    expect(addedSecret(`${before}more: 1\n`, before)).toBeUndefined();
    expect(addedSecret(`${before}aws: ${tokens.aws}\n`, before)).toMatch(/AWS/);
  });
});
