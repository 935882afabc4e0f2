import { describe, expect, it } from "vitest";
import type { AgentProgress } from "../../src/workflows/ports.ts";
import { codegenLogs, codegenRun } from "../fakes/model-server.ts";
import { harness, useModelServer, request } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const TOKEN = "cg-secret-token-0123456789";
const suite = useModelServer();

function make(codegen: { timeoutMs?: number } = {}) {
  const h = harness(
    { OCTOFLOW_MODEL: "codegen:agent", CODEGEN_TOKEN: TOKEN, CODEGEN_ORG_ID: "42", CODEGEN_BASE_URL: suite.server.url },
    createInMemoryRepoReader({ files: {} }),
    { codegen: { pollIntervalMs: 1_000, maxPollIntervalMs: 2_000, timeoutMs: 60_000, ...codegen }, retry: { retries: 2, baseDelayMs: 100 } },
  );
  return suite.track(h);
}

const json = (body: unknown, status = 200) => ({ kind: "json" as const, body, status });

describe("Codegen remote agent", () => {
  it("creates a run, polls with backoff, streams logs as progress and surfaces result, web URL and PRs", async () => {
    const h = make();
    suite.server
      .expect("codegen.create", json(codegenRun({ id: 501, status: "ACTIVE" })))
      .expect("codegen.logs", json(codegenLogs(501, "ACTIVE", [{ tool_name: "ripgrep_search", thought: "Looking for greet" }, { thought: "Editing src/greet.ts" }])), json(codegenLogs(501, "ACTIVE", [], 2)))
      .expect(
        "codegen.get",
        json(codegenRun({ id: 501, status: "running" })),
        json(codegenRun({ id: 501, status: "Completed", result: "Added greet().", github_pull_requests: [{ id: 9, title: "Add greet", url: "https://github.com/acme/widgets/pull/12" }] })),
      );
    const progress: AgentProgress[] = [];
    const out = await h.runner.run(request({ progress }));

    expect(out.text).toContain("Added greet().");
    expect(out.text).toContain("[Add greet](https://github.com/acme/widgets/pull/12)");
    expect(out.data).toEqual({
      codegenRunId: 501,
      status: "completed",
      webUrl: "https://codegen.com/agent/trace/501",
      pullRequests: [{ url: "https://github.com/acme/widgets/pull/12", title: "Add greet", number: 12 }],
    });
    expect(out.costUsd).toBe(0);
    expect(out.model).toBe("codegen:agent");

    const [create] = suite.server.requestsTo("codegen.create");
    expect(create?.path).toBe("/v1/organizations/42/agent/run");
    expect(create?.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect((create?.body as { prompt: string }).prompt).toMatch(/^Repository: acme\/widgets\nIssue #7\n\nImplement the issue$/);
    expect(suite.server.requestsTo("codegen.logs").map((r) => r.path)).toEqual([
      "/v1/alpha/organizations/42/agent/run/501/logs?skip=0&limit=100",
      "/v1/alpha/organizations/42/agent/run/501/logs?skip=2&limit=100",
    ]);
    expect(progress.map((p) => p.message)).toEqual(["Codegen run 501 created: https://codegen.com/agent/trace/501", "ripgrep_search: Looking for greet", "Editing src/greet.ts"]);
    expect(h.clock.sleeps).toEqual([1_000, 1_500]);
    expect(h.store.markers.get("codegen-run:acme/widgets#7")).toBe("501");
    expect(h.logLines.join("")).not.toContain(TOKEN);
  });

  it("treats unknown statuses as still running", async () => {
    const h = make();
    suite.server
      .expect("codegen.create", json(codegenRun({ id: 7, status: "QUEUED_FOR_SANDBOX" })))
      .always("codegen.logs", json(codegenLogs(7, "x", [])))
      .expect("codegen.get", json(codegenRun({ id: 7, status: "thinking-very-hard" })), json(codegenRun({ id: 7, status: "COMPLETE", result: "done" })));
    const out = await h.runner.run(request());
    expect(out.text).toContain("done");
    expect(suite.server.requestsTo("codegen.get")).toHaveLength(2);
  });

  it("a failed run is a clear, non-retriable error naming the run", async () => {
    const h = make();
    suite.server
      .expect("codegen.create", json(codegenRun({ id: 8, status: "ACTIVE" })))
      .always("codegen.logs", json(codegenLogs(8, "x", [])))
      .expect("codegen.get", json(codegenRun({ id: 8, status: "Failed", result: "Could not clone" })));
    await expect(h.runner.run(request())).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining('Codegen run 8 ended with status "failed" (https://codegen.com/agent/trace/8): Could not clone') });
  });

  it("gives up after the overall timeout", async () => {
    const h = make({ timeoutMs: 5_000 });
    suite.server.expect("codegen.create", json(codegenRun({ id: 9, status: "ACTIVE" }))).always("codegen.logs", json(codegenLogs(9, "x", []))).always("codegen.get", json(codegenRun({ id: 9, status: "running" })));
    await expect(h.runner.run(request())).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("did not finish within") });
    expect(h.clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    expect(h.clock.sleeps).toEqual([1_000, 1_500, 2_000, 500]);
  });

  it("resumes the thread's earlier run instead of creating a new one", async () => {
    const h = make();
    h.store.markers.set("codegen-run:acme/widgets#7", "300");
    suite.server.expect("codegen.resume", json(codegenRun({ id: 300, status: "completed", result: "follow-up done" })));
    const out = await h.runner.run(request());
    expect(out.text).toContain("follow-up done");
    const [resume] = suite.server.requestsTo("codegen.resume");
    expect(resume?.path).toBe("/v1/organizations/42/agent/run/resume");
    expect(resume?.body).toEqual({ agent_run_id: 300, prompt: expect.stringContaining("Implement the issue") });
  });

  it("falls back to a new run when the old one cannot be resumed", async () => {
    const h = make();
    h.store.markers.set("codegen-run:acme/widgets#7", "300");
    suite.server.expect("codegen.resume", { kind: "status", status: 404, body: { detail: "Agent run not found" } }).expect("codegen.create", json(codegenRun({ id: 301, status: "completed", result: "fresh" })));
    const out = await h.runner.run(request());
    expect(out.text).toContain("fresh");
    expect(h.store.markers.get("codegen-run:acme/widgets#7")).toBe("301");
  });

  it("respects the creation limit (10 per minute) across runs", async () => {
    const h = make();
    suite.server.expect("codegen.create", json(codegenRun({ id: 1, status: "completed", result: "a" })), json(codegenRun({ id: 2, status: "completed", result: "b" })));
    await h.runner.run(request({ trigger: { number: 1 } }));
    expect(h.clock.sleeps).toEqual([]);
    await h.runner.run(request({ trigger: { number: 2 } }));
    expect(h.clock.sleeps).toEqual([6_000]);
  });

  it("creating a run is repeated only when the server certainly did not create it", async () => {
    const h = make();
    suite.server.expect("codegen.create", { kind: "status", status: 502, body: { detail: "Bad gateway" } });
    // a 502 may come after the run was created: a second POST could start a second paid agent run
    // … and no step retry sends it either: the decision is carried on the error
    await expect(h.runner.run(request())).rejects.toMatchObject({ name: "RetriesExhaustedError", status: 502, message: expect.stringContaining("Codegen failed after 1 attempt (not sent again") });
    expect(suite.server.requestsTo("codegen.create")).toHaveLength(1);

    suite.server.reset();
    suite.server.expect("codegen.create", { kind: "status", status: 429, headers: { "retry-after": "2" }, body: { detail: "Rate limit exceeded" } }, json(codegenRun({ id: 12, status: "completed", result: "made" })));
    expect((await h.runner.run(request({ trigger: { number: 12 } }))).text).toContain("made");
    expect(suite.server.requestsTo("codegen.create")).toHaveLength(2);
    expect(h.clock.sleeps).toContain(2_000);
  });

  it("a 429 while polling is retried after retry-after", async () => {
    const h = make();
    suite.server
      .expect("codegen.create", json(codegenRun({ id: 5, status: "ACTIVE" })))
      .always("codegen.logs", json(codegenLogs(5, "x", [])))
      .expect("codegen.get", { kind: "status", status: 429, headers: { "retry-after": "3" }, body: { detail: "Rate limit exceeded" } }, json(codegenRun({ id: 5, status: "completed", result: "ok" })));
    await h.runner.run(request());
    expect(h.clock.sleeps).toEqual([1_000, 3_000]);
  });

  it("a garbage answer is a clear error; a broken logs endpoint is ignored", async () => {
    const h = make();
    suite.server
      .expect("codegen.create", json(codegenRun({ id: 6, status: "ACTIVE" })))
      .expect("codegen.logs", { kind: "status", status: 404, body: { detail: "Not Found" } })
      .expect("codegen.get", json({ hello: "world" }));
    await expect(h.runner.run(request())).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("unexpected shape") });
  });

  it("cancellation stops the polling", async () => {
    const h = make();
    const controller = new AbortController();
    suite.server.expect("codegen.create", json(codegenRun({ id: 4, status: "ACTIVE" }))).expect("codegen.logs", json(codegenLogs(4, "x", [{ thought: "working" }])));
    const progress: AgentProgress[] = [];
    const req = request({ signal: controller.signal, progress });
    const original = req.onProgress;
    req.onProgress = (p) => {
      original(p);
      if (p.message === "working") controller.abort(new DOMException("cancelled", "AbortError"));
    };
    await expect(h.runner.run(req)).rejects.toMatchObject({ name: "AbortError" });
    expect(suite.server.requestsTo("codegen.get")).toHaveLength(0);
  });

  it("missing credentials fail clearly", async () => {
    const h = harness({ OCTOFLOW_MODEL: "codegen:agent" }, createInMemoryRepoReader({ files: {} }));
    suite.track(h);
    await expect(h.runner.run(request())).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringContaining("CODEGEN_TOKEN") });
  });
});
