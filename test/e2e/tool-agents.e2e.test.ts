/**
 * End to end with tool-using agents (DESIGN D11, D12): the real app (Probot server, engine, SQLite,
 * run workspace from the repository archive, publishing from the workspace) against the fake GitHub
 * and a scripted model speaking the OpenAI Responses wire format. The fix step searches for a symbol
 * the issue does not name, reads the file it found and edits it; the pull request contains that edit,
 * and the review step's request carries the generated line in the workspace diff.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { TERMINAL_RUN_STATUSES, type RunRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, toolCalls, toolResultsIn, type ModelServer, type RecordedRequest } from "../fakes/model-server.ts";
import { createTestProbot, example, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

type Json = Record<string, unknown>;

let gh: GitHubFake;
let repo: RepoModel;
let models: ModelServer;
let runtime: Runtime;
let server: Server;
let url: string;
let dataDir: string;

const CART = "import { add } from './math';\nexport const total = (items: number[]) => items.reduce(add, 0);\n";
const MATH = "export function add(a: number, b: number): number {\n  return a - b;\n}\n";
const lastResult = (r: RecordedRequest) => toolResultsIn(r.body).at(-1)?.output ?? "";

beforeAll(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, {
    owner: "octo",
    repo: "app",
    files: { "src/cart.ts": CART, "src/lib/math.ts": MATH, "src/lib/AGENTS.md": "LIB RULE: keep helpers pure.\n", "README.md": "# shop\n" },
    permissions: { alice: "write" },
    issues: { 9: { title: "Cart totals are wrong", body: "A cart with 2 and 2 shows a total of 0." } },
  });
  models = await startModelServer();
  dataDir = mkdtempSync(join(tmpdir(), "octoflow-e2e-tools-"));
  const env = loadEnv({
    NODE_ENV: "test",
    APP_ID: "123",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    DATABASE_URL: `sqlite:${join(dataDir, "octoflow.db")}`,
    OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
    OPENAI_API_KEY: "sk-test-e2e-key-000000000000",
    OPENAI_BASE_URL: models.baseURL,
  });
  runtime = await createRuntime(env, silentLog, { metrics: createMetrics({ defaults: false }), progressIntervalMs: 200 });
  const middleware = await createNodeMiddleware(octoflowApp(runtime), { probot: createTestProbot(gh.url) });
  server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const close of [...(runtime?.closers ?? [])].reverse()) await close();
  await models?.close();
  await gh?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("tool-using agents end to end", { timeout: 90_000 }, () => {
  it("bug-fix: the fix step finds the code with search, reads and edits it; the PR has the edit and the review sees it as a diff", async () => {
    models.expect(
      "openai.responses",
      // diagnose (text role, read-only tools): answers at once
      { kind: "text", text: "The total is built with add(); look at its implementation." },
      // fix: search for a symbol the issue does not name …
      toolCalls([{ name: "search", input: { regex: "function add\\(" } }]),
      // … read the file of the hit …
      { kind: "respond", answer: (r) => toolCalls([{ name: "read_file", input: { path: /^(\S+?):\d+:/m.exec(lastResult(r))?.[1] ?? "missing" } }]) },
      // … edit the line it read …
      {
        kind: "respond",
        answer: (r) => {
          const line = /\d+\| (.*a - b.*)/.exec(lastResult(r))?.[1] ?? "not read";
          return toolCalls([{ name: "edit_file", input: { path: "src/lib/math.ts", search: line, replace: line.replace("a - b", "a + b") } }]);
        },
      },
      // … and answer
      { kind: "respond", answer: (r) => ({ kind: "text", text: JSON.stringify({ summary: lastResult(r).includes("Edited src/lib/math.ts") ? "add() adds" : "edit failed", edits: [] }) }) },
      // regression test: one answer with an edit in the final JSON
      { kind: "text", text: JSON.stringify({ summary: "Regression test", edits: [{ kind: "create", path: "src/lib/math.test.ts", content: "test('add', () => expect(add(2, 2)).toBe(4));\n", blocks: null }] }) },
      // review
      { kind: "text", text: JSON.stringify({ summary: "Correct fix.", findings: [] }) },
    );
    const payload = await example("issues", "labeled", (p) => {
      (p.label as Json).name = "octoflow:bug-fix";
      Object.assign(p.issue as Json, { number: 9, title: "Cart totals are wrong", body: "A cart with 2 and 2 shows a total of 0.", state: "open" });
      p.sender = { login: "alice", id: 1, type: "User" };
    });
    const body = JSON.stringify(payload);
    const response = await fetch(`${url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": "e2e-tools-1", "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) },
      body,
    });
    await response.arrayBuffer();
    expect(response.status).toBe(200);

    let run: RunRecord | undefined;
    // waits for state, never asserts on time: the bound only turns a hang into a clear failure
    for (let i = 0; i < 1200 && !run; i++) {
      run = (await runtime.store.listRuns({ limit: 10 })).find((r) => TERMINAL_RUN_STATUSES.includes(r.status));
      if (!run) await new Promise((r) => setTimeout(r, 50));
    }
    await runtime.progress.idle();
    expect(run, JSON.stringify(await runtime.store.listRuns())).toMatchObject({ workflow: "bug-fix", status: "succeeded" });
    models.assertDone();

    // the PR's branch has the edit the agent made with its tools, and the regression test
    const files = repo.filesAt("octoflow/9-cart-totals-are-wrong");
    expect(files.get("src/lib/math.ts")).toBe(MATH.replace("a - b", "a + b"));
    expect(files.get("src/lib/math.test.ts")).toContain("toBe(4)");
    expect(repo.filesAt("main").get("src/lib/math.ts")).toBe(MATH);
    expect(repo.state.pulls).toHaveLength(1);

    const requests = models.requestsTo("openai.responses");
    // the fix step worked under src/lib/: that folder's AGENTS.md joined its system prompt after the read
    expect(JSON.stringify(requests[1]?.body)).not.toContain("LIB RULE");
    expect(JSON.stringify(requests[3]?.body)).toContain("LIB RULE: keep helpers pure.");
    // the review reads the change as a diff against the base, with the generated line
    const review = JSON.stringify(requests[6]?.body);
    expect(review).toContain("Changes made by earlier steps of this run");
    expect(review).toContain("+  return a + b;");
    expect(review).toContain("+test('add', () => expect(add(2, 2)).toBe(4));");

    const steps = await runtime.store.getSteps(run!.id);
    expect(steps.find((s) => s.stepId === "fix")?.output?.data).toMatchObject({ toolRounds: 4, toolCalls: 3, workspace: "snapshot", instructions: ["src/lib/AGENTS.md"] });
  });
});
