/**
 * The installable CLI: `npm pack` compiles src/ to JavaScript (prepack), the tarball holds no
 * TypeScript, and once installed into an empty directory `octoflow` runs from node_modules — where
 * Node strips no types — with type stripping switched off to prove it: `--help`, and `validate` on
 * a built-in template and on a broken one.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/spawn-cli.ts";

let dir = "";
let bin = "";
let packed: string[] = [];

const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
/** Runs the installed bin on this Node (24) with type stripping off: only JavaScript can run. */
const octoflow = (...args: string[]) => spawnSync(process.execPath, ["--no-experimental-strip-types", bin, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "octoflow-pack-"));
  const out = npm(["pack", "--json", "--pack-destination", dir], ROOT);
  const [info] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  packed = info?.files.map((f) => f.path) ?? [];
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pack-test", private: true }));
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz")) ?? "missing.tgz")], dir);
  bin = join(dir, "node_modules/.bin/octoflow");
}, 480_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed octoflow CLI", () => {
  it("ships compiled JavaScript, the built-in templates and the launcher, and no TypeScript", () => {
    expect(packed).toContain("bin/octoflow.js");
    expect(packed).toContain("dist/cli/main.js");
    expect(packed).toContain("workflows/bug-fix.yml");
    expect(packed.filter((p) => p.endsWith(".ts"))).toEqual([]);
    expect(existsSync(join(ROOT, "dist")), "postpack removes dist/ from the clone").toBe(false);
  });

  it("runs --help from node_modules", () => {
    const help = octoflow("--help");
    expect(help.stderr).toBe("");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: octoflow <command>/);
    expect(help.stdout).toContain("validate");
  });

  it("validates a built-in template, and reports a broken one with its line", () => {
    const ok = octoflow("validate", join(dir, "node_modules/octoflow/workflows/bug-fix.yml"));
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain("1 file(s) valid");
    writeFileSync(join(dir, "broken.yml"), "name: broken\nsteps: 3\n");
    const bad = octoflow("validate", "broken.yml");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("broken.yml:2: steps:");
  });
});
