import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { parseWorkflowTemplate } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { WorkspaceService } from "../../src/workspace/run-workspaces.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { tempDir, workspacesOver } from "../workspace/support.ts";
import type { AgentProgress, AgentRequest } from "../../src/workflows/ports.ts";
import { asRunId, asStepId, type StepOutput } from "../../src/workflows/types.ts";
import { toolCalls, toolResultsIn, type ModelRoute, type RecordedRequest, type Reply } from "../fakes/model-server.ts";
import { createMemoryWorkspaces } from "../fakes/memory-workspace.ts";
import { harness, plan, step, trigger, useModelServer } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const suite = useModelServer();

const STOCK = "export function lowStock(items) {\n  return items.filter((i) => i.qty < 3);\n}\n";
const FILES = { "src/inventory/stock.ts": STOCK, "src/app.ts": "import { lowStock } from './inventory/stock';\n", "README.md": "# shop\n" };
const ISSUE = { title: "Warn earlier about low stock", body: "The warning threshold for low stock should be 5 items instead of 3." };

const ROUTES: { route: ModelRoute; env: (baseURL: string) => Record<string, string>; openaiApi?: "chat" }[] = [
  { route: "openai.responses", env: (u) => ({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: u }) },
  { route: "openai.chat", openaiApi: "chat", env: (u) => ({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: u }) },
  { route: "anthropic.messages", env: (u) => ({ ANTHROPIC_API_KEY: "sk-ant-test-0000000000000000", ANTHROPIC_BASE_URL: u, OCTOFLOW_MODEL: "anthropic:claude-sonnet-4-5" }) },
];

const lastResult = (r: RecordedRequest) => toolResultsIn(r.body).at(-1)?.output ?? "";

/**
 * A scripted agent: it searches for a symbol the issue does not name, reads the file the hit is in,
 * edits the line it read, and answers. Each reply is computed from the tool results it got back.
 */
function scriptedAgent(): Reply[] {
  return [
    toolCalls([{ name: "search", input: { regex: "function lowStock" } }]),
    {
      kind: "respond",
      answer: (r) => {
        const path = /^(\S+?):\d+: export function lowStock/m.exec(lastResult(r))?.[1];
        return path ? toolCalls([{ name: "read_file", input: { path } }]) : { kind: "text", text: "search found nothing" };
      },
    },
    {
      kind: "respond",
      answer: (r) => {
        const out = lastResult(r);
        const line = /\d+\| (.*i\.qty < 3.*)/.exec(out)?.[1];
        const path = /(\S+) \(\d+ lines\):/.exec(out)?.[1];
        return line && path ? toolCalls([{ name: "edit_file", input: { path, search: line, replace: line.replace("< 3", "< 5") } }]) : { kind: "text", text: "read nothing" };
      },
    },
    {
      kind: "respond",
      answer: (r) => ({ kind: "text", text: JSON.stringify({ summary: lastResult(r).includes("Edited src/inventory/stock.ts") ? "Low stock now warns below 5." : "edit failed", edits: [] }) }),
    },
  ];
}

const REPO = { owner: "octo", name: "app", defaultBranch: "main" };

/** The real run workspace (archive snapshot) over the fake GitHub, per test. */
let gh: GitHubFake;
let cache: Awaited<ReturnType<typeof tempDir>>;
let realWorkspaces: WorkspaceService;
let closeStore: () => Promise<void>;
beforeEach(async () => {
  gh = await startGitHubFake();
  installRepoModel(gh, { owner: REPO.owner, repo: REPO.name, files: FILES });
  cache = await tempDir();
  const store = createMemoryRunStore();
  closeStore = () => store.close();
  realWorkspaces = workspacesOver(gh.url, store, cache.dir);
});
afterEach(async () => {
  await gh.close();
  await closeStore();
  await cache.remove();
});

function generateRequest(progress: AgentProgress[], upstream: Record<string, StepOutput> = {}): AgentRequest {
  const implement = step({ id: asStepId("implement"), prompt: "Implement the issue" });
  const review = step({ id: asStepId("review"), name: "review", role: "review", prompt: "Review the change", needs: [asStepId("implement")], output: "review" });
  return {
    runId: asRunId("run-tools"),
    step: Object.keys(upstream).length > 0 ? review : implement,
    plan: plan([implement, review]),
    prompt: Object.keys(upstream).length > 0 ? review.prompt : implement.prompt,
    trigger: trigger({ repo: REPO, issue: ISSUE }),
    upstream,
    attempt: 1,
    signal: new AbortController().signal,
    onProgress: (p) => progress.push(p),
  };
}

