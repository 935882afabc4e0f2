/**
 * Overhead per streamed call: the full provider path (resilience: limiter + breaker + retry, AI SDK
 * streaming and parsing, coalesced progress) versus a raw `fetch` that reads the same SSE stream
 * from the same keep-alive pool. Two shapes: a burst (all events at once: pure client CPU, worst
 * case) and a paced stream (2 ms between events, like a fast real model). Target ratio ≤ 1.1.
 *
 *   node bench/agents-stream-overhead.ts
 */
import { callModel } from "../src/agents/model-call.ts";
import { createAiSdkProvider } from "../src/agents/providers/ai-sdk-provider.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { createHttpPool } from "../src/resilience/http-agent-pool.ts";
import { createProviderResilience } from "../src/resilience/provider-resilience.ts";
import { systemClock } from "../src/workflows/ports.ts";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { startModelServer, type Reply } from "../test/fakes/model-server.ts";

async function serve(reply: Reply): Promise<{ baseURL: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve", JSON.stringify(reply)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const [baseURL] = (await once(lines, "line")) as [string];
  return {
    baseURL,
    stop: async () => {
      child.stdin!.end();
      await once(child, "exit");
    },
  };
}

const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const BLOCK = Number(process.env["BLOCK"] ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(20); // ~900 chars, 57 events of 16 chars

async function main() {
for (const shape of [
  { name: "burst (all events at once)", reply: { kind: "text", text: TEXT } satisfies Reply },
  { name: "paced (2 ms between events)", reply: { kind: "text", text: TEXT, chunkDelayMs: 2 } satisfies Reply },
]) {
  const server = await serve(shape.reply);
  const pool = createHttpPool();
  const fetch = pool.fetchFor("openai");
  const provider = createAiSdkProvider({ kind: "openai", apiKey: "sk-bench", baseURL: server.baseURL, fetch, openaiApi: "chat" });
  const metrics = createMetrics({ defaults: false });
  const resilience = createProviderResilience({ clock: systemClock, metrics, limits: { openai: { requestsPerMinute: 1e7 } } });
  const ctx = { provider, resilience, metrics, log: createLogger({ level: "silent" }), clock: systemClock, role: "bench", onProgress: () => undefined, progressIntervalMs: 250 };
  const body = JSON.stringify({ model: "gpt-4.1-mini", messages: [{ role: "system", content: "s" }, { role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });

  const raw = async () => {
    const response = await fetch(`${server.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-bench" }, body });
    const reader = response.body!.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  };
  const full = async () => {
    await callModel(ctx, { model: "gpt-4.1-mini", system: "s", messages: [{ role: "user", content: "hi" }], signal: new AbortController().signal });
  };
  for (let i = 0; i < 10; i++) {
    await raw();
    await full();
  }
  // alternating blocks so machine drift affects both sides; the median block is reported
  const block = async (f: () => Promise<void>) => {
    const t = performance.now();
    for (let i = 0; i < BLOCK; i++) await f();
    return (performance.now() - t) / BLOCK;
  };
  const rawBlocks: number[] = [];
  const fullBlocks: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rawBlocks.push(await block(raw));
    fullBlocks.push(await block(full));
  }
  const rawMs = median(rawBlocks);
  const fullMs = median(fullBlocks);
  console.log(`${shape.name.padEnd(28)} raw fetch ${rawMs.toFixed(2)} ms/call, provider path ${fullMs.toFixed(2)} ms/call → ratio ${(fullMs / rawMs).toFixed(2)}`);
  resilience.close();
  await pool.close();
  await server.stop();
}
}

// server mode: the model server runs in its own process so its timers do not share our event loop
if (process.argv[2] === "--serve") {
  const server = await startModelServer();
  server.always("openai.chat", JSON.parse(process.argv[3] ?? "{}") as Reply);
  console.log(server.baseURL);
  process.stdin.resume();
  process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}
