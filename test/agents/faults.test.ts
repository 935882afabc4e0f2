import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { harness, useModelServer, metricValue, request } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const KEY = "sk-test-openai-abcdefghijklmnop";
const suite = useModelServer();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

const text = { role: "triage", output: "comment" as const };
const customRoles = { triage: { name: "triage", systemPrompt: "Answer briefly.", output: "comment" as const, result: "text" as const } };
const req = (signal?: AbortSignal) => request({ step: text, customRoles, ...(signal ? { signal } : {}) });

function make(extra: Parameters<typeof harness>[2] = {}, env: Record<string, string> = {}) {
  const reader = createInMemoryRepoReader({ files: { "src/a.ts": "a" } });
  const h = harness({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: suite.server.baseURL, ANTHROPIC_API_KEY: "sk-ant-test-abcdefghijklmnop", ANTHROPIC_BASE_URL: suite.server.baseURL, ...env }, reader, {
    retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 10_000 },
    limits: { openai: { requestsPerMinute: 60_000 }, anthropic: { requestsPerMinute: 60_000 } },
    ...extra,
  });
  return suite.track(h);
}

describe("retries", () => {
  it("429 with retry-after (seconds) waits what the server asked, then succeeds", async () => {
    const h = make();
    suite.server.expect("openai.responses", { kind: "status", status: 429, headers: { "retry-after": "2" }, body: { error: { message: "Rate limit reached", type: "requests" } } }, { kind: "text", text: "ok" });
    const out = await h.runner.run(req());
    expect(out.text).toBe("ok");
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(2);
    expect(h.clock.sleeps).toEqual([2000]);
  });

  it("429 with retry-after-ms and with an HTTP date", async () => {
    const h = make();
    const date = new Date(h.clock.now() + 5_000).toUTCString();
    suite.server.expect(
      "openai.responses",
      { kind: "status", status: 429, headers: { "retry-after-ms": "150", "retry-after": "9" } },
      { kind: "status", status: 503, headers: { "retry-after": date } },
      { kind: "text", text: "ok" },
    );
    await h.runner.run(req());
    expect(h.clock.sleeps[0]).toBe(150);
    expect(h.clock.sleeps[1]).toBeGreaterThanOrEqual(4_850);
    expect(h.clock.sleeps[1]).toBeLessThanOrEqual(5_000);
    expect(h.clock.sleeps).toHaveLength(2);
  });

  it("500 then success uses exponential backoff with jitter", async () => {
    const h = make();
    suite.server.expect("openai.responses", { kind: "status", status: 500 }, { kind: "status", status: 502 }, { kind: "text", text: "ok" });
    await h.runner.run(req());
    // equal jitter with random() = 0.5: 100 → 75, 200 → 150
    expect(h.clock.sleeps).toEqual([75, 150]);
    expect(await metricValue(h.metrics, "octoflow_agent_requests_total", { provider: "openai", outcome: "error" })).toBe(2);
    expect(await metricValue(h.metrics, "octoflow_agent_requests_total", { provider: "openai", outcome: "success" })).toBe(1);
  });

  it("Anthropic 529 overloaded is retried", async () => {
    const h = make({}, { OCTOFLOW_MODEL: "anthropic:claude-sonnet-4-5" });
    suite.server.expect("anthropic.messages", { kind: "status", status: 529, body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } }, { kind: "text", text: "fine" });
    const out = await h.runner.run(req());
    expect(out.text).toBe("fine");
    expect(suite.server.requestsTo("anthropic.messages")).toHaveLength(2);
  });

  it("gives up after the configured retries with a RetriesExhaustedError saying how many attempts failed", async () => {
    const h = make();
    suite.server.expect("openai.responses", ...Array.from({ length: 4 }, () => ({ kind: "status" as const, status: 500 })));
    await expect(h.runner.run(req())).rejects.toMatchObject({
      name: "RetriesExhaustedError",
      status: 500,
      attempts: 4,
      service: "openai",
      message: "The model provider openai failed after 4 attempts: openai answered HTTP 500: scripted 500",
    });
    expect(h.clock.sleeps).toEqual([75, 150, 300]);
  });

  it("a stream cut mid-way is retried", async () => {
    const h = make();
    suite.server.expect("openai.responses", { kind: "cut", text: "a long answer that will be cut", afterChunks: 4, chunkSize: 4 }, { kind: "text", text: "complete" });
    const out = await h.runner.run(req());
    expect(out.text).toBe("complete");
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(2);
  });

  for (const status of [400, 401, 403, 404, 422]) {
    it(`${status} is not retried`, async () => {
      const h = make();
      suite.server.expect("openai.responses", { kind: "status", status, body: { error: { message: `Incorrect API key provided: ${KEY}`, type: "invalid_request_error" } } });
      const error = await h.runner.run(req()).then(
        () => new Error("expected a failure"),
        (e: unknown) => e as Error,
      );
      expect(error.name).toBe("NonRetriableError");
      expect(error.message).not.toContain(KEY);
      if (status === 401) expect(error.message).toContain("OPENAI_API_KEY");
      expect(suite.server.requestsTo("openai.responses")).toHaveLength(1);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.logLines.join("")).not.toContain(KEY);
    });
  }

  it("quota exhausted (429 insufficient_quota) is not retried", async () => {
    const h = make();
    suite.server.expect("openai.responses", { kind: "status", status: 429, headers: { "retry-after": "1" }, body: { error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } } });
    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("quota exhausted") });
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(1);
  });
});

