/**
 * The whole app, observed from outside: a labelled issue starts a real run (engine, embedded queue,
 * the real agent runner against the local model server, GitHub outputs and progress against the
 * OpenAPI-validated GitHub fake); then
 * `/metrics` (through the handlers the app registered) parses and counts it, `/readyz` answers
 * with every check, and one trace spans the webhook, the run, its steps and every GitHub request.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { ProbotOctokit } from "probot";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { octokitInstrumentation } from "../../src/observability/instrument-octokit.ts";
import { setupTracing, type Tracing } from "../../src/observability/tracing.ts";
import type { Handler } from "../../src/observability/setup-operations.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { TERMINAL_RUN_STATUSES } from "../../src/workflows/types.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestProbot, example, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";
import { parsePrometheusText } from "./prometheus-text.ts";

let tracing: Tracing | undefined;
let gh: GitHubFake | undefined;
let models: ModelServer | undefined;
let runtime: Runtime | undefined;
let server: Server | undefined;
afterEach(async () => {
  for (const close of [...(runtime?.closers ?? [])].reverse()) await close();
  await gh?.close();
  await models?.close();
  await tracing?.shutdown();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

/** Sum of every series of `sample` (defaults to the family's own name) in a family. */
const sum = (families: ReturnType<typeof parsePrometheusText>, family: string, sample = family) =>
  (families.get(family)?.samples ?? []).filter((s) => s.name === sample).reduce((n, s) => n + s.value, 0);

describe("the running app", () => {
  it("counts a run in /metrics and traces it from the webhook to its last GitHub request", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = setupTracing({ env: {}, exporter });
    gh = await startGitHubFake();
    installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "# app\n" }, permissions: { alice: "write" } });
    const metrics = createMetrics();
    const store = createMemoryRunStore();
    models = await startModelServer();
    const docs = { summary: "Documented the greeting.", edits: [{ kind: "create", path: "docs/greeting.md", content: "# Greeting\n", blocks: null }] };
    models.expect(
      "openai.responses",
      { kind: "text", text: JSON.stringify(docs), usage: { input: 1200, output: 300 } },
      { kind: "text", text: JSON.stringify({ summary: "Accurate.", findings: [] }), usage: { input: 900, output: 40 } },
    );
    const env = loadEnv({
      NODE_ENV: "test",
      APP_ID: "123",
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      LOG_LEVEL: "silent",
      DASHBOARD_TOKEN: "e2e-dashboard-token",
      OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
      OPENAI_API_KEY: "sk-test-0000000000000000000000",
      OPENAI_BASE_URL: models.baseURL,
    });
    runtime = await createRuntime(env, silentLog, {
      store,
      metrics,
      progressIntervalMs: 0,
      startWorkers: true,
    });
    const probot = createTestProbot(gh.url, { Octokit: ProbotOctokit.plugin(octokitInstrumentation({ metrics })) });
    const handlers: Handler[] = [];
    await probot.load(octoflowApp(runtime), { cwd: process.cwd(), addHandler: (h: Handler) => void handlers.push(h) });
    server = createServer(async (req, res) => {
      for (const handler of handlers) if (await handler(req, res)) return;
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const payload = await example("issues", "labeled", (p) => {
      (p.label as Record<string, unknown>).name = "octoflow:documentation";
      (p.issue as Record<string, unknown>).number = 7;
      (p.issue as Record<string, unknown>).state = "open";
      (p.issue as Record<string, unknown>).title = "Document the greeting";
      p.sender = { login: "alice", id: 1, node_id: "U", type: "User", site_admin: false, avatar_url: "", url: "", html_url: "" };
    });
    await probot.receive({ id: "delivery-e2e", name: "issues", payload } as never);

    // wait for the outcome (a condition, not a duration)
    let runs = await store.listRuns();
    while (runs.length !== 1 || !TERMINAL_RUN_STATUSES.includes(runs[0]?.status ?? "queued")) {
      await new Promise((r) => setTimeout(r, 20));
      runs = await store.listRuns();
    }
    const run = runs[0];
    expect(run?.status).toBe("succeeded");
    models.assertDone();
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: unknown }> };
    expect(ready.status).toBe("ok");
    expect(Object.keys(ready.checks).sort()).toEqual(["alerts", "providers", "queue", "store"]);

    const api = await fetch(`${base}/api/runs`, { headers: { authorization: "Bearer e2e-dashboard-token" } });
    expect(((await api.json()) as { runs: { id: string; workflow: string }[] }).runs).toEqual([expect.objectContaining({ id: run?.id, workflow: "documentation" })]);

    // stop the workers and flush progress, so every GitHub request of the run has happened
    for (const close of [...runtime.closers].reverse()) await close();
    runtime = undefined;

    const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    expect(sum(families, "octoflow_webhooks_received_total")).toBeGreaterThan(0);
    expect(families.get("octoflow_runs_total")?.samples).toContainEqual({
      name: "octoflow_runs_total",
      labels: { workflow: "documentation", conclusion: run?.status ?? "" },
      value: 1,
    });
    expect(sum(families, "octoflow_steps_total")).toBe(2);
    expect(sum(families, "octoflow_step_duration_seconds", "octoflow_step_duration_seconds_count")).toBe(2);
    expect(families.get("octoflow_agent_requests_total")?.samples).toContainEqual({
      name: "octoflow_agent_requests_total",
      labels: { provider: "openai", outcome: "success" },
      value: 2,
    });
    expect(sum(families, "octoflow_tokens_total")).toBe(1200 + 300 + 900 + 40);
    expect(sum(families, "octoflow_github_requests_total")).toBeGreaterThan(3);
    expect(sum(families, "octoflow_github_progress_writes_total")).toBeGreaterThan(0);

    const spans = exporter.getFinishedSpans();
    const webhook = spans.find((s) => s.name === "webhook issues");
    expect(webhook).toBeDefined();
    const traceId = webhook?.spanContext().traceId;
    const github = spans.filter((s) => s.name.startsWith("GitHub "));
    expect(github.length).toBeGreaterThan(3);
    const outside = github.filter((s) => s.spanContext().traceId !== traceId).map((s) => s.name);
    expect(outside).toEqual([]);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const ancestry = (span: (typeof spans)[number] | undefined) => {
      const names: string[] = [];
      for (let s = span; s?.parentSpanContext; s = byId.get(s.parentSpanContext.spanId)) names.push(byId.get(s.parentSpanContext.spanId)?.name ?? "?");
      return names;
    };
    const last = [...github].sort((a, b) => a.endTime[0] - b.endTime[0] || a.endTime[1] - b.endTime[1]).at(-1);
    expect(ancestry(last).at(-1)).toBe("webhook issues");
    expect(ancestry(last).some((name) => name.startsWith("run"))).toBe(true);
    const modelCalls = spans.filter((s) => s.name === "model.call");
    expect(modelCalls).toHaveLength(2); // one per step, each under its step span, in the same trace
    for (const span of modelCalls) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(ancestry(span)[0]).toMatch(/^step /);
    }
  });
});
