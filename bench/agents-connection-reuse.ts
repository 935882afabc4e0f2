/**
 * Connection reuse: 200 sequential agent calls per provider through the full runner (context,
 * resilience, AI SDK, keep-alive pool) against the local model server; prints requests per TCP
 * connection. Target: all 200 on one connection per provider.
 *
 *   node bench/agents-connection-reuse.ts
 */
import { createAgentRunner } from "../src/agents/agent-runner.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { asRunId, asStepId, type PlannedStep } from "../src/workflows/types.ts";
import type { ConversationMessage } from "../src/workflows/ports.ts";
import { startModelServer, type ModelRoute } from "../test/fakes/model-server.ts";

const CALLS = Number(process.env["CALLS"] ?? 200);
const cases: { provider: string; model: string; route: ModelRoute; openaiApi?: "chat" | "responses" }[] = [
  { provider: "openai (responses)", model: "openai:gpt-4.1-mini", route: "openai.responses" },
  { provider: "openai (chat)", model: "openai:gpt-4.1-mini", route: "openai.chat", openaiApi: "chat" },
  { provider: "anthropic", model: "anthropic:claude-sonnet-4-5", route: "anthropic.messages" },
  { provider: "openai-compatible", model: "openai-compatible:llama3.1", route: "openai.chat" },
];

for (const c of cases) {
  const server = await startModelServer();
  server.always(c.route, { kind: "text", text: "A short streamed answer from the fake model.", chunkSize: 8 });
  const messages = new Map<string, ConversationMessage[]>();
  const runner = createAgentRunner({
    env: {
      OCTOFLOW_MODEL: c.model,
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: server.baseURL,
      ANTHROPIC_API_KEY: "sk-bench",
      ANTHROPIC_BASE_URL: server.baseURL,
      OPENAI_COMPATIBLE_BASE_URL: server.baseURL,
      CODEGEN_BASE_URL: "https://api.codegen.com",
    },
    store: {
      appendMessage: async (k, m) => void messages.set(k, [...(messages.get(k) ?? []), m]),
      listMessages: async (k) => messages.get(k) ?? [],
      getMarker: async () => undefined,
      setMarker: async () => undefined,
    },
    repoReaderFor: () => ({
      listFiles: async () => ({ paths: ["src/a.ts"], truncated: false }),
      readFile: async () => "export const a = 1;",
      pullRequestDiff: async () => "",
      thread: async () => ({ title: "t", body: "b", comments: [] }),
    }),
    metrics: createMetrics({ defaults: false }),
    log: createLogger({ level: "silent" }),
    limits: { openai: { requestsPerMinute: 1e6 }, anthropic: { requestsPerMinute: 1e6 }, "openai-compatible": { requestsPerMinute: 1e6 } },
    ...(c.openaiApi ? { openaiApi: c.openaiApi } : {}),
  });
  const step: PlannedStep = { id: asStepId("s"), name: "s", role: "note", prompt: "Say something", needs: [], retries: 0, timeoutMs: 60_000, output: "comment" };
  const plan = { workflow: "bench", description: "", steps: [step], inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: { note: { name: "note", systemPrompt: "Be brief.", output: "comment" as const, result: "text" as const } } };
  for (let i = 0; i < CALLS; i++) {
    await runner.run({
      runId: asRunId(`r${i}`),
      step,
      plan,
      prompt: step.prompt,
      trigger: { kind: "cli", repo: { owner: "o", name: "r", defaultBranch: "main" }, number: i, isPullRequest: false, actor: "bench", inputs: {} },
      upstream: {},
      attempt: 1,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
  }
  const perConnection = server.requestsPerConnection();
  console.log(`${c.provider.padEnd(20)} ${CALLS} calls over ${server.connections} TCP connection(s): ${perConnection.join(", ")} requests per connection (${(CALLS / server.connections).toFixed(0)} req/conn)`);
  await runner.close();
  await server.close();
}
