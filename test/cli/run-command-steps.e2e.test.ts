/**
 * `octoflow run` (the real CLI in a child process) with a repository template whose loop verifies with
 * `uses: command`: the test command runs in a copy of the local clone, fails, the fix row reads its
 * output, the command passes, the run succeeds; the command never sees the token or the model key.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { spawnCli } from "./helpers/spawn-cli.ts";
import { installTargetRoutes } from "./helpers/target-routes.ts";

const TOKEN = "ghp_runcommandsteps00000000000000000000";
const OPENAI_KEY = "sk-test-run-command-000000000000000000";

const TEMPLATE = `name: test-loop
description: Fix the issue, then run the tests and fix what fails
steps:
  - id: generate
    role: generate
    prompt: "Fix: {{ issue.title }}"
    output: pull_request
  - id: verify
    needs: generate
    loop:
      max: 1
      verify: { uses: command, command: test, timeout: 30s }
      fix:
        role: generate
        prompt: "The tests failed: {{ steps.verify.output }}"
`;

const GATED = `name: gated
description: Plan, approve, do
steps:
  - id: plan
    role: generate
    prompt: "Plan {{ issue.title }}"
    output: none
  - id: generate
    role: generate
    needs: plan
    approval: true
    prompt: "Do it"
`;

const FILES: Record<string, string> = {
  ".github/octoflow.yml": "checkout:\n  commands:\n    test: node test.mjs\n",
  ".github/octoflow/workflows/test-loop.yml": TEMPLATE,
  ".github/octoflow/workflows/gated.yml": GATED,
  "sum.mjs": "export const sum = (a, b) => 0;\n",
  "test.mjs":
    "import { sum } from './sum.mjs';\n" +
    "console.log(`token visible: ${process.env.GITHUB_TOKEN !== undefined || process.env.OPENAI_API_KEY !== undefined ? 'yes' : 'no'}`);\n" +
    "const got = sum(2, 3);\nif (got !== 5) { console.error(`FAIL sum(2, 3): expected 5, got ${got}`); process.exitCode = 1; } else console.log('1 test passed');\n",
};

let gh: GitHubFake;
let models: ModelServer;
let repo: RepoModel;
let dir: string;
let clone: string;

beforeEach(async () => {
  gh = await startGitHubFake();
  models = await startModelServer();
  repo = installRepoModel(gh, { owner: "acme", repo: "api", files: FILES, permissions: { octocat: "write" } });
  installTargetRoutes(gh, repo, [{ number: 12, title: "sum() returns 0", body: "sum(2, 3) should be 5." }]);
  dir = mkdtempSync(join(tmpdir(), "octoflow-run-commands-"));
  clone = join(dir, "api");
  mkdirSync(clone);
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(clone, path)), { recursive: true });
    writeFileSync(join(clone, path), content);
  }
  const git = (...args: string[]) => execFileSync("git", ["-C", clone, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args]);
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "base");
  git("remote", "add", "origin", "git@github.com:acme/api.git");
});

afterEach(async () => {
  await gh.close();
  await models.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  GITHUB_TOKEN: TOKEN,
  GITHUB_API_URL: gh.url,
  OCTOFLOW_GITHUB_THROTTLE: "off",
  OPENAI_API_KEY: OPENAI_KEY,
  OPENAI_BASE_URL: models.baseURL,
  OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
  GITHUB_SERVER_URL: "https://github.com",
  HOME: dir,
});

const edit = (summary: string, search: string, replace: string) => ({
  kind: "text" as const,
  text: JSON.stringify({ summary, edits: [{ kind: "modify", path: "sum.mjs", content: null, blocks: [{ search, replace }] }] }),
});

describe("octoflow run with command steps (child process)", () => {
  it("test → fix → test in a copy of the local clone, then one pull request with the fix", async () => {
    models.expect("openai.responses", edit("Subtract.", "(a, b) => 0", "(a, b) => a - b"), edit("Add.", "a - b", "a + b"));
    const result = await spawnCli(["run", "test-loop", "--repo", "acme/api", "--issue", "12", "--progress", "plain"], { env: env(), cwd: clone, timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^succeeded: test-loop on acme\/api#12/m);

    const prompts = models.requestsTo("openai.responses").map((r) => JSON.stringify(r.body));
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain("FAIL sum(2, 3): expected 5, got -1");
    expect(prompts[1]).toContain("token visible: no");
    expect(prompts[1]).not.toContain(TOKEN);

    const pull = repo.state.pulls[0];
    expect(repo.state.pulls).toHaveLength(1);
    expect(repo.filesAt(pull?.head.ref ?? "").get("sum.mjs")).toBe("export const sum = (a, b) => a + b;\n");
    // the clone itself is as it was (the run history under ./data aside)
    expect(execFileSync("git", ["-C", clone, "status", "--porcelain"]).toString().trim()).toBe("?? data/");
    models.assertDone();
    gh.verify();
  }, 120_000);

  it("refuses before writing anything: command steps without a clone, approval gates without --approve", async () => {
    const outside = await spawnCli(["run", "test-loop", "--repo", "acme/api", "--issue", "12"], { env: env(), cwd: dir });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(`octoflow run: test-loop has command steps, which run in a checkout of the repository: ${dir} is not a Git checkout of acme/api`);

    const gated = await spawnCli(["run", "gated", "--repo", "acme/api", "--issue", "12"], { env: env(), cwd: clone });
    expect(gated.code).toBe(2);
    expect(gated.stderr).toContain("octoflow run: gated asks for an approval before generate, and the CLI cannot wait for one: pass --approve to approve in advance (or start it in the App)");
    expect(gh.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(models.requests).toHaveLength(0);
  }, 60_000);

  it("octoflow action runs the command steps in GITHUB_WORKSPACE", async () => {
    models.expect("openai.responses", edit("Subtract.", "(a, b) => 0", "(a, b) => a - b"), edit("Add.", "a - b", "a + b"));
    const eventPath = join(dir, "event.json");
    writeFileSync(eventPath, JSON.stringify({ inputs: { issue: "12" }, ref: "refs/heads/main", repository: { name: "api", full_name: "acme/api", owner: { login: "acme" } }, sender: { login: "octocat", type: "User" } }));
    const actionEnv = {
      ...env(),
      GITHUB_EVENT_NAME: "workflow_dispatch",
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: "acme/api",
      GITHUB_WORKSPACE: clone,
      OCTOFLOW_WORKFLOW: "test-loop",
      OCTOFLOW_INPUTS: "",
      "INPUT_GITHUB-TOKEN": TOKEN,
      DATABASE_URL: `sqlite:${join(dir, "state", "octoflow.db")}`,
    };
    // the job's working directory is not the checkout: GITHUB_WORKSPACE names it
    const result = await spawnCli(["action"], { env: actionEnv, cwd: dir, timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^succeeded: test-loop on acme\/api#12/m);
    const prompts = models.requestsTo("openai.responses").map((r) => JSON.stringify(r.body));
    expect(prompts[1]).toContain("FAIL sum(2, 3): expected 5, got -1");
    expect(prompts[1]).toContain("token visible: no");
    expect(repo.filesAt(repo.state.pulls[0]?.head.ref ?? "").get("sum.mjs")).toBe("export const sum = (a, b) => a + b;\n");
    expect(execFileSync("git", ["-C", clone, "status", "--porcelain"]).toString()).toBe("");
    models.assertDone();
    gh.verify();
  }, 120_000);
});
