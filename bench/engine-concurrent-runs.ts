/**
 * Benchmark: 1,000 (or 10,000) concurrent runs of the 7-step / fan-out-3 template in one process,
 * with fixed-latency fake agents. Reports peak RSS and event-loop lag p99 / max, for the in-memory
 * and the SQLite store. Targets: 1,000 runs ≤ 400 MB; 10,000 runs ≤ 1 GB; lag p99 ≤ 50 ms, max ≤ 200 ms.
 *
 *   node bench/engine-concurrent-runs.ts [runs=1000] [latencyMs=500] [memory|sqlite|both]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createEmbeddedQueue } from "../src/queue/embedded-queue.ts";
import { createMemoryRunStore } from "../src/store/memory-run-store.ts";
import { createSqliteRunStore } from "../src/store/sqlite-run-store.ts";
import { createEngine } from "../src/workflows/engine.ts";
import type { ProgressSink, RunStore } from "../src/workflows/ports.ts";
import { benchPlan, benchTrigger, CRITICAL_PATH_STEPS, fixedLatencyAgent, mb } from "./engine-bench-kit.ts";

const runs = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 500);
const which = process.argv[4] ?? "both";
const targets = `targets: peak RSS ≤ ${runs > 1000 ? "1 GB" : "400 MB"}, event-loop lag p99 ≤ 50 ms, max ≤ 200 ms`;

async function measure(label: string, store: RunStore): Promise<void> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const queue = createEmbeddedQueue({ store, concurrency: runs, pollMs: 200, leaseMs: 120_000 });
  let finished = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const progress: ProgressSink = {
    emit: (event) => {
      if (event.type === "run.finished" && ++finished === runs) allDone();
    },
  };
  const engine = createEngine({ store, queue, agents: fixedLatencyAgent(latencyMs), progress });
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const started = performance.now();
  await queue.start(engine.execute);
  const plans = Array.from({ length: runs }, (_, i) => benchPlan(i));
  await Promise.all(plans.map((plan, i) => engine.start(plan, benchTrigger(i))));
  await done;
  const wall = performance.now() - started;
  lag.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await queue.stop();
  await store.close();
  const p99 = lag.percentile(99) / 1e6;
  const max = lag.max / 1e6;
  console.log(
    `${label.padEnd(7)} ${runs} runs × 7 steps in ${(wall / 1000).toFixed(2)} s (critical path ${(CRITICAL_PATH_STEPS * latencyMs) / 1000} s) | peak RSS ${mb(peak)} (baseline ${mb(baseline)}) | event-loop lag p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
  );
}

if (which === "both") {
  // One process per store, so each starts from a clean heap and RSS.
  console.log(`${runs} concurrent runs, agent latency ${latencyMs} ms, embedded queue with ${runs} workers`);
  for (const store of ["memory", "sqlite"]) {
    spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(runs), String(latencyMs), store, "--quiet"], { stdio: "inherit" });
  }
  console.log(targets);
  process.exit(0);
}
const quiet = process.argv.includes("--quiet");
if (!quiet) console.log(`${runs} concurrent runs, agent latency ${latencyMs} ms, embedded queue with ${runs} workers`);
if (which === "memory") await measure("memory", createMemoryRunStore());
if (which === "sqlite") {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-bench-"));
  await measure("sqlite", createSqliteRunStore({ path: join(dir, "bench.db") }));
  rmSync(dir, { recursive: true, force: true });
}
if (!quiet) console.log(targets);
