/**
 * Tool-loop overhead (DESIGN D12): a 20-round step — 19 rounds in which the model reads a file with
 * `read_file`, then a final JSON answer — against a fake model (OpenAI Chat Completions wire format,
 * in its own process) that waits a fixed latency before each answer. Printed side by side in one run:
 *
 *   loop ÷ (20 × latency)     the figure (target ≤ 1.05)
 *   loop ÷ 20 raw calls       the same 20 answers fetched with bare `fetch` (network + fake server floor)
 *
 * The loop is the whole `AgentRunner.run`: opening brief, instructions, per-round `callModel`
 * (limiter, breaker, retry, span, metrics), tool execution over an in-memory workspace view, fenced
 * results appended to a growing conversation. Medians over REPEATS runs after a warm-up.
 *
 *   node bench/agents-tool-loop.ts            # LATENCY (ms, default 100), REPEATS (default 7)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Writable } from "node:stream";
import { createInterface } from "node:readline";
import { createAgentRunner } from "../src/agents/agent-runner.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { createHttpPool } from "../src/resilience/http-agent-pool.ts";
import type { ConversationMessage, RepoReader } from "../src/workflows/ports.ts";
import { asRunId, asStepId, type PlannedStep } from "../src/workflows/types.ts";
import { createMemoryWorkspaces } from "../test/fakes/memory-workspace.ts";
import { startModelServer, toolCalls, toolResultsIn } from "../test/fakes/model-server.ts";

const ROUNDS = 20;
const LATENCY = Number(process.env["LATENCY"] ?? 100);
const REPEATS = Number(process.env["REPEATS"] ?? 7);

// a repository of 60 files of ≈ 40 lines
const FILES: Record<string, string> = {};
for (let i = 0; i < 60; i++) FILES[`src/module-${i}.ts`] = Array.from({ length: 40 }, (_, l) => `export const value${i}_${l} = ${l}; // line ${l + 1}`).join("\n") + "\n";

// server mode: the fake model in its own process, so its timers do not share our event loop
if (process.argv[2] === "--serve") {
  const server = await startModelServer();
  server.always("openai.chat", {
    kind: "respond",
    answer: (r) => {
      const done = toolResultsIn(r.body).length;
      if (done < ROUNDS - 1) return { ...toolCalls([{ name: "read_file", input: { path: `src/module-${done % 60}.ts` } }]), delayMs: LATENCY };
      return { kind: "text", text: JSON.stringify({ summary: `read ${done} files`, edits: [] }), delayMs: LATENCY };
    },
  });
  console.log(server.baseURL);
  process.stdin.resume();
  process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
} else {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve"], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, LATENCY: String(LATENCY) } });
  const [baseURL] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];

  const reader: RepoReader = {
    listFiles: async () => ({ paths: Object.keys(FILES).sort(), truncated: false }),
    readFile: async (path) => FILES[path],
    pullRequestDiff: async () => "",
    thread: async () => ({ title: "Read the modules", body: "Summarise what the modules export.", comments: [] }),
  };
  const messages = new Map<string, ConversationMessage[]>();
  const runner = createAgentRunner({
    env: { OCTOFLOW_MODEL: "openai:gpt-4.1-mini", OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: baseURL, CODEGEN_BASE_URL: "https://api.codegen.com" },
    openaiApi: "chat",
    store: {
      appendMessage: async (key, m) => void messages.set(key, [...(messages.get(key) ?? []), m]),
      listMessages: async () => [],
      getMarker: async () => undefined,
      setMarker: async () => undefined,
    },
    repoReaderFor: () => reader,
    workspaces: createMemoryWorkspaces(FILES),
    metrics: createMetrics({ defaults: false }),
    log: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) }),
    limits: { openai: { requestsPerMinute: 1e7, tokensPerMinute: 1e10 } },
    toolLimits: { maxRounds: ROUNDS },
  });
  const step: PlannedStep = { id: asStepId("implement"), name: "implement", role: "generate", prompt: "Read the modules", needs: [], retries: 0, timeoutMs: 600_000, output: "pull_request" };
  const loop = async () => {
    const out = await runner.run({
      runId: asRunId(`bench-${Math.random()}`),
      step,
      plan: { workflow: "bench", description: "", steps: [step], inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} },
      prompt: step.prompt,
      trigger: { kind: "manual", repo: { owner: "o", name: "r", defaultBranch: "main" }, number: 1, isPullRequest: false, actor: "a", inputs: {} },
      upstream: {},
      attempt: 1,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
    if (out.data?.["toolRounds"] !== ROUNDS) throw new Error(`expected ${ROUNDS} rounds, got ${String(out.data?.["toolRounds"])}`);
  };

  // the floor: the same 20 answers fetched with bare fetch on a keep-alive pool
  const pool = createHttpPool();
  const fetcher = pool.fetchFor("raw");
  const raw = async () => {
    const tool = { role: "tool", tool_call_id: "x", content: "r" };
    for (let i = 0; i < ROUNDS; i++) {
      const body = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }, ...Array.from({ length: i }, () => tool)] });
      const response = await fetcher(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const r = response.body!.getReader();
      for (;;) if ((await r.read()).done) break;
    }
  };

  const time = async (f: () => Promise<void>) => {
    const started = performance.now();
    await f();
    return performance.now() - started;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  await loop();
  await raw();
  const loops: number[] = [];
  const raws: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    if (i % 2 === 0) {
      loops.push(await time(loop));
      raws.push(await time(raw));
    } else {
      raws.push(await time(raw));
      loops.push(await time(loop));
    }
  }
  const ideal = ROUNDS * LATENCY;
  const l = median(loops);
  const r = median(raws);
  console.log(`tool loop, ${ROUNDS} rounds, model latency ${LATENCY} ms, median of ${REPEATS}`);
  console.log(`  loop            ${l.toFixed(0)} ms   (${((l - ideal) / ROUNDS).toFixed(2)} ms per round above the latency)`);
  console.log(`  20 raw calls    ${r.toFixed(0)} ms`);
  console.log(`  loop ÷ (20 × latency) = ${(l / ideal).toFixed(3)}   (target ≤ 1.05)`);
  console.log(`  loop ÷ 20 raw calls   = ${(l / r).toFixed(3)}`);
  await runner.close();
  await pool.close();
  child.stdin!.end();
  await once(child, "exit");
}
