/**
 * Benchmark: what parked runs cost (DESIGN D14) and how fast a wake-up starts the fix step.
 *
 * 1. Memory: N runs (default 1,000) of generate → verify (CI) park in a SQLite file; then two fresh
 *    processes idle over the same engine set-up — one over the store holding the N parked runs, one
 *    over an empty store — and report RSS and V8 heap after GC and event-loop lag p99 / max, side by
 *    side. Target: all parked runs together < 1 MB of RSS above the empty baseline.
 * 2. Wake → fix step started: M parked runs (default 200) are woken one by one by the CI-failed event
 *    (`Engine.wakeWaiting`, what the webhook handler calls); each measures the time until its fix
 *    row's `step.started`. Target p99 ≤ 1 s on loopback. (The webhook's own acknowledgement and inbox
 *    hop are measured by `github-webhook-ack.ts`.)
 *
 *   node --expose-gc bench/engine-parked-runs.ts [runs=1000] [wakes=200]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createEmbeddedQueue } from "../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../src/store/sqlite-run-store.ts";
import { workflow } from "../src/workflows/builder.ts";
import { createEngine } from "../src/workflows/engine.ts";
import { planRun } from "../src/workflows/plan.ts";
import type { GateResult, ProgressSink, RunOutputs, StepGates } from "../src/workflows/ports.ts";
import { asStepId, type PlannedStep, type RunPlan } from "../src/workflows/types.ts";
import { benchTrigger, fixedLatencyAgent, mb, percentile } from "./engine-bench-kit.ts";

const runs = Number(process.argv[2] ?? (process.env["QUICK"] ? 300 : 1000));
const wakes = Number(process.argv[3] ?? (process.env["QUICK"] ? 50 : 200));
const mode = process.argv[4] ?? "main";
const none = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

/** CI that is pending until told: `red` holds the commits whose CI failed. */
function ci(red: Set<string>): { gates: StepGates; outputs: RunOutputs } {
  return {
    outputs: {
      deliver: async () => ({ results: [], notes: [], findings: 0 }),
      push: async (run, steps) => ({ sha: `${run.id}-${steps.filter((s) => s.status === "succeeded").length}`, branch: "octoflow/bench" }),
    },
    gates: {
      async check(request): Promise<GateResult> {
        const sha = request.head?.sha ?? "none";
        if (red.has(sha)) return { kind: "failed", error: `CI failed on ${sha}`, output: { text: `CI failed on ${sha}: test failed`, usage: none, costUsd: 0 } };
        return { kind: "wait", key: `ci:${sha}`, message: `waiting for CI on ${sha}`, wakeAt: Date.now() + 3_600_000 };
      },
    },
  };
}

const ciRow = (id: string, needs: string, iteration: number, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id: asStepId(id), name: id, role: "ci", prompt: "", needs: [asStepId(needs)], retries: 0, timeoutMs: 7_200_000, output: "none",
  uses: { kind: "ci", noChecksAfterMs: 600_000 }, loop: { id: "verify", iteration, max: 1, kind: "verify" }, ...extra,
});

/** generate → verify-1 → fix-1 (when verify-1 failed) → verify-2 */
function parkPlan(n: number): RunPlan {
  const plan = planRun(workflow("bench-park").step({ id: "generate", role: "generate", prompt: "implement" }).step({ id: "verify-fix-1", role: "generate", prompt: "fix" }).build(), benchTrigger(n));
  const fix = { ...(plan.steps[1] as PlannedStep), needs: [asStepId("verify-1")], if: "steps.verify-1.status == 'failed'", loop: { id: "verify", iteration: 1, max: 1, kind: "fix" as const } };
  plan.steps = [plan.steps[0] as PlannedStep, ciRow("verify-1", "generate", 1), fix, ciRow("verify-2", "verify-fix-1", 2)];
  return plan;
}

function setUp(path: string, red = new Set<string>(), progress?: ProgressSink) {
  const store = createSqliteRunStore({ path });
  const queue = createEmbeddedQueue({ store, concurrency: 16, pollMs: 500, leaseMs: 60_000 });
  const { gates, outputs } = ci(red);
  const engine = createEngine({ store, queue, agents: fixedLatencyAgent(0), gates, outputs, ...(progress ? { progress } : {}) });
  return { store, queue, engine };
}

