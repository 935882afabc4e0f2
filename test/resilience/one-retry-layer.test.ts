/**
 * Retries never stack, and every paid call is counted: the real app runtime (engine, queue, GitHub
 * progress reporters) over the fake GitHub, with the real agent runner talking to the fake model
 * server over HTTP. Provider backoff runs on a fake clock (recorded, not waited for).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgentRunner } from "../../src/agents/agent-runner.ts";
import { costOf, DEFAULT_PRICES } from "../../src/agents/price-table.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { DEFAULT_RETRY_POLICY } from "../../src/resilience/retry-policy.ts";
import { sumUsage } from "../../src/workflows/summarize-run.ts";
import { TERMINAL_RUN_STATUSES, type RunRecord } from "../../src/workflows/types.ts";
import { createInMemoryRepoReader } from "../agents/support/in-memory-repo-reader.ts";
import { memoryStore, metricValue } from "../agents/support/fixtures.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { example, startHarness, type Harness } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

type Json = Record<string, unknown>;

let models: ModelServer;
let h: Harness | undefined;
let runner: ReturnType<typeof createAgentRunner> | undefined;
let metrics: Metrics;

beforeAll(async () => {
  models = await startModelServer();
});
afterAll(async () => {
  await models.close();
});
afterEach(async () => {
  await h?.close();
  await runner?.close();
  h = undefined;
  runner = undefined;
  models.reset();
});

async function start(): Promise<Harness> {
  metrics = createMetrics({ defaults: false });
  runner = createAgentRunner({
    env: { OCTOFLOW_MODEL: "openai:gpt-4.1-mini", OPENAI_API_KEY: "sk-test-0000000000000000000000", OPENAI_BASE_URL: models.baseURL, CODEGEN_BASE_URL: "https://api.codegen.com" },
    store: memoryStore(),
    repoReaderFor: () => createInMemoryRepoReader({ files: { "README.md": "# app\n", "src/greet.ts": "export const greet = () => 'hi';\n" } }),
    metrics,
    log: silentLog,
    clock: createFakeClock(),
    random: () => 0.5,
    limits: { openai: { requestsPerMinute: 60_000 } },
  });
  h = await startHarness({ agents: runner, startWorkers: true });
  return h;
}

async function labelDocs(harness: Harness): Promise<RunRecord> {
  const payload = await example("issues", "labeled", (p) => {
    (p.label as Json).name = "octoflow:documentation";
    Object.assign(p.issue as Json, { number: 7, state: "open", title: "Document greet()" });
    p.sender = { login: "alice", id: 1, node_id: "U", type: "User", site_admin: false, avatar_url: "", url: "", html_url: "" };
  });
  await harness.receive("issues", payload);
  // waits for state, never asserts on time: the bound only turns a hang into a clear failure
  for (let i = 0; i < 600; i++) {
    const runs = await harness.store.listRuns();
    if (runs.length === 1 && TERMINAL_RUN_STATUSES.includes(runs[0]!.status)) {
      await harness.runtime.progress.idle();
      return runs[0]!;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the run did not finish");
}

/** The body of the last check-run update: what the user sees on GitHub. */
function finalCheckRun(harness: Harness): { status?: string; conclusion?: string; output: { title: string; summary: string; text?: string } } {
  const last = harness.gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}").at(-1);
  return last?.body as never;
}

describe("one retry layer", { timeout: 60_000 }, () => {
  it("a provider answering 500 forever costs the provider policy's attempts, once: no step retry on top", async () => {
    const harness = await start();
    models.always("openai.responses", { kind: "status", status: 500 });
    const run = await labelDocs(harness);

    const attempts = DEFAULT_RETRY_POLICY.retries + 1;
    // the template's step allows 2 retries of its own; before, each re-ran the exhausted provider call
    expect(run.plan.steps[0]?.retries).toBeGreaterThan(0);
    expect(models.requestsTo("openai.responses")).toHaveLength(attempts);

    const expected = `The model provider openai failed after ${attempts} attempts: openai answered HTTP 500: scripted 500`;
    const [write] = await harness.store.getSteps(run.id);
    expect(write).toMatchObject({ stepId: "write", status: "failed", attempts: 1, error: expected });
    const events = await harness.store.listEvents(run.id);
    expect(events.filter((e) => e.type === "step.retrying")).toEqual([]);
    expect(run).toMatchObject({ status: "failed", error: `step "write" failed: ${expected}` });

    // the check run says it in words
    const check = finalCheckRun(harness);
    expect(check.conclusion).toBe("failure");
    expect(`${check.output.title}\n${check.output.summary}`).toContain(`The model provider openai failed after ${attempts} attempts`);
    harness.gh.verify();
  });

  it("a failed step's calls, its correction rounds included, count in the run's tokens and cost like in /metrics", async () => {
    const harness = await start();
    const edits = JSON.stringify({ summary: "Document greet()", edits: [{ kind: "modify", path: "README.md", content: null, blocks: [{ search: "no such line", replace: "greet() says hi" }] }] });
    // every answer edits text that is not in README.md: the model is told so each round, then the step fails
    models.always("openai.responses", { kind: "text", text: edits, usage: { input: 1_000, output: 100 } });
    const run = await labelDocs(harness);
    expect(run.status).toBe("failed");
    const steps = await harness.store.getSteps(run.id);
    expect(steps.find((s) => s.stepId === "write")).toMatchObject({ status: "failed" });
    expect(steps.find((s) => s.stepId === "write")?.output).toBeUndefined();
    const calls = models.requestsTo("openai.responses").length;
    expect(calls).toBeGreaterThan(1);

    const price = DEFAULT_PRICES["openai:gpt-4.1-mini"];
    const cost = calls * costOf({ inputTokens: 1_000, outputTokens: 100, cachedTokens: 0 }, price);
    const usage = { inputTokens: calls * 1_000, outputTokens: calls * 100, cachedTokens: 0 };
    const finished = (await harness.store.listEvents(run.id)).find((e) => e.type === "run.finished");
    expect(finished?.type === "run.finished" ? finished.summary : undefined).toMatchObject({ usage, costUsd: Math.round(cost * 1e6) / 1e6 });
    expect(sumUsage(steps).usage).toEqual(usage);

    // the same calls /metrics counted
    expect(await metricValue(metrics, "octoflow_tokens_total", { provider: "openai", kind: "input" })).toBe(usage.inputTokens);
    expect(await metricValue(metrics, "octoflow_tokens_total", { provider: "openai", kind: "output" })).toBe(usage.outputTokens);
    expect(await metricValue(metrics, "octoflow_cost_usd_total", { provider: "openai" })).toBeCloseTo(cost, 9);
  });
});
