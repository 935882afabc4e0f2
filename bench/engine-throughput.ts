/**
 * Benchmark: persisted-event throughput — steps completed per second on SQLite with zero-latency
 * agents (every step persists its transitions and events). Higher is better.
 *
 *   node bench/engine-throughput.ts [runs=300] [queueConcurrency=32]
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
import { benchPlan, benchTrigger, fixedLatencyAgent } from "./engine-bench-kit.ts";

const runs = Number(process.argv[2] ?? 300);
const concurrency = Number(process.argv[3] ?? 32);

async function measure(label: string, store: RunStore): Promise<void> {
  const queue = createEmbeddedQueue({ store, concurrency, pollMs: 50 });
  let finished = 0;
  let events = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const progress: ProgressSink = {
    emit: (event) => {
      events++;
      if (event.type === "run.finished" && ++finished === runs) allDone();
    },
  };
  const agents = fixedLatencyAgent(0);
  const engine = createEngine({ store, queue, agents, progress });
  const plans = Array.from({ length: runs }, (_, i) => benchPlan(i));
  const started = performance.now();
  await queue.start(engine.execute);
  await Promise.all(plans.map((plan, i) => engine.start(plan, benchTrigger(i))));
  await done;
  const seconds = (performance.now() - started) / 1000;
  await queue.stop();
  await store.close();
  console.log(
    `${label.padEnd(7)} ${runs} runs, ${agents.calls} steps in ${seconds.toFixed(2)} s → ${(agents.calls / seconds).toFixed(0)} steps/s, ${(events / seconds).toFixed(0)} persisted events/s, ${(runs / seconds).toFixed(1)} runs/s`,
  );
}

console.log(`zero-latency agents, 7-step template, embedded queue with ${concurrency} workers`);
const dir = mkdtempSync(join(tmpdir(), "octoflow-bench-"));
await measure("sqlite", createSqliteRunStore({ path: join(dir, "bench.db") }));
rmSync(dir, { recursive: true, force: true });
await measure("memory", createMemoryRunStore());
