/**
 * Command steps in the CLI's runtime (what `octoflow run` and `octoflow action` execute): a verify row
 * runs `checkout.commands.test` in a copy of a real Git checkout with the run's change written in;
 * its failure feeds the fix row (a model over the real wire format), and the next verify row passes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCliRuntime, type CliRuntime } from "../../src/cli/cli-runtime.ts";
import { createRestClient } from "../../src/cli/create-rest-client.ts";
import { loadCliEnv } from "../../src/cli/load-cli-env.ts";
import { backendOver } from "../../src/compose/open-backend.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { asStepId, type PlannedStep, type RunPlan, type Trigger } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { silentLog } from "../github/support.ts";
import { createRecordingSink } from "../workflows/fakes/recording-sink.ts";

const TOKEN = "ghp_commandsteptoken0000000000000000000";
const OPENAI_KEY = "sk-test-command-0000000000000000000";

const FILES = {
  ".github/octoflow.yml": "checkout:\n  commands:\n    test: node test.mjs\n",
  "sum.mjs": "export const sum = (a, b) => 0;\n",
  "test.mjs": "import { sum } from './sum.mjs';\nconst got = sum(2, 3);\nif (got !== 5) { console.error(`FAIL sum(2, 3): expected 5, got ${got}`); process.exitCode = 1; } else console.log('1 test passed');\n",
};

let gh: GitHubFake;
let models: ModelServer;
let repo: RepoModel;
let dir: string;
let checkout: string;
let runtime: CliRuntime | undefined;

beforeEach(async () => {
  gh = await startGitHubFake();
  models = await startModelServer();
  repo = installRepoModel(gh, { owner: "acme", repo: "api", files: FILES });
  dir = mkdtempSync(join(tmpdir(), "octoflow-command-steps-"));
  checkout = join(dir, "api");
  execFileSync("git", ["init", "-q", "-b", "main", checkout]);
  for (const [path, content] of Object.entries(FILES)) {
    execFileSync("mkdir", ["-p", join(checkout, path, "..")]);
    writeFileSync(join(checkout, path), content);
  }
  const git = (...args: string[]) => execFileSync("git", ["-C", checkout, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args]);
  git("add", ".");
  git("commit", "-q", "-m", "base");
  git("remote", "add", "origin", "https://github.com/acme/api.git");
});

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await gh.close();
  await models.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(env: Record<string, string> = {}) {
  const io = {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      GITHUB_TOKEN: TOKEN,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: models.baseURL,
      OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
      LOG_LEVEL: "silent",
      ...env,
    },
    cwd: dir,
  };
  const octokit = createRestClient({ token: TOKEN, baseUrl: gh.url, throttle: false, warnings: () => undefined });
  const terminal = createRecordingSink();
  runtime = createCliRuntime({
    env: loadCliEnv(io),
    log: silentLog,
    octokit,
    backend: backendOver(createMemoryRunStore(), { runsPerProcess: 1, queue: false }),
    terminal,
    checkout: { dir: checkout, env: io.env },
    progressIntervalMs: 50,
    agentOptions: { retry: { retries: 0 } },
  });
  return { runtime, terminal };
}

const trigger = (): Trigger => ({
  kind: "cli",
  repo: { owner: "acme", name: "api", defaultBranch: "main" },
  number: 12,
  isPullRequest: false,
  actor: "octocat",
  inputs: {},
  issue: { title: "sum() returns 0", body: "sum(2, 3) should be 5." },
});

const commandStep = (id: string, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id: asStepId(id),
  name: id,
  role: "command",
  prompt: "",
  needs: [],
  retries: 0,
  timeoutMs: 60_000,
  output: "none",
  uses: { kind: "command", command: "test" },
  ...extra,
});

/** generate → verify-1 → fix-1 (when verify-1 failed) → verify-2: what the planner makes of a `loop:`. */
function loopPlan(timeoutMs = 60_000): RunPlan {
  const plan = planRun(
    workflow("fix-loop")
      .step({ id: "generate", role: "generate", prompt: "Fix: {{ issue.title }}", output: "pull_request" })
      .step({ id: "verify-fix-1", role: "generate", prompt: "fix", output: "pull_request" })
      .build(),
    trigger(),
  );
  const [generate, fix] = plan.steps as [PlannedStep, PlannedStep];
  plan.steps = [
    generate,
    commandStep("verify-1", { needs: [generate.id], timeoutMs, loop: { id: "verify", iteration: 1, max: 1, kind: "verify" } }),
    { ...fix, prompt: "The tests failed:\n{{ steps.verify-1.output }}\nFix the code.", needs: [asStepId("verify-1")], if: "steps.verify-1.status == 'failed'", loop: { id: "verify", iteration: 1, max: 1, kind: "fix" } },
    commandStep("verify-2", { needs: [fix.id], timeoutMs, loop: { id: "verify", iteration: 2, max: 1, kind: "verify" } }),
  ];
  return plan;
}