describe("tool-using roles against the fake model (real wire formats)", () => {
  for (const c of ROUTES) {
    it(`${c.route}: finds an unnamed symbol with search, reads the file and edits it; the review step sees the change as a diff (real workspace)`, async () => {
      const workspaces = realWorkspaces;
      const reader = createInMemoryRepoReader({ files: FILES, thread: { ...ISSUE, comments: [] } });
      const h = suite.track(harness(c.env(suite.server.baseURL), reader, { workspaces, ...(c.openaiApi ? { openaiApi: c.openaiApi } : {}) }));
      suite.server.expect(c.route, ...scriptedAgent());
      const progress: AgentProgress[] = [];

      const out = await h.runner.run(generateRequest(progress));

      const edited = STOCK.replace("i.qty < 3", "i.qty < 5");
      expect(out.text).toBe("Low stock now warns below 5.");
      expect(out.edits).toEqual([{ kind: "create", path: "src/inventory/stock.ts", content: edited }]);
      expect(out.changes).toEqual([{ path: "src/inventory/stock.ts", content: edited }]);
      expect(out.data).toMatchObject({ toolRounds: 4, toolCalls: 3, workspace: "snapshot" });
      const messages = progress.map((p) => p.message).filter(Boolean);
      expect(messages).toEqual(["search function lowStock: 1 hit", "read src/inventory/stock.ts 1–3", "edit src/inventory/stock.ts line 2"]);
      expect(progress.at(-1)?.tail).toContain("search function lowStock: 1 hit\nread src/inventory/stock.ts 1–3\nedit src/inventory/stock.ts line 2");
      // the model saw fenced tool results; the first request declared the editing tools
      const calls = suite.server.requestsTo(c.route);
      expect(calls).toHaveLength(4);
      expect(lastResult(calls[1]!)).toMatch(/^<untrusted-data source="search result">\n1 hit for \/function lowStock\/:\nsrc\/inventory\/stock.ts:1: export function lowStock/);
      const declared = JSON.stringify((calls[0]!.body as { tools?: unknown }).tools);
      for (const name of ["list_files", "read_file", "search", "edit_file", "write_file", "delete_file"]) expect(declared).toContain(name);

      // the downstream review reads the generated line in the workspace diff
      suite.server.expect(c.route, { kind: "text", text: JSON.stringify({ summary: "Looks right.", findings: [] }) });
      const review = await h.runner.run(generateRequest([], { implement: out }));
      expect(review.text).toBe("Looks right.");
      expect(review.edits).toBeUndefined();
      const reviewBody = JSON.stringify(suite.server.requestsTo(c.route)[4]?.body);
      expect(reviewBody).toContain("Changes made by earlier steps of this run (implement)");
      expect(reviewBody).toContain(JSON.stringify("+  return items.filter((i) => i.qty < 5);").slice(1, -1));
      const reviewTools = JSON.stringify((suite.server.requestsTo(c.route)[4]?.body as { tools?: unknown }).tools);
      expect(reviewTools).toContain("read_file");
      expect(reviewTools).not.toContain("edit_file");
    });
  }

  it("a tool error reaches the model, which corrects itself in the next round", async () => {
    const workspaces = createMemoryWorkspaces(FILES);
    const h = suite.track(harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL }, createInMemoryRepoReader({ files: FILES }), { workspaces }));
    suite.server.expect(
      "openai.responses",
      toolCalls([{ name: "edit_file", input: { path: "src/inventory/stock.ts", search: "qty <= 3", replace: "qty <= 5" } }, { name: "write_file", input: { path: ".github/workflows/ci.yml", content: "on: push" } }]),
      {
        kind: "respond",
        answer: (r) => {
          const results = toolResultsIn(r.body);
          const corrected = results.some((x) => x.output.includes("Search text not found")) && results.some((x) => x.output.includes("never changed by Octoflow"));
          return corrected ? toolCalls([{ name: "edit_file", input: { path: "src/inventory/stock.ts", search: "qty < 3", replace: "qty < 5" } }]) : { kind: "text", text: "{}" };
        },
      },
      { kind: "text", text: JSON.stringify({ summary: "done", edits: [] }) },
    );
    const out = await h.runner.run(generateRequest([]));
    expect(out.edits).toEqual([{ kind: "create", path: "src/inventory/stock.ts", content: STOCK.replace("qty < 3", "qty < 5") }]);
    expect(out.data).toMatchObject({ toolRounds: 3, toolCalls: 3 });
  });

  it("the cost budget is checked before every round: the loop stops with a clear error instead of paying for another round", async () => {
    const workspaces = createMemoryWorkspaces(FILES);
    const h = suite.track(
      harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL }, createInMemoryRepoReader({ files: FILES }), {
        workspaces,
        prices: { "openai:gpt-4.1-mini": { input: 1_000, output: 1_000 } },
        budgets: { maxStepCostUsd: 10 },
      }),
    );
    // the first round's answer reports 9,000 input tokens ($9): the next round cannot fit in $10
    suite.server.expect("openai.responses", { ...toolCalls([{ name: "read_file", input: { path: "README.md" } }]), usage: { input: 9_000, output: 10 } });
    await expect(h.runner.run(generateRequest([]))).rejects.toMatchObject({ name: "BudgetExceededError", message: expect.stringContaining("more than its budget of $10.0000") });
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(1);
  });

  it("the round limit forbids tools in the last round and ends with a clear error when the model keeps calling them", async () => {
    const workspaces = createMemoryWorkspaces(FILES);
    const h = suite.track(harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL, OPENAI_COMPATIBLE_BASE_URL: suite.server.baseURL }, createInMemoryRepoReader({ files: FILES }), { workspaces, toolLimits: { maxRounds: 2 }, openaiApi: "chat" }));
    const read = () => toolCalls([{ name: "read_file", input: { path: "README.md" } }]);
    suite.server.expect("openai.chat", read(), read());
    await expect(h.runner.run(generateRequest([]))).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("used its 2 model rounds without a usable final answer: it called tools in its last round") });
    const last = suite.server.requestsTo("openai.chat")[1]?.body as { tool_choice?: unknown };
    expect(last.tool_choice).toBe("none");
  });
});

