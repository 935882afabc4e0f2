/**
 * The checkout gates of the CLI and the Action over a real temporary checkout: the run's changes are
 * written into a copy, the command's result becomes the step's, secrets stay out of its environment.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCheckoutGates, type CheckoutGatesDeps } from "../../src/checkout/checkout-gates.ts";
import { commandEnv, isWithheld } from "../../src/checkout/command-env.ts";
import { prepareCheckout } from "../../src/checkout/prepare-checkout.ts";
import type { RepoConfig } from "../../src/config/repo-config.ts";
import type { GateRequest, GateResult } from "../../src/workflows/ports.ts";
import { asStepId, type FileChange, type PlannedStep, type RunRecord } from "../../src/workflows/types.ts";
import { issueTrigger } from "../workflows/fakes/triggers.ts";

let root: string;
let checkout: string;
let tmpRoot: string;
let baseSha: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "octoflow-gates-"));
  checkout = join(root, "checkout");
  tmpRoot = join(root, "tmp");
  mkdirSync(checkout);
  mkdirSync(tmpRoot);
  writeFileSync(join(checkout, "sum.mjs"), "export const sum = (a, b) => 0;\n");
  writeFileSync(join(checkout, "test.mjs"), "import { sum } from './sum.mjs';\nconst got = sum(2, 3);\nif (got !== 5) { console.error(`expected 5, got ${got}`); process.exit(1); }\nconsole.log('1 test passed');\n");
  const git = (...args: string[]) => execFileSync("git", ["-C", checkout, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" } }).toString().trim();
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "base");
  baseSha = git("rev-parse", "HEAD");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const step = (extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id: asStepId("verify"),
  name: "verify",
  role: "command",
  prompt: "",
  needs: [],
  retries: 0,
  timeoutMs: 30_000,
  output: "none",
  uses: { kind: "command", command: "test" },
  ...extra,
});

function gatesWith(config: Partial<RepoConfig["checkout"]>, changes: FileChange[] = [], extra: Partial<CheckoutGatesDeps> = {}) {
  const asked: unknown[] = [];
  const gates = createCheckoutGates({
    dir: checkout,
    workspaces: {
      async changesBefore(request) {
        asked.push(request.step.id);
        return { baseSha, changes };
      },
    },
    configOf: async () => ({ commands: {}, env: [], ...config }),
    env: { PATH: process.env.PATH ?? "" },
    tmpRoot,
    ...extra,
  });
  const check = (s: PlannedStep = step()): Promise<GateResult> => {
    const run = { id: "run-1", trigger: issueTrigger(), plan: { steps: [s] } } as unknown as RunRecord;
    const request: GateRequest = { run, step: s, record: { runId: run.id, stepId: s.id, status: "running", attempts: 1 }, steps: [], upstream: {}, signal: new AbortController().signal };
    return gates.check(request);
  };
  return { check, asked };
}

describe("checkout gates", () => {
  it("a failing command fails the step with its output; the run's changes are in the copy, the checkout is untouched", async () => {
    const { check } = gatesWith({ commands: { test: "node test.mjs" } }, [{ path: "sum.mjs", content: "export const sum = (a, b) => a - b;\n" }]);
    const result = await check();
    expect(result.kind).toBe("failed");
    if (result.kind !== "failed") return;
    expect(result.error).toMatch(/^`node test\.mjs` failed with exit code 1 in \d+\.\d s$/);
    expect(result.output?.text).toContain("expected 5, got -1");
    expect(result.output?.text).toContain("with the run's 1 changed file");
    expect(result.output?.data).toMatchObject({ conclusion: "failure", command: "test", exitCode: 1, timedOut: false, changedFiles: 1 });
    expect(readFileSync(join(checkout, "sum.mjs"), "utf8")).toBe("export const sum = (a, b) => 0;\n");
    // the copy is gone
    expect(execFileSync("ls", ["-A", tmpRoot]).toString()).toBe("");
  });

  it("a passing command passes the step with a short report; deleted files are deleted in the copy", async () => {
    const { check } = gatesWith({ commands: { test: "node test.mjs && test ! -e extra.txt" } }, [
      { path: "sum.mjs", content: "export const sum = (a, b) => a + b;\n" },
      { path: "extra.txt", content: null },
    ]);
    writeFileSync(join(checkout, "extra.txt"), "x\n");
    const result = await check();
    expect(result.kind, JSON.stringify(result)).toBe("passed");
    if (result.kind !== "passed") return;
    expect(result.output.text).toMatch(/^`node test\.mjs && test ! -e extra\.txt` passed in \d+\.\d s \(in a copy of the checkout with the run's 2 changed files\)\./);
    expect(result.output.text).toContain("1 test passed");
    expect(result.output.data).toMatchObject({ conclusion: "success", exitCode: 0 });
  });

  it("passes no secrets to the command unless the repository opts one in; CI=true", async () => {
    writeFileSync(join(checkout, "env.mjs"), "console.log(JSON.stringify(process.env));\n");
    const secrets = {
      GITHUB_TOKEN: "ghs_secretgithubtoken000000000000000000",
      GH_TOKEN: "gh-token-value",
      OPENAI_API_KEY: "openai-key-value",
      ANTHROPIC_API_KEY: "anthropic-key-value",
      DATABASE_URL: "postgres://u:pw@db/x",
      "INPUT_GITHUB-TOKEN": "input-token-value",
      ACTIONS_RUNTIME_TOKEN: "runtime-token-value",
      AWS_SECRET_ACCESS_KEY: "aws-secret-value",
      OCTOFLOW_MODEL: "openai:gpt-4.1",
    };
    const { check } = gatesWith({ commands: { env: "node env.mjs && exit 1" }, env: ["NPM_TOKEN"] }, [], {
      env: { PATH: process.env.PATH ?? "", HOME: "/home/runner", JAVA_HOME: "/opt/java", GIT_AUTHOR_NAME: "me", NPM_TOKEN: "npm-token-value", ...secrets },
    });
    const result = await check(step({ uses: { kind: "command", command: "env" } }));
    if (result.kind !== "failed") throw new Error(`expected a failure, got ${result.kind}`);
    const printed = JSON.parse(/\{.*\}/.exec(result.output?.text ?? "")?.[0] ?? "{}") as Record<string, string>;
    expect(printed).toMatchObject({ HOME: "/home/runner", JAVA_HOME: "/opt/java", GIT_AUTHOR_NAME: "me", NPM_TOKEN: "npm-token-value", CI: "true" });
    for (const [name, value] of Object.entries(secrets)) {
      expect(printed[name], name).toBeUndefined();
      expect(result.output?.text).not.toContain(value);
    }
  });

  it("a command over its time limit is killed and fails the step with \"timed out\"", async () => {
    writeFileSync(join(checkout, "hang.mjs"), "console.log('waiting forever'); setInterval(() => {}, 1000);\n");
    const { check } = gatesWith({ commands: { test: "node hang.mjs" } });
    const started = Date.now();
    const result = await check(step({ timeoutMs: 800 }));
    expect(Date.now() - started).toBeLessThan(8_000);
    if (result.kind !== "failed") throw new Error(`expected a failure, got ${result.kind}`);
    expect(result.error).toBe("`node hang.mjs` timed out after 0.8 s; its process group was killed");
    expect(result.output?.text).toContain("waiting forever");
    expect(result.output?.data).toMatchObject({ timedOut: true, exitCode: null });
  });

  it("cuts the output at the cap and says so", async () => {
    writeFileSync(join(checkout, "loud.mjs"), "for (let i = 0; i < 5000; i++) console.log('line ' + i); process.exitCode = 2;\n");
    const { check } = gatesWith({ commands: { test: "node loud.mjs" } }, [], { maxOutputBytes: 2_000 });
    const result = await check();
    if (result.kind !== "failed") throw new Error(`expected a failure, got ${result.kind}`);
    expect(result.output?.text).toMatch(/\(the first [\d,]+ bytes of output were cut; the last 2,000 are kept\)/);
    expect(result.output?.text).toContain("line 4999");
    expect(result.output?.text).not.toContain("line 1000\n");
    expect((result.output?.text.length ?? 0)).toBeLessThan(2_600);
    expect(result.output?.data).toMatchObject({ exitCode: 2 });
    expect(Number(result.output?.data?.["droppedBytes"])).toBeGreaterThan(40_000);
  });

  it("uses: ci runs checkout.commands.test, and ends neutral without one; an unknown command fails", async () => {
    const ci = step({ uses: { kind: "ci", noChecksAfterMs: 60_000 } });
    const none = await gatesWith({}).check(ci);
    expect(none).toMatchObject({ kind: "passed", output: { text: "no test command configured (checkout.commands.test in .github/octoflow.yml): nothing was tested", data: { conclusion: "neutral" } } });
    const tested = await gatesWith({ commands: { test: "node test.mjs" } }).check(ci);
    expect(tested).toMatchObject({ kind: "failed", output: { data: { command: "test" } } });
    const unknown = await gatesWith({ commands: { test: "node test.mjs" } }).check(step({ uses: { kind: "command", command: "lint" } }));
    expect(unknown).toEqual({ kind: "failed", error: 'no command "lint" is configured (checkout.commands.lint in .github/octoflow.yml)' });
  });
});

describe("prepareCheckout", () => {
  it("copies everything but .git and the excluded paths, hard-links node_modules, and never writes through a link", async () => {
    mkdirSync(join(checkout, "node_modules", "dep"), { recursive: true });
    writeFileSync(join(checkout, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
    mkdirSync(join(checkout, "data"));
    writeFileSync(join(checkout, "data", "octoflow.db"), "db");
    writeFileSync(join(checkout, "node_modules", "dep", "patched.js"), "original\n");
    symlinkSync("index.js", join(checkout, "node_modules", "dep", "main.js"));
    const copy = await prepareCheckout(checkout, [{ path: "src/new.ts", content: "x\n" }, { path: "node_modules/dep/patched.js", content: "changed\n" }], { tmpRoot, exclude: [join(checkout, "data", "octoflow.db")] });
    try {
      // node_modules is hard-linked, not copied: same file, real folders, links kept
      expect(statSync(join(copy.dir, "node_modules", "dep", "index.js")).ino).toBe(statSync(join(checkout, "node_modules", "dep", "index.js")).ino);
      expect(lstatSync(join(copy.dir, "node_modules", "dep")).isDirectory()).toBe(true);
      expect(readlinkSync(join(copy.dir, "node_modules", "dep", "main.js"))).toBe("index.js");
      // a run's change to a linked file replaces it in the copy only
      expect(readFileSync(join(copy.dir, "node_modules", "dep", "patched.js"), "utf8")).toBe("changed\n");
      expect(readFileSync(join(checkout, "node_modules", "dep", "patched.js"), "utf8")).toBe("original\n");
      // tracked files are copies
      expect(statSync(join(copy.dir, "sum.mjs")).ino).not.toBe(statSync(join(checkout, "sum.mjs")).ino);
      expect(existsSync(join(copy.dir, ".git"))).toBe(false);
      expect(existsSync(join(copy.dir, "data", "octoflow.db"))).toBe(false);
      expect(readFileSync(join(copy.dir, "src", "new.ts"), "utf8")).toBe("x\n");
    } finally {
      await copy.dispose();
    }
    expect(existsSync(copy.dir)).toBe(false);

    const outside = join(root, "outside");
    mkdirSync(outside);
    symlinkSync(outside, join(checkout, "escape"));
    await expect(prepareCheckout(checkout, [{ path: "escape/pwned.txt", content: "x" }], { tmpRoot })).rejects.toThrow(/a symbolic link in the checkout leads outside it/);
    expect(existsSync(join(outside, "pwned.txt"))).toBe(false);
    expect(execFileSync("ls", ["-A", tmpRoot]).toString()).toBe("");
  });
});

describe("commandEnv", () => {
  it("withholds credentials by name and Octoflow's own settings, keeps toolchain variables", () => {
    for (const name of ["GITHUB_TOKEN", "NPM_TOKEN", "PGPASSWORD", "MY_API_KEY", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK", "OCTOFLOW_MODEL", "INPUT_GITHUB-TOKEN", "DATABASE_URL"]) expect(isWithheld(name), name).toBe(true);
    for (const name of ["PATH", "HOME", "JAVA_HOME", "GIT_AUTHOR_NAME", "RUNNER_TEMP", "LANG", "NODE_OPTIONS"]) expect(isWithheld(name), name).toBe(false);
    expect(commandEnv({ PATH: "/bin", GITHUB_TOKEN: "t", NPM_TOKEN: "n", CI: "false" }, ["NPM_TOKEN"])).toEqual({ PATH: "/bin", NPM_TOKEN: "n", CI: "true" });
  });
});