async function park(path: string, count: number, progress?: ProgressSink): Promise<ReturnType<typeof setUp> & { red: Set<string> }> {
  let parked = 0;
  let allParked: () => void = () => {};
  const done = new Promise<void>((resolve) => (allParked = resolve));
  const sink: ProgressSink = {
    emit(event, run) {
      if (event.type === "run.waiting" && ++parked === count) allParked();
      return progress?.emit(event, run);
    },
  };
  const red = new Set<string>();
  const world = setUp(path, red, sink);
  await world.queue.start(world.engine.execute);
  for (let i = 0; i < count; i++) await world.engine.start(parkPlan(i), benchTrigger(i));
  await done;
  return Object.assign(world, { red });
}

/** A fresh process idling over `path`: prints one JSON line with RSS, heap and lag. */
async function idle(path: string): Promise<void> {
  const world = setUp(path);
  await world.queue.start(world.engine.execute);
  await world.engine.resumeUnfinished();
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  await new Promise((r) => setTimeout(r, 3000));
  lag.disable();
  global.gc?.();
  await new Promise((r) => setTimeout(r, 100));
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  // counted after measuring: reading 1,000 runs is what the idle process must not have to do
  const waiting = (await world.store.listRuns({ status: "waiting", limit: 100_000 })).length;
  console.log(JSON.stringify({ waiting, rss, heapUsed, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 }));
  await world.queue.stop();
  await world.store.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-park-bench-"));
  try {
    // 1. memory held by parked runs, each side in a fresh process
    const parkedDb = join(dir, "parked.db");
    const world = await park(parkedDb, runs);
    await world.queue.stop();
    await world.store.close();
    const measure = (db: string) => {
      const out = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "0", "0", `idle:${db}`], { encoding: "utf8" });
      const line = out.stdout.trim().split("\n").at(-1) ?? "{}";
      return JSON.parse(line) as { waiting: number; rss: number; heapUsed: number; p99: number; max: number };
    };
    const empty = measure(join(dir, "empty.db"));
    const full = measure(parkedDb);
    console.log(`memory of parked runs (fresh process over the store, after GC, 3 s idle):`);
    console.log(`  0 parked      | RSS ${mb(empty.rss)} | heap ${mb(empty.heapUsed)} | lag p99 ${empty.p99.toFixed(1)} ms, max ${empty.max.toFixed(1)} ms`);
    console.log(`  ${String(full.waiting).padEnd(5)} parked  | RSS ${mb(full.rss)} | heap ${mb(full.heapUsed)} | lag p99 ${full.p99.toFixed(1)} ms, max ${full.max.toFixed(1)} ms`);
    console.log(`  difference: RSS ${((full.rss - empty.rss) / 1024).toFixed(0)} KB, heap ${((full.heapUsed - empty.heapUsed) / 1024).toFixed(0)} KB for ${full.waiting} parked runs (target: < 1024 KB RSS)`);

    // 2. wake → fix step started
    const started = new Map<string, number>();
    const wokenAt = new Map<string, number>();
    const latencies: number[] = [];
    let resolveOne: () => void = () => {};
    const wakeDb = join(dir, "wake.db");
    const waker = await park(wakeDb, wakes, {
      emit(event) {
        if (event.type === "step.started" && event.stepId === "verify-fix-1" && wokenAt.has(event.runId)) {
          started.set(event.runId, performance.now());
          latencies.push(performance.now() - (wokenAt.get(event.runId) as number));
          resolveOne();
        }
      },
    });
    const parkedRuns = await waker.store.listRuns({ status: "waiting", limit: 100_000 });
    for (const run of parkedRuns) {
      const key = run.waiting?.keys[0] as string;
      waker.red.add(key.slice("ci:".length));
      const next = new Promise<void>((resolve) => (resolveOne = resolve));
      wokenAt.set(run.id, performance.now());
      await waker.engine.wakeWaiting("bench/repo", key);
      await next;
    }
    await waker.queue.stop();
    await waker.store.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`CI failed event → fix step started (${latencies.length} wake-ups one after another, SQLite, embedded queue): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms (target p99 ≤ 1000 ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (mode.startsWith("idle:")) await idle(mode.slice("idle:".length));
else await main();