describe("limits from the workflow template", () => {
  it("a step's tools: block reaches the plan and overrides the runner's defaults (maxRounds: 1 forbids tools at once)", async () => {
    const template = parseWorkflowTemplate(
      ["name: quick", "steps:", "  - id: implement", "    role: generate", "    prompt: Do it", "    tools:", "      maxRounds: 1", "      maxResultBytes: 2000"].join("\n"),
      "quick.yml",
    );
    const planned = planRun(template, trigger());
    expect(planned.steps[0]?.toolLimits).toEqual({ maxRounds: 1, maxResultBytes: 2000 });

    const h = suite.track(harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL }, createInMemoryRepoReader({ files: FILES }), { workspaces: createMemoryWorkspaces(FILES) }));
    suite.server.expect("openai.responses", { kind: "text", text: JSON.stringify({ summary: "nothing to do", edits: [] }) });
    const out = await h.runner.run({ ...generateRequest([]), step: planned.steps[0]!, plan: planned });
    expect(out.data).toMatchObject({ toolRounds: 1, toolCalls: 0 });
    expect((suite.server.requestsTo("openai.responses")[0]?.body as { tool_choice?: unknown }).tool_choice).toBe("none");
  });
});

describe("when the run workspace cannot serve the step", () => {
  const reader = () => createInMemoryRepoReader({ files: FILES });
  const failing = (error: Error) => ({ viewFor: async () => Promise.reject(error) });

  it("a conflict between upstream layers fails the joining step with the workspace's message", async () => {
    const conflict = new NonRetriableError('Steps "tests" and "docs" changed README.md (line 3) in different ways; the changes cannot be merged.');
    const h = suite.track(harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL }, reader(), { workspaces: failing(conflict) }));
    await expect(h.runner.run(generateRequest([]))).rejects.toBe(conflict);
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(0);
  });

  it("any other failure leaves the step with lazy reads, and the output says what it could not see", async () => {
    const h = suite.track(harness({ OPENAI_API_KEY: "sk-test-openai-000000000000", OPENAI_BASE_URL: suite.server.baseURL }, reader(), { workspaces: failing(new Error("the run has no GitHub installation")) }));
    suite.server.expect("openai.responses", toolCalls([{ name: "search", input: { regex: "lowStock" } }]), {
      kind: "respond",
      answer: (r) => ({ kind: "text", text: JSON.stringify({ summary: lastResult(r).includes("lazy mode") ? "searched lazily" : "?", edits: [] }) }),
    });
    const out = await h.runner.run(generateRequest([]));
    expect(out.text).toBe("searched lazily");
    expect(out.data).toMatchObject({ workspace: "lazy", workspaceNotice: expect.stringContaining("the run workspace could not be loaded (the run has no GitHub installation)") });
    expect(JSON.stringify(suite.server.requestsTo("openai.responses")[0]?.body)).toContain("The workspace is incomplete");
  });
});
