/**
 * Benchmark: wall time of one run of the 7-step / fan-out-3 template with fixed-latency agents,
 * divided by its critical-path time (5 × latency). Target ≤ 1.02 (+ at most 20 ms).
 *
 *   node bench/engine-critical-path.ts [latencyMs=200] [repeats=10]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createEmbeddedQueue } from "../src/queue/embedded-queue.ts";
import { createMemoryRunStore } from "../src/store/memory-run-store.ts";
import { createSqliteRunStore } from "../src/store/sqlite-run-store.ts";
import { createEngine } from "../src/workflows/engine.ts";
import type { ProgressSink, RunStore } from "../src/workflows/ports.ts";
import { benchPlan, benchTrigger, CRITICAL_PATH_STEPS, fixedLatencyAgent } from "./engine-bench-kit.ts";

const latencyMs = Number(process.argv[2] ?? 200);
const repeats = Number(process.argv[3] ?? 10);
const criticalMs = CRITICAL_PATH_STEPS * latencyMs;

async function measure(label: string, store: RunStore): Promise<void> {
  const queue = createEmbeddedQueue({ store, concurrency: 4, pollMs: 1000 });
  let finish: (() => void) | undefined;
  const progress: ProgressSink = { emit: (event) => (event.type === "run.finished" ? finish?.() : undefined) };
  const engine = createEngine({ store, queue, agents: fixedLatencyAgent(latencyMs), progress });
  await queue.start(engine.execute);
  const walls: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const done = new Promise<void>((resolve) => (finish = resolve));
    const started = performance.now();
    await engine.start(benchPlan(i), benchTrigger(i));
    await done;
    walls.push(performance.now() - started);
  }
  await queue.stop();
  await store.close();
  walls.sort((a, b) => a - b);
  const median = walls[Math.floor(walls.length / 2)] ?? 0;
  const worst = walls.at(-1) ?? 0;
  const budget = criticalMs * 1.02 + 20;
  console.log(
    `${label.padEnd(8)} ${median <= budget ? "MET" : "MISSED"} (median ≤ ${budget.toFixed(0)} ms) | critical path ${criticalMs} ms | median wall ${median.toFixed(1)} ms → ratio ${(median / criticalMs).toFixed(4)} (overhead ${(median - criticalMs).toFixed(1)} ms) | worst ${(worst / criticalMs).toFixed(4)} (+${(worst - criticalMs).toFixed(1)} ms)`,
  );
}

console.log(`7-step template, fan-out 3, agent latency ${latencyMs} ms, ${repeats} runs each, start() → run.finished through the embedded queue`);
await measure("memory", createMemoryRunStore());
const dir = mkdtempSync(join(tmpdir(), "octoflow-bench-"));
await measure("sqlite", createSqliteRunStore({ path: join(dir, "bench.db") }));
rmSync(dir, { recursive: true, force: true });
console.log("target: wall ≤ 1.02 × critical path + 20 ms");
