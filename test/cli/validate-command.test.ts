import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/cli-io.ts";
import { main } from "../../src/cli/main.ts";

const root = join(import.meta.dirname, "../..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-validate-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function io(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd, env: {}, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
}

describe("octoflow validate", () => {
  it("exits 0 for valid files, using repo roles and templates to resolve names", async () => {
    const dir = repo({
      ".github/octoflow.yml": "defaultWorkflow: triage\nroles:\n  auditor:\n    systemPrompt: audit things\n    result: findings\n",
      ".github/octoflow/workflows/triage.yml": "name: triage\nsteps:\n  - id: a\n    role: auditor\n    prompt: check {{ issue.title }}\n",
    });
    const cli = io(dir);
    expect(await main(["validate", ".github/octoflow.yml", ".github/octoflow/workflows"], cli)).toBe(0);
    expect(cli.out).toEqual([]);
    expect(cli.err.join("")).toBe("2 file(s) valid\n");
  });

  it("prints file:line: key.path: message per problem and exits 1", async () => {
    const dir = repo({
      ".github/octoflow.yml": "defaultWorkflow: nope\ntrust:\n  minPermission: read\n",
      "workflows/broken.yml": "name: broken\nsteps:\n  - id: a\n    role: generate\n    prompt: x\n    needs: b\n  - id: b\n    role: review\n    prompt: y\n    needs: a\n",
    });
    const cli = io(dir);
    expect(await main(["validate", "workflows/broken.yml", ".github/octoflow.yml", "missing.yml"], cli)).toBe(1);
    expect(cli.out.join("")).toBe(
      [
        "missing.yml: no such file or directory",
        "workflows/broken.yml:6: steps[0].needs: dependency cycle: a → b → a",
        '.github/octoflow.yml:3: trust.minPermission: Invalid option: expected one of "write"|"maintain"|"admin"',
        "",
      ].join("\n"),
    );
  });

  it("reports a file it cannot read or that is too large as that file's problem and still checks the rest", async () => {
    const dir = repo({
      "workflows/ok.yml": "name: ok\nsteps:\n  - id: a\n    role: generate\n    prompt: x\n",
      "workflows/broken.yml": "name: broken\nsteps: 3\n",
      "workflows/huge.yml": `name: huge\n# ${"x".repeat(1_100_000)}\n`,
    });
    mkdirSync(join(dir, "workflows", "folder.yml"));
    const cli = io(dir);
    expect(await main(["validate", "workflows"], cli)).toBe(1);
    expect(cli.out.join("")).toBe(
      [
        "workflows/broken.yml:2: steps: Invalid input: expected array, received number",
        "workflows/folder.yml: cannot be read (EISDIR)",
        "workflows/huge.yml:1: (root): file is 1.1 MB; the limit is 1 MB",
        "",
      ].join("\n"),
    );
    expect(cli.err.join("")).toBe("3 problem(s) in 3 file(s)\n");
  });

  it("reports unknown workflows named by a valid config", async () => {
    const dir = repo({ ".github/octoflow.yml": "labels:\n  bug: squash-bugs\n" });
    const cli = io(dir);
    expect(await main(["validate", ".github/octoflow.yml"], cli)).toBe(1);
    expect(cli.out.join("")).toMatch(/^\.github\/octoflow\.yml:2: labels\.bug: unknown workflow "squash-bugs"/);
  });

  it("searches a directory at any depth for .github/octoflow.yml and its templates, skipping node_modules", async () => {
    const dir = repo({
      "services/api/.github/octoflow.yml": "defaultWorkflow: triage\n",
      "services/api/.github/octoflow/workflows/triage.yml": "name: triage\nsteps:\n  - id: a\n    role: generate\n    prompt: x\n",
      "services/web/.github/octoflow.yml": "review:\n  workflow: nope\n",
      "node_modules/pkg/.github/octoflow.yml": "trust: 3\n",
      "docker-compose.yml": "services: {}\n",
    });
    const cli = io(dir);
    expect(await main(["validate", "."], cli)).toBe(1);
    expect(cli.out.join("")).toMatch(/^services\/web\/\.github\/octoflow\.yml:2: review\.workflow: unknown workflow "nope"/);
    expect(cli.out.join("")).not.toContain("node_modules");
    expect(cli.out.join("")).not.toContain("docker-compose");
    expect(cli.err.join("")).toBe("1 problem(s) in 1 file(s)\n");
    const api = io(dir);
    expect(await main(["validate", "services/api"], api)).toBe(0);
    expect(api.err.join("")).toBe("2 file(s) valid\n");
  });

  it("fails for a path that matched no file instead of reporting 0 files valid", async () => {
    const dir = repo({ "src/index.ts": "export {};\n" });
    const cli = io(dir);
    expect(await main(["validate", "src"], cli)).toBe(1);
    expect(cli.out.join("")).toContain("src: no workflow templates or .github/octoflow.yml found");
  });

  it("answers usage errors with exit 2", async () => {
    const cli = io(root);
    expect(await main(["validate"], cli)).toBe(2);
    expect(await main(["validate", "--kind", "other", "x"], cli)).toBe(2);
    expect(await main(["frobnicate"], cli)).toBe(2);
    expect(cli.err.join("")).toContain('unknown command "frobnicate"');
  });

  it("runs through bin/octoflow.js on this Node", () => {
    const ok = spawnSync(process.execPath, [join(root, "bin/octoflow.js"), "validate", "workflows"], { cwd: root, encoding: "utf8" });
    expect(ok.stderr).toBe("8 file(s) valid\n");
    expect(ok.status).toBe(0);
    const dir = repo({ "bad.yml": "name: bad\nsteps: 3\n" });
    const bad = spawnSync(process.execPath, [join(root, "bin/octoflow.js"), "validate", "bad.yml"], { cwd: dir, encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("bad.yml:2: steps: Invalid input: expected array, received number\n");
  });
});
