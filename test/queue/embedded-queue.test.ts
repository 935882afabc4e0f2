import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedQueue } from "../../src/queue/embedded-queue.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { systemClock, type Clock, type RunStore } from "../../src/workflows/ports.ts";
import type { RunId, RunRecord } from "../../src/workflows/types.ts";
import { createScriptedAgent } from "../workflows/fakes/scripted-agent.ts";
import { issueTrigger } from "../workflows/fakes/triggers.ts";
import { until } from "../workflows/fakes/until.ts";
import { sampleRun } from "../store/run-store.contract.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";

/** The store with every `claimJob` recorded: the virtual time it was asked at, and whether it won a job. */
function recordClaims(store: RunStore): { store: RunStore; claims: { at: number; claimed: boolean }[] } {
  const claims: { at: number; claimed: boolean }[] = [];
  return {
    claims,
    store: {
      ...store,
      async claimJob(workerId, now, leaseMs) {
        const job = await store.claimJob(workerId, now, leaseMs);
        claims.push({ at: now, claimed: job !== undefined });
        return job;
      },
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-queue-"));
  dirs.push(dir);
  return join(dir, "octoflow.db");
};

const template = () =>
  workflow("pair")
    .step({ id: "a", role: "generate", prompt: "a" })
    .step({ id: "b", role: "review", prompt: "b" }).needs("a")
    .build();

describe("embedded queue", () => {
  it("runs started runs end to end over SQLite, several at once up to the limit", async () => {
    const store = createSqliteRunStore({ path: tempDb() });
    const queue = createEmbeddedQueue({ store, concurrency: 2, pollMs: 5, leaseMs: 5000 });
    const agents = createScriptedAgent({ a: [{ kind: "block" }] });
    const engine = createEngine({ store, queue, agents });
    await queue.start(engine.execute);
    const runs: RunRecord[] = [];
    for (let i = 1; i <= 3; i++) runs.push(await engine.start(planRun(template(), issueTrigger({ number: i })), issueTrigger({ number: i })));
    await until(() => agents.inFlight === 2, "two runs executing");
    // the third waits in the queue while both slots are taken
    expect((await queue.stats()).depth).toBe(1);
    const allDone = async () => (await Promise.all(runs.map((r) => store.getRun(r.id)))).every((r) => r?.status === "succeeded");
    await until(async () => {
      agents.release("a"); // lets the blocked runs go on; the third starts once a slot is free
      return allDone();
    }, "all three runs succeeded");
    await queue.stop();
    expect(agents.maxConcurrent).toBe(2);
    expect((await store.queueStats(Date.now())).depth).toBe(0);
    expect(queue.running()).toBe(false);
    await store.close();
  });

  it("jobs survive a restart: a job enqueued while no worker runs is executed by the next queue", async () => {
    const path = tempDb();
    const before = createSqliteRunStore({ path });
    const engine = createEngine({ store: before, agents: createScriptedAgent() });
    const run = await engine.start(planRun(template(), issueTrigger()), issueTrigger());
    await before.close();

    const store = createSqliteRunStore({ path });
    const agents = createScriptedAgent();
    const queue = createEmbeddedQueue({ store, pollMs: 5 });
    const next = createEngine({ store, queue, agents });
    await queue.start(next.execute);
    await until(() => agents.callsOf("b").length === 1, "the resumed job");
    await queue.stop();
    expect((await store.getRun(run.id))?.status).toBe("succeeded");
    await store.close();
  });

  it("stop() aborts work that outlives the grace period and releases the job for another worker", async () => {
    const store = createMemoryRunStore();
    const agents = createScriptedAgent({ a: [{ kind: "block" }] });
    const queue = createEmbeddedQueue({ store, pollMs: 5, stopTimeoutMs: 10, leaseMs: 60_000 });
    const engine = createEngine({ store, queue, agents });
    await queue.start(engine.execute);
    const run = await engine.start(planRun(template(), issueTrigger()), issueTrigger());
    await agents.started("a");
    await queue.stop();
    expect(agents.callsOf("a")[0]?.signal.aborted).toBe(true);
    expect((await store.getRun(run.id))?.status).toBe("running");
    const claimed = await store.claimJob("other-worker", Date.now(), 1000);
    expect(claimed?.runId).toBe(run.id);
  });

  it("a wake-up that arrives while the poller is claiming is not lost", async () => {
    const store = createMemoryRunStore();
    const run = sampleRun();
    await store.createRun(run, []);
    const announce: { notify?: () => void } = {};
    let enqueued = false;
    // The job appears (and the queue is told) after the poller looked but before it goes to sleep.
    const racing: RunStore = {
      ...store,
      async claimJob(workerId, now, leaseMs) {
        const job = await store.claimJob(workerId, now, leaseMs);
        if (!job && !enqueued) {
          enqueued = true;
          await store.enqueueJob(run.id, now);
          announce.notify?.();
        }
        return job;
      },
    };
    const handled: RunId[] = [];
    // an idle poll interval far longer than any test: only the wake-up can start the job
    const queue = createEmbeddedQueue({ store: racing, pollMs: 3_600_000 });
    if (queue.notify) announce.notify = queue.notify;
    await queue.start(async (runId) => void handled.push(runId));
    await until(() => handled.length === 1, "the job announced during a claim");
    await queue.stop();
    expect(handled).toEqual([run.id]);
  });

  it("wake-ups leave no sleeping timer or abort listener behind: at most one wait is pending", async () => {
    const store = createMemoryRunStore();
    let pending = 0;
    let maxPending = 0;
    let sleeps = 0;
    const clock: Clock = {
      now: () => Date.now(),
      sleep(ms, signal) {
        sleeps += 1;
        pending += 1;
        maxPending = Math.max(maxPending, pending);
        return systemClock.sleep(ms, signal).finally(() => (pending -= 1));
      },
    };
    const queue = createEmbeddedQueue({ store, clock, pollMs: 3_600_000 });
    await queue.start(async () => undefined);
    for (let i = 0; i < 200; i++) {
      const before = sleeps;
      queue.notify?.();
      await until(() => sleeps > before, "the poller waits again after the wake-up");
    }
    expect(sleeps).toBeGreaterThan(200);
    expect(maxPending).toBe(1);
    await queue.stop();
    expect(pending).toBe(0);
  });

  it("a job whose worker died is claimed again once its lease expires", async () => {
    const store = createMemoryRunStore();
    const run = sampleRun();
    await store.createRun(run, [], { enqueue: true });
    const dead = await store.claimJob("dead-worker", 1_000_000, 50);
    expect(dead?.runId).toBe(run.id);
    const handled: RunId[] = [];
    // virtual time passes only while the poller sleeps between looks: 5 ms per idle poll
    const { store: recording, claims } = recordClaims(store);
    const queue = createEmbeddedQueue({ store: recording, pollMs: 5, leaseMs: 50, clock: createFakeClock({ start: 1_000_010 }) });
    await queue.start(async (runId) => void handled.push(runId));
    await until(() => handled.length === 1, "re-claim after lease expiry");
    await queue.stop();
    expect(handled).toEqual([run.id]);
    const first = claims.findIndex((c) => c.claimed);
    // the poller looked while the dead worker's lease still held, found nothing, and won the job at expiry
    expect(first).toBeGreaterThan(0);
    expect(claims.slice(0, first).every((c) => c.at < 1_000_050)).toBe(true);
    expect(claims[first]?.at).toBeGreaterThanOrEqual(1_000_050);
  });
});

describe("embedded queue: lease loss", () => {
  it("a worker that missed its lease stops executing once another worker claimed the job, and cannot complete it", async () => {
    const store = createMemoryRunStore();
    let now = 1_000_000;
    const clock = { now: () => now, sleep: (ms: number, signal?: AbortSignal) => systemClock.sleep(Math.min(ms, 5), signal) };
    const agents = createScriptedAgent({ b: [{ kind: "block" }] });
    const queue = createEmbeddedQueue({ store, clock, pollMs: 1, leaseMs: 60, workerId: "stale" });
    const engine = createEngine({ store, queue, agents, clock });
    await queue.start(engine.execute);
    const run = await engine.start(planRun(template(), issueTrigger()), issueTrigger());
    await agents.started("b");
    // The stale worker's process stalls past its lease; another worker claims the job meanwhile.
    now += 1_000;
    expect((await store.claimJob("owner", now, 60_000))?.runId).toBe(run.id);
    await until(() => agents.callsOf("b")[0]?.signal.aborted === true, "the stale execution is aborted");
    await until(() => agents.inFlight === 0, "the stale execution wound down");
    // stop() returns once the stale execution's handler has returned: nothing of it is still writing
    await queue.stop();
    // nothing of the stale execution overwrote the state the new owner resumes from
    expect((await store.getRun(run.id))?.status).toBe("running");
    const steps = await store.getSteps(run.id);
    expect(steps.map((s) => s.status)).toEqual(["succeeded", "running"]);
    expect((await store.listEvents(run.id)).some((e) => e.type === "run.finished" || e.type === "step.finished" && e.stepId === "b")).toBe(false);
    // the job is still the owner's: the stale worker neither completed nor released it
    expect(await store.claimJob("third", now + 100, 1000)).toBeUndefined();
    expect(await store.completeJob(run.id, "stale")).toBe(false);
    expect(await store.completeJob(run.id, "owner")).toBe(true);
  });
});

describe("embedded queue: failing handlers", () => {
  it("re-claims a job whose handler threw after its lease expires, and gives up after maxAttempts", async () => {
    const store = createMemoryRunStore();
    const run = sampleRun();
    await store.createRun(run, [], { enqueue: true });
    let calls = 0;
    // virtual time passes only while the poller sleeps between looks: 10 ms per idle poll
    const clock = createFakeClock({ start: 1_000_000 });
    const { store: recording, claims } = recordClaims(store);
    const queue = createEmbeddedQueue({ store: recording, pollMs: 10, leaseMs: 100, maxAttempts: 3, clock });
    await queue.start(async () => {
      calls++;
      throw new Error("store unavailable");
    });
    await until(() => calls === 3, "three attempts");
    const third = claims.findLast((c) => c.claimed)?.at ?? Number.NaN;
    // the poller looked again after the third attempt's lease would have expired: nothing to run
    await until(() => claims.some((c) => c.at >= third + 200), "a look past the third lease");
    await queue.stop();
    expect(calls).toBe(3);
    expect(claims.filter((c) => c.claimed).map((c) => c.at - 1_000_000)).toEqual([0, expect.any(Number), expect.any(Number)]);
    const gaps = claims.filter((c) => c.claimed).map((c) => c.at).map((at, i, all) => at - (all[i - 1] ?? at));
    expect(gaps.slice(1).every((gap) => gap >= 100)).toBe(true); // re-claimed only once each lease expired
    expect(await store.claimJob("other", clock.now() + 1000, 100)).toBeUndefined();
  });
});
