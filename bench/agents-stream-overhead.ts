/**
 * Overhead per streamed call, side by side in one run, against the same SSE stream (OpenAI Chat
 * Completions, 57 content events + finish + usage + [DONE]) served by a model server in its own
 * process, all clients on the same kind of keep-alive pool:
 *
 *   (a) raw fetch     — `fetch` that reads the SSE bytes and nothing else
 *   (b) fetch + parse — (a) plus the least any client must do: decode, split events, `JSON.parse`
 *                        every `data:` line, concatenate the content deltas, read the usage
 *   (c) AI SDK        — `streamText` over `@ai-sdk/openai` alone, consuming `fullStream`, with an
 *                        `AbortSignal` (every real call must be cancellable; the signal alone costs
 *                        ≈ 0.2 ms of CPU per call inside undici and the SDK)
 *   (d) Octoflow      — our whole provider call: `callModel` (span, limiter, breaker, retry, metrics,
 *                        price, coalesced progress) over our `ModelProvider` (`streamText` inside)
 *
 * Ratios (d)/(a) (the target: ≤ 1.1), (d)/(b) and (d)/(c) (our own share). Two shapes: a
 * burst (all events in one write: pure client CPU, the worst case) and a paced stream (2 ms
 * between events, like a fast real model), plus a structured-output burst (a JSON answer validated
 * against a zod schema, as the review and edit roles ask for). Wall time per call and client CPU per call
 * (`process.cpuUsage`, the server is another process) are both medians over blocks run in
 * alternating order (a b c d, then d c b a, …) after a warm-up.
 *
 *   node bench/agents-stream-overhead.ts            # ROUNDS, BLOCK, PACED_ROUNDS, PACED_BLOCK override
 */
import { createOpenAI } from "@ai-sdk/openai";
import { Output, streamText } from "ai";
import { z } from "zod";
import { callModel, type ModelCallContext } from "../src/agents/model-call.ts";
import { costOf, DEFAULT_PRICES, priceFor } from "../src/agents/price-table.ts";
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

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(20); // 900 chars, 57 events of 16 chars

type Variant = { key: "a" | "b" | "c" | "d"; label: string; run: () => Promise<void> };

