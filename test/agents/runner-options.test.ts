import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../src/resilience/token-bucket-limiter.ts";
import { startModelServer } from "../fakes/model-server.ts";
import { harness, useModelServer, request } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const suite = useModelServer();

const customRoles = { note: { name: "note", systemPrompt: "Be brief.", output: "comment" as const, result: "text" as const } };
const noteRequest = () => request({ step: { role: "note" }, customRoles });
const env = () => ({ OPENAI_API_KEY: "sk-test-0000000000000000", OPENAI_BASE_URL: suite.server.baseURL });

function make(extra: Parameters<typeof harness>[2] = {}) {
  const h = harness(env(), createInMemoryRepoReader({ files: { "src/a.ts": "a" } }), extra);
  return suite.track(h);
}

describe("runner options", () => {
  it("sequential calls reuse one keep-alive connection", async () => {
    const own = await startModelServer();
    const h = harness({ OPENAI_API_KEY: "sk-test-0000000000000000", OPENAI_BASE_URL: own.baseURL }, createInMemoryRepoReader({ files: {} }), { limits: { openai: { requestsPerMinute: 60_000 } } });
    try {
      own.always("openai.responses", { kind: "text", text: "ok" });
      for (let i = 0; i < 20; i++) await h.runner.run(noteRequest());
      expect(own.requestsTo("openai.responses")).toHaveLength(20);
      expect(own.connections).toBe(1);
    } finally {
      await h.runner.close();
      await own.close();
    }
  });

  it("paces calls with the provider's limiter (requests per minute)", async () => {
    const h = make({ limits: { openai: { requestsPerMinute: 30, burstRequests: 1 } } });
    suite.server.expect("openai.responses", ...Array.from({ length: 3 }, () => ({ kind: "text" as const, text: "ok" })));
    for (let i = 0; i < 3; i++) await h.runner.run(noteRequest());
    expect(h.clock.sleeps).toEqual([2_000, 2_000]);
    const json = await h.metrics.registry.getMetricsAsJSON();
    const wait = json.find((m) => m.name === "octoflow_rate_limiter_wait_seconds");
    const sum = wait?.values.find((v) => (v as { metricName?: string }).metricName === "octoflow_rate_limiter_wait_seconds_sum");
    expect(sum?.value).toBe(4);
  });

  it("uses a supplied fleet-wide limiter with the estimated token cost", async () => {
    const costs: { provider: string; requests: number; tokens: number }[] = [];
    const rateLimiterFor = (provider: string): RateLimiter => ({
      acquire: async (cost) => {
        costs.push({ provider, ...cost });
      },
    });
    const h = make({ rateLimiterFor });
    suite.server.expect("openai.responses", { kind: "text", text: "ok" });
    await h.runner.run(noteRequest());
    expect(costs).toHaveLength(1);
    expect(costs[0]?.provider).toBe("openai");
    expect(costs[0]?.requests).toBe(1);
    expect(costs[0]?.tokens).toBeGreaterThan(10);
  });

  it("refuses a call that would exceed the step's cost budget", async () => {
    const h = make({ budgets: { maxStepCostUsd: 0.000001 }, prices: { "openai:gpt-4.1-mini": { input: 100, output: 100 } } });
    await expect(h.runner.run(noteRequest())).rejects.toMatchObject({ name: "BudgetExceededError", message: expect.stringContaining("more than its budget of $0.0000") });
    expect(suite.server.requests).toHaveLength(0);
  });

  it("a structured answer cut at the output limit says so", async () => {
    const h = make({ openaiApi: "chat", budgets: { maxOutputTokens: 50 } });
    const events = [
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: '{"summary":"x","fin' }, finish_reason: null }] })}\n\n`,
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "length" }] })}\n\n`,
      "data: [DONE]\n\n",
    ].join("");
    suite.server.expect("openai.chat", { kind: "raw", status: 200, contentType: "text/event-stream", body: events });
    await expect(h.runner.run(request({ step: { role: "review" } }))).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("stopped at the output limit (50 tokens)") });
    expect((suite.server.requestsTo("openai.chat")[0]?.body as { max_completion_tokens?: number; max_tokens?: number }).max_tokens ?? (suite.server.requestsTo("openai.chat")[0]?.body as { max_completion_tokens?: number }).max_completion_tokens).toBe(50);
  });

  it("unknown providers and unpriced models are reported clearly", async () => {
    const h = make();
    await expect(h.runner.run(request({ step: { role: "note", model: "mistral:large" }, customRoles }))).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining('Unknown model provider "mistral"') });
    suite.server.expect("openai.responses", { kind: "text", text: "ok" });
    const out = await h.runner.run(request({ step: { role: "note", model: "openai:my-finetune" }, customRoles }));
    expect(out.costUsd).toBe(0);
    expect(h.logLines.join("")).toMatch(/no price configured for [a-z-]+:[^;]+; its cost is recorded as 0/);
  });
});