describe("bad answers", () => {
  it("invalid JSON for a structured output is told to the model; when it never gets it right, a clear, non-retriable error", async () => {
    const h = make({ toolLimits: { maxRounds: 2 } });
    const broken = { kind: "text" as const, text: '{"summary": "x", "findings": [ {"path": ' };
    suite.server.expect("openai.responses", broken, broken);
    await expect(h.runner.run(request({ step: { role: "review" } }))).rejects.toMatchObject({
      name: "NonRetriableError",
      message: expect.stringMatching(/review step used its 2 model rounds without a usable final answer: its answer is not valid JSON for the findings schema/),
    });
    const second = JSON.stringify(suite.server.requestsTo("openai.responses")[1]?.body);
    expect(second).toContain("Your answer could not be used");
    expect(second).toContain("This is your last round");
  });

  it("an event stream of garbage events fails cleanly", async () => {
    const h = make({ openaiApi: "chat" });
    suite.server.expect("openai.chat", { kind: "raw", status: 200, contentType: "text/event-stream", body: 'data: {"garbage": true}\n\n' });
    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "InvalidOutputError", message: expect.stringContaining("openai returned output that does not match") });
  });

  it("JSON of the wrong shape is rejected the same way", async () => {
    const h = make({ toolLimits: { maxRounds: 1 } });
    suite.server.expect("openai.responses", { kind: "text", text: JSON.stringify({ summary: "x", findings: [{ path: "a", line: "three" }] }) });
    await expect(h.runner.run(request({ step: { role: "review" } }))).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("not valid JSON for the findings schema") });
  });

  it("an HTML page instead of an event stream fails cleanly", async () => {
    const h = make({ retry: { retries: 1 } });
    const page = { kind: "raw" as const, status: 200, contentType: "text/html", body: "<html>gateway</html>" };
    suite.server.expect("openai.responses", page, page);
    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "RetriesExhaustedError", message: "The model provider openai failed after 2 attempts: openai stream ended before the answer was complete" });
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(2);
  });
});

describe("cancellation", () => {
  it("aborting a hanging call reaches the server (socket closed) and is not retried", async () => {
    const h = make();
    suite.server.expect("openai.responses", { kind: "hang" });
    const controller = new AbortController();
    const running = h.runner.run(req(controller.signal));
    const settled = running.then(
      () => new Error("expected the call to be cancelled"),
      (e: unknown) => e as Error,
    );
    await vi.waitFor(() => expect(suite.server.requestsTo("openai.responses")).toHaveLength(1), { timeout: 10_000, interval: 5 });
    controller.abort(new DOMException("cancelled by test", "AbortError"));
    const error = await settled;
    expect(error.name).toBe("AbortError");
    await suite.server.waitForHangClosed();
    expect(suite.server.hangsClosed).toBe(1);
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(1);
    expect(await metricValue(h.metrics, "octoflow_agent_requests_total", { provider: "openai", outcome: "cancelled" })).toBe(1);
  });

  it("an already-aborted signal makes no request", async () => {
    const h = make();
    const controller = new AbortController();
    const reason = new DOMException("cancelled before it started", "AbortError");
    controller.abort(reason);
    await expect(h.runner.run(req(controller.signal))).rejects.toBe(reason);
    expect(suite.server.requests).toHaveLength(0);
    expect(h.store.messages.size).toBe(0); // nothing reached the conversation either
  });
});

describe("circuit breaker", () => {
  // half-open → closed, and a cancelled probe, are driven on fake timers in test/resilience/circuit-breaker.test.ts;
  // here a long reset keeps the breaker open however slow the machine is
  it("real 500/503 answers open it; while open, calls fail fast without reaching the server", async () => {
    const h = make({ retry: { retries: 0 }, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 600_000, rollingWindowMs: 60_000, rollingBuckets: 1 } });
    suite.server.expect("openai.responses", { kind: "status", status: 500 }, { kind: "status", status: 503 });
    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "RetriesExhaustedError", status: 500 });
    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "RetriesExhaustedError", status: 503 });
    expect(h.runner.breakerStates()).toEqual({ openai: "open" });
    expect(await metricValue(h.metrics, "octoflow_circuit_breaker_state", { provider: "openai" })).toBe(2);

    await expect(h.runner.run(req())).rejects.toMatchObject({ name: "ProviderUnavailableError", message: expect.stringContaining('"openai" is unavailable') });
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(2);
    expect(await metricValue(h.metrics, "octoflow_agent_requests_total", { provider: "openai", outcome: "rejected" })).toBe(1);
  });

  it("client errors do not open the breaker", async () => {
    const h = make({ retry: { retries: 0 }, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } });
    suite.server.expect("openai.responses", { kind: "status", status: 400 }, { kind: "status", status: 400 }, { kind: "status", status: 400 });
    for (let i = 0; i < 3; i++) await expect(h.runner.run(req())).rejects.toMatchObject({ name: "NonRetriableError" });
    expect(h.runner.breakerStates()).toEqual({ openai: "closed" });
  });
});