async function measure(shape: { name: string; reply: Reply; rounds: number; block: number; warmup: number; schema?: z.ZodType }) {
  const schema = shape.schema;
  const server = await serve(shape.reply);
  const pools = [createHttpPool(), createHttpPool(), createHttpPool(), createHttpPool()];
  const [fetchA, fetchB, fetchC, fetchD] = pools.map((p) => p.fetchFor("openai")) as [typeof fetch, typeof fetch, typeof fetch, typeof fetch];
  const body = JSON.stringify({ model: "gpt-4.1-mini", messages: [{ role: "system", content: "s" }, { role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
  const post = (f: typeof fetch) => f(`${server.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-bench" }, body });

  // (a) the bytes and nothing else
  const raw = async () => {
    const reader = (await post(fetchA)).body!.getReader();
    for (;;) if ((await reader.read()).done) break;
  };

  // (b) the minimum any client must do with those bytes
  let sink = 0;
  const rawParse = async () => {
    const reader = (await post(fetchB)).body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let text = "";
    let outputTokens = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[]; usage?: { completion_tokens?: number } };
        const delta = chunk.choices?.[0]?.delta?.content;
        if (delta) text += delta;
        if (chunk.usage) outputTokens = chunk.usage.completion_tokens ?? 0;
      }
    }
    sink += text.length + outputTokens;
  };

  // (c) the AI SDK alone, called as any cancellable caller must (SDK retries off, errors read from the stream)
  const openai = createOpenAI({ apiKey: "sk-bench", baseURL: server.baseURL, fetch: fetchC });
  const sdk = async () => {
    const settings = { model: openai.chat("gpt-4.1-mini"), system: "s", messages: [{ role: "user" as const, content: "hi" }], maxRetries: 0, abortSignal: new AbortController().signal, onError: () => undefined };
    const result = schema ? streamText({ ...settings, output: Output.object({ schema }) }) : streamText(settings);
    let text = "";
    for await (const part of result.fullStream) if (part.type === "text-delta") text += part.text;
    sink += text.length;
    if (schema) sink += JSON.stringify(await result.output).length;
  };

  // (d) our whole provider call
  const provider = createAiSdkProvider({ kind: "openai", apiKey: "sk-bench", baseURL: server.baseURL, fetch: fetchD, openaiApi: "chat" });
  const metrics = createMetrics({ defaults: false });
  const resilience = createProviderResilience({ clock: systemClock, metrics, limits: { openai: { requestsPerMinute: 1e7, tokensPerMinute: 1e9 } } });
  const price = priceFor(DEFAULT_PRICES, "openai", "gpt-4.1-mini");
  const ctx: ModelCallContext = {
    provider,
    resilience,
    metrics,
    log: createLogger({ level: "silent" }),
    clock: systemClock,
    role: "bench",
    onProgress: () => undefined,
    progressIntervalMs: 250,
    costOf: (usage) => costOf(usage, price),
  };
  const full = async () => {
    const out = await callModel(ctx, { model: "gpt-4.1-mini", system: "s", messages: [{ role: "user", content: "hi" }], signal: new AbortController().signal, ...(schema ? { schema } : {}) });
    sink += out.text.length;
  };

  const variants: Variant[] = [
    { key: "a", label: "(a) raw fetch", run: raw },
    { key: "b", label: "(b) fetch + SSE/JSON parse", run: rawParse },
    { key: "c", label: schema ? "(c) AI SDK streamText+Output" : "(c) AI SDK streamText", run: sdk },
    { key: "d", label: "(d) Octoflow callModel", run: full },
  ];
  for (let i = 0; i < shape.warmup; i++) for (const v of variants) await v.run();

  const wall = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  for (let round = 0; round < shape.rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < shape.block; i++) await v.run();
      const ms = (performance.now() - t0) / shape.block;
      const c = process.cpuUsage(c0);
      wall.get(v.key)!.push(ms);
      cpu.get(v.key)!.push((c.user + c.system) / 1000 / shape.block);
    }
  }
  resilience.close();
  await Promise.all(pools.map((p) => p.close()));
  await server.stop();
  if (sink < 0) console.log(sink); // keeps the parse results alive

  const w = (k: string) => median(wall.get(k)!);
  const u = (k: string) => median(cpu.get(k)!);
  console.log(`\n${shape.name} — ${shape.rounds} rounds × ${shape.block} calls per variant, medians per call`);
  console.log(`  ${"variant".padEnd(30)} ${"wall ms".padStart(9)} ${"CPU ms".padStart(8)}`);
  for (const v of variants) console.log(`  ${v.label.padEnd(30)} ${w(v.key).toFixed(3).padStart(9)} ${u(v.key).toFixed(3).padStart(8)}`);
  const ratio = (x: string, y: string) => `${(w(x) / w(y)).toFixed(2)} wall, ${(u(x) / u(y)).toFixed(2)} CPU`;
  console.log(`  (d)/(a) ${ratio("d", "a")}   ← target ≤ 1.1 (wall)`);
  console.log(`  (d)/(b) ${ratio("d", "b")}`);
  console.log(`  (d)/(c) ${ratio("d", "c")}   ← our whole layer vs the SDK called plainly`);
  console.log(`  (c)/(a) ${ratio("c", "a")}`);
}

async function main() {
  await measure({ name: "burst (57 events in one write)", reply: { kind: "text", text: TEXT }, rounds: env("ROUNDS", 15), block: env("BLOCK", 20), warmup: 30 });
  await measure({ name: "paced (2 ms between events)", reply: { kind: "text", text: TEXT, chunkDelayMs: 2 }, rounds: env("PACED_ROUNDS", 6), block: env("PACED_BLOCK", 5), warmup: 3 });
  // structured output (what review and generate roles ask for): an 8.6 kB JSON answer in 541 events,
  // burst; (c) and (d) parse and validate it against the schema at the end, (b) only JSON.parses the events
  const item = { path: "src/file.ts", body: "The quick brown fox jumps over the lazy dog. ".repeat(4) };
  const json = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ ...item, path: `src/file-${i}.ts` })) });
  const schema = z.object({ items: z.array(z.object({ path: z.string(), body: z.string() })) });
  await measure({ name: "structured (8.6 kB JSON, 541 events, burst)", reply: { kind: "text", text: json }, rounds: env("STRUCTURED_ROUNDS", 8), block: env("STRUCTURED_BLOCK", 5), warmup: 5, schema });
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
