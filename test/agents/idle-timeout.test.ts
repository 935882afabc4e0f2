/**
 * No call waits forever: a model or Codegen request that receives nothing for the idle limit is cut
 * off (the socket closes at the server) and retried by the one retry layer, and the step's progress
 * says so as soon as the retry is decided. The idle limit is short and real; backoff delays run on
 * the fake clock.
 */
import { describe, expect, it } from "vitest";
import type { AgentProgress } from "../../src/workflows/ports.ts";
import { codegenLogs, codegenRun } from "../fakes/model-server.ts";
import { harness, request, useModelServer } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const suite = useModelServer();
const IDLE_MS = 200;

const customRoles = { triage: { name: "triage", systemPrompt: "Answer briefly.", output: "comment" as const, result: "text" as const } };

function openai(retries = 3, idleTimeoutMs = IDLE_MS) {
  const h = harness(
    { OPENAI_API_KEY: "sk-test-openai-abcdefghijklmnop", OPENAI_BASE_URL: suite.server.baseURL },
    createInMemoryRepoReader({ files: { "src/a.ts": "a" } }),
    { http: { idleTimeoutMs }, retry: { retries, baseDelayMs: 100 }, limits: { openai: { requestsPerMinute: 60_000 } } },
  );
  return suite.track(h);
}

const messages = (progress: AgentProgress[]) => progress.flatMap((p) => (p.message === undefined ? [] : [p.message]));

describe("idle timeout", { timeout: 30_000 }, () => {
  it("a model that sends headers then stalls, and one that never answers, are cut off and retried; the user hears it", async () => {
    const h = openai();
    suite.server.expect("openai.responses", { kind: "hang" }, { kind: "silent" }, { kind: "text", text: "finally" });
    const progress: AgentProgress[] = [];
    const out = await h.runner.run(request({ step: { role: "triage", output: "comment" }, customRoles, progress }));
    expect(out.text).toBe("finally");
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(3);
    // both silent requests were aborted: their sockets closed at the server
    await suite.server.waitForHangClosed();
    await expect.poll(() => suite.server.hangsClosed, { timeout: 5_000 }).toBe(2);
    expect(messages(progress)).toEqual(["the model stopped responding; retrying (2/4)", "the model stopped responding; retrying (3/4)"]);
    // the check run's live tail shows the same words
    expect(progress.filter((p) => p.message !== undefined).map((p) => p.tail)).toEqual(messages(progress));
  });

  it("a model that never answers fails after the policy's attempts, saying it stopped responding", async () => {
    const h = openai(1);
    suite.server.expect("openai.responses", { kind: "silent" }, { kind: "hang" });
    const progress: AgentProgress[] = [];
    await expect(h.runner.run(request({ step: { role: "triage", output: "comment" }, customRoles, progress }))).rejects.toMatchObject({
      name: "RetriesExhaustedError",
      attempts: 2,
      message: `The model provider openai failed after 2 attempts: openai stopped responding (nothing received for ${IDLE_MS} ms)`,
    });
    expect(messages(progress)).toEqual(["the model stopped responding; retrying (2/2)"]);
  });

  it("a slow stream that keeps sending is not cut off", async () => {
    const h = openai(0, 1_000);
    // about 14 events 120 ms apart: longer than the idle limit in all, never silent for long
    suite.server.expect("openai.responses", { kind: "text", text: "a slow but steady answer", chunkSize: 3, chunkDelayMs: 120 });
    const out = await h.runner.run(request({ step: { role: "triage", output: "comment" }, customRoles }));
    expect(out.text).toBe("a slow but steady answer");
    expect(suite.server.requestsTo("openai.responses")).toHaveLength(1);
  });

  it("a Codegen poll that hangs is cut off and polled again", async () => {
    const h = suite.track(
      harness(
        { OCTOFLOW_MODEL: "codegen:agent", CODEGEN_TOKEN: "cg-secret-token-0123456789", CODEGEN_ORG_ID: "42", CODEGEN_BASE_URL: suite.server.url },
        createInMemoryRepoReader({ files: {} }),
        { http: { idleTimeoutMs: IDLE_MS }, codegen: { pollIntervalMs: 1_000, maxPollIntervalMs: 2_000, timeoutMs: 60_000 }, retry: { retries: 2, baseDelayMs: 100 } },
      ),
    );
    suite.server
      .expect("codegen.create", { kind: "json", body: codegenRun({ id: 77, status: "ACTIVE" }) })
      .always("codegen.logs", { kind: "json", body: codegenLogs(77, "ACTIVE", []) })
      .expect("codegen.get", { kind: "hang" }, { kind: "json", body: codegenRun({ id: 77, status: "completed", result: "done after a stall" }) });
    const progress: AgentProgress[] = [];
    const out = await h.runner.run(request({ progress }));
    expect(out.text).toContain("done after a stall");
    expect(suite.server.requestsTo("codegen.get")).toHaveLength(2);
    expect(messages(progress)).toContain("Codegen stopped responding; retrying (2/3)");
  });
});