const edit = (summary: string, search: string, replace: string) => ({
  kind: "text" as const,
  text: JSON.stringify({ summary, edits: [{ kind: "modify", path: "sum.mjs", content: null, blocks: [{ search, replace }] }] }),
  usage: { input: 500, output: 100 },
});

describe("command steps in the CLI runtime", () => {
  it("a failing test command makes the fix row run with its output; the test then passes and the run succeeds", async () => {
    models.expect("openai.responses", edit("Subtract.", "(a, b) => 0", "(a, b) => a - b"), edit("Add instead.", "a - b", "a + b"));
    const { runtime } = start();
    const run = await runtime.runs.start(loopPlan(), trigger());
    const finished = await runtime.execute(run);
    const steps = await runtime.store.getSteps(run.id);
    const byId = Object.fromEntries(steps.map((s) => [String(s.stepId), s]));
    expect(finished.status, JSON.stringify(steps.map((s) => [s.stepId, s.status, s.error]))).toBe("succeeded");

    expect(byId["verify-1"]?.status).toBe("failed");
    expect(byId["verify-1"]?.error).toMatch(/^`node test\.mjs` failed with exit code 1/);
    expect(byId["verify-1"]?.output?.text).toContain("FAIL sum(2, 3): expected 5, got -1");
    expect(byId["verify-fix-1"]?.status).toBe("succeeded");
    expect(byId["verify-2"]?.status).toBe("succeeded");
    expect(byId["verify-2"]?.output?.text).toContain("1 test passed");
    expect(byId["verify-2"]?.output?.text).toContain("with the run's 1 changed file");

    // the fix row's prompt carried the failing output
    const prompts = models.requestsTo("openai.responses").map((r) => JSON.stringify(r.body));
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain("expected 5, got -1");
    // the pull request holds the fixed file; the checkout was never changed
    const pull = repo.state.pulls[0];
    expect(repo.filesAt(pull?.head.ref ?? "").get("sum.mjs")).toBe("export const sum = (a, b) => a + b;\n");
    expect(execFileSync("git", ["-C", checkout, "status", "--porcelain"]).toString()).toBe("");
    models.assertDone();
    gh.verify();
  }, 60_000);

  it("a test command over the step's time limit is killed and fails the run with \"timed out\"", async () => {
    models.expect("openai.responses", edit("Hang.", "(a, b) => 0", "(a, b) => { for (;;) {} }"), edit("Still hanging.", "{ for (;;) {} }", "{ while (true) {} }"));
    const { runtime } = start();
    const run = await runtime.runs.start(loopPlan(1_500), trigger());
    const began = Date.now();
    const finished = await runtime.execute(run);
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(finished.status).toBe("failed");
    const steps = await runtime.store.getSteps(run.id);
    const verify = steps.find((s) => s.stepId === "verify-1");
    expect(verify?.error).toBe("`node test.mjs` timed out after 1.5 s; its process group was killed");
    expect(finished.error).toContain("timed out");
    models.assertDone();
  }, 60_000);

  it("an approval gate: approved in advance, the step runs; otherwise the run is cancelled with the reason instead of hanging", async () => {
    const gatedPlan = () => {
      const plan = planRun(
        workflow("gated")
          .step({ id: "plan", role: "generate", prompt: "Plan {{ issue.title }}", output: "none" })
          .step({ id: "generate", role: "generate", prompt: "Do it", output: "none" })
          .needs("plan")
          .build(),
        trigger(),
      );
      plan.steps[1] = { ...(plan.steps[1] as PlannedStep), approval: { permission: "write" } };
      return plan;
    };
    const answer = (summary: string) => ({ kind: "text" as const, text: JSON.stringify({ summary, edits: [] }) });
    models.expect("openai.responses", answer("The plan."), answer("The plan again."), answer("Done."));
    const { runtime } = start();

    const waiting = await runtime.runs.start(gatedPlan(), trigger());
    const cancelled = await runtime.execute(waiting);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.error).toBe('step "generate" is waiting for an approval, and this process cannot wait for it: approval gates run in the App, or in `octoflow run --approve`');
    expect((await runtime.store.getSteps(waiting.id)).map((s) => [s.stepId, s.status])).toEqual([["plan", "succeeded"], ["generate", "cancelled"]]);

    const approved = await runtime.runs.start(gatedPlan(), trigger());
    const finished = await runtime.execute(approved, undefined, { approveAs: "octocat" });
    expect(finished.status).toBe("succeeded");
    const generate = (await runtime.store.getSteps(approved.id)).find((s) => s.stepId === "generate");
    expect(generate?.status).toBe("succeeded");
    expect(generate?.approval?.by).toBe("octocat");
    models.assertDone();
  }, 60_000);
});
