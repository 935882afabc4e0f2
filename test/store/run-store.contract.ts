/**
 * The RunStore conformance suite. Every adapter (in-memory, SQLite, PostgreSQL) runs it:
 *
 *   runStoreContract("sqlite", async () => ({ store, cleanup }));
 *
 * It pins the behaviour the engine, the queues and the GitHub edge rely on.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MESSAGES_KEPT_PER_CONTEXT, type RunStore } from "../../src/workflows/ports.ts";
import { issueTrigger } from "../workflows/fakes/triggers.ts";
import { asRunId, asStepId, type RunEvent, type RunFinishedEvent, type RunId, type RunRecord, type RunStatus, type StepRecord } from "../../src/workflows/types.ts";

let counter = 0;

/** A minimal but complete run record. */
export function sampleRun(overrides: Partial<RunRecord> = {}): RunRecord {
  counter += 1;
  const id = overrides.id ?? asRunId(`run-${Date.now().toString(36)}-${counter}`);
  return {
    id,
    workflow: "feature-development",
    status: "queued",
    plan: {
      workflow: "feature-development",
      description: "Feature",
      steps: [
        { id: asStepId("a"), name: "A", role: "generate", prompt: "do {{ issue.title }}", needs: [], retries: 1, timeoutMs: 1000, output: "none" },
        { id: asStepId("b"), name: "B", role: "review", prompt: "check", needs: [asStepId("a")], retries: 1, timeoutMs: 1000, output: "review" },
      ],
      inputs: { scope: "all" },
      concurrency: { group: "acme/widgets#7:feature-development", cancelInProgress: false },
      customRoles: {},
    },
    trigger: issueTrigger({ number: 7, issue: { title: "Add a ünïcode ✓ feature", body: "Body with 'quotes' and \"double\"" } }),
    concurrencyKey: "acme/widgets#7:feature-development",
    createdAt: 1_000 + counter,
    ...overrides,
  };
}

export function sampleSteps(runId: RunId): StepRecord[] {
  return [
    { runId, stepId: asStepId("a"), status: "pending", attempts: 0 },
    { runId, stepId: asStepId("b"), status: "pending", attempts: 0 },
  ];
}

function finishedEvent(runId: RunId, status: RunStatus, at: number): RunFinishedEvent {
  const usage = { inputTokens: 1, outputTokens: 2, cachedTokens: 0 };
  const summary = { steps: 2, succeeded: 2, failed: 0, skipped: 0, cancelled: 0, successRate: 1, durationMs: 45, criticalPath: [asStepId("a")], criticalPathMs: 45, usage, costUsd: 0.5 };
  return { type: "run.finished", runId, status, at, summary };
}

/**
 * Registers the conformance suite for one adapter.
 *
 * @param name shown in the test names
 * @param factory creates a fresh, empty store (and a cleanup that closes and removes it)
 */
export function runStoreContract(name: string, factory: () => Promise<{ store: RunStore; cleanup(): Promise<void> }>): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it("createRun stores the run and its steps, round-tripping every field", async () => {
      const run = sampleRun({ traceContext: { traceparent: "00-abc-def-01" }, checkRunId: 5 });
      await store.createRun(run, sampleSteps(run.id));
      expect(await store.getRun(run.id)).toEqual(run);
      expect(await store.getSteps(run.id)).toEqual(sampleSteps(run.id));
      expect(await store.getRun(asRunId("missing"))).toBeUndefined();
      expect(await store.getSteps(asRunId("missing"))).toEqual([]);
      if (store.getRunStatus) {
        expect(await store.getRunStatus(run.id)).toBe("queued");
        expect(await store.getRunStatus(asRunId("missing"))).toBeUndefined();
      }
    });

    it("createRun refuses a duplicate id and leaves the first run intact", async () => {
      const run = sampleRun();
      await store.createRun(run, sampleSteps(run.id));
      await expect(store.createRun({ ...run, workflow: "other" }, [])).rejects.toThrow();
      expect((await store.getRun(run.id))?.workflow).toBe("feature-development");
      expect(await store.getSteps(run.id)).toHaveLength(2);
    });

    it("a failed write changes nothing and does not disturb writes issued alongside it", async () => {
      const bad = sampleRun();
      const good = sampleRun();
      const duplicateSteps = [...sampleSteps(bad.id), sampleSteps(bad.id)[0] as StepRecord];
      const [badResult, goodResult] = await Promise.allSettled([
        store.createRun(bad, duplicateSteps, { enqueue: true }),
        store.createRun(good, sampleSteps(good.id), { enqueue: true }),
      ]);
      expect(badResult.status).toBe("rejected");
      expect(goodResult.status).toBe("fulfilled");
      expect(await store.getRun(bad.id)).toBeUndefined();
      expect(await store.getSteps(bad.id)).toEqual([]);
      expect((await store.getRun(good.id))?.id).toBe(good.id);
      expect((await store.claimJob("w", 10_000_000, 1000))?.runId).toBe(good.id);
      expect(await store.claimJob("w", 10_000_000, 1000)).toBeUndefined();
      await expect(store.appendEvent({ type: "run.started", runId: asRunId("missing"), at: 1 })).rejects.toThrow();
    });

    it("createRun with enqueue writes the job in the same call; without it, no job", async () => {
      const queued = sampleRun();
      const idle = sampleRun();
      await store.createRun(queued, sampleSteps(queued.id), { enqueue: true });
      await store.createRun(idle, sampleSteps(idle.id));
      const job = await store.claimJob("w1", 1_000_000, 1000);
      expect(job?.runId).toBe(queued.id);
      expect(job?.attempts).toBe(1);
      expect(await store.claimJob("w1", 1_000_000, 1000)).toBeUndefined();
    });

    it("returned objects are copies: mutating them does not change the store", async () => {
      const run = sampleRun();
      await store.createRun(run, sampleSteps(run.id));
      const loaded = await store.getRun(run.id);
      if (!loaded) throw new Error("missing");
      loaded.status = "failed";
      loaded.plan.steps.length = 0;
      const again = await store.getRun(run.id);
      expect(again?.status).toBe("queued");
      expect(again?.plan.steps).toHaveLength(2);
    });

    it("updateRun patches fields; undefined in a patch clears a field", async () => {
      const run = sampleRun({ error: "old" });
      await store.createRun(run, []);
      await store.updateRun(run.id, { checkRunId: 42, commentId: 9, startedAt: 5 });
      await store.updateRun(run.id, { error: undefined } as unknown as Partial<RunRecord>);
      const loaded = await store.getRun(run.id);
      expect(loaded).toMatchObject({ checkRunId: 42, commentId: 9, startedAt: 5, status: "queued" });
      expect(loaded && "error" in loaded).toBe(false);
      await expect(store.updateRun(asRunId("missing"), { checkRunId: 1 })).rejects.toThrow();
    });

    it("transitionRun moves only from the given states and applies the patch", async () => {
      const run = sampleRun();
      await store.createRun(run, []);
      expect(await store.transitionRun(run.id, ["running"], "succeeded")).toBe(false);
      expect(await store.transitionRun(run.id, ["queued"], "running", { startedAt: 10 })).toBe(true);
      expect(await store.getRun(run.id)).toMatchObject({ status: "running", startedAt: 10 });
      expect(await store.transitionRun(run.id, ["running"], "cancelled", { error: "stop", finishedAt: 20 })).toBe(true);
      expect(await store.getRun(run.id)).toMatchObject({ status: "cancelled", error: "stop", finishedAt: 20 });
      expect(await store.transitionRun(asRunId("missing"), ["queued"], "running")).toBe(false);
    });

    it("transitionRun races: of many concurrent transitions exactly one wins", async () => {
      const run = sampleRun({ status: "running" });
      await store.createRun(run, []);
      const targets = ["succeeded", "failed", "cancelled", "succeeded", "cancelled", "failed"] as const;
      const results = await Promise.all(targets.map((to) => store.transitionRun(run.id, ["running"], to, { error: to })));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = targets[results.indexOf(true)];
      expect(await store.getRun(run.id)).toMatchObject({ status: winner, error: winner });
    });

    it("findActiveRuns returns queued and running runs of one key, oldest first", async () => {
      const key = "acme/widgets#1:review";
      const a = sampleRun({ concurrencyKey: key, createdAt: 100, status: "running" });
      const b = sampleRun({ concurrencyKey: key, createdAt: 200 });
      const c = sampleRun({ concurrencyKey: key, createdAt: 50, status: "succeeded" });
      const d = sampleRun({ concurrencyKey: "other", createdAt: 10 });
      for (const r of [b, a, c, d]) await store.createRun(r, []);
      expect((await store.findActiveRuns(key)).map((r) => r.id)).toEqual([a.id, b.id]);
      expect((await store.listUnfinishedRuns()).map((r) => r.id)).toEqual([d.id, a.id, b.id]);
    });

    it("listRuns filters by status, workflow and repo, newest first, with a limit", async () => {
      const a = sampleRun({ createdAt: 10, status: "succeeded" });
      const b = sampleRun({ createdAt: 20, workflow: "code-review" });
      const other = sampleRun({ createdAt: 30 });
      other.trigger.repo = { owner: "acme", name: "gears", defaultBranch: "main" };
      for (const r of [a, b, other]) await store.createRun(r, []);
      expect((await store.listRuns()).map((r) => r.id)).toEqual([other.id, b.id, a.id]);
      expect((await store.listRuns({ limit: 2 })).map((r) => r.id)).toEqual([other.id, b.id]);
      expect((await store.listRuns({ status: "succeeded" })).map((r) => r.id)).toEqual([a.id]);
      expect((await store.listRuns({ workflow: "code-review" })).map((r) => r.id)).toEqual([b.id]);
      expect((await store.listRuns({ repo: "acme/gears" })).map((r) => r.id)).toEqual([other.id]);
    });

    it("updateStep patches one step, keeps plan order, and clears undefined keys", async () => {
      const run = sampleRun();
      await store.createRun(run, sampleSteps(run.id));
      const output = { text: "done ✓", usage: { inputTokens: 3, outputTokens: 4, cachedTokens: 1 }, costUsd: 0.25, edits: [{ kind: "create" as const, path: "a.ts", content: "x" }] };
      await store.updateStep(run.id, asStepId("b"), { status: "failed", attempts: 2, error: "boom", startedAt: 1, finishedAt: 2 });
      await store.updateStep(run.id, asStepId("a"), { status: "succeeded", attempts: 1, output });
      let steps = await store.getSteps(run.id);
      expect(steps.map((s) => s.stepId)).toEqual(["a", "b"]);
      expect(steps[0]).toMatchObject({ status: "succeeded", output });
      expect(steps[1]).toMatchObject({ status: "failed", attempts: 2, error: "boom" });
      await store.updateStep(run.id, asStepId("b"), { status: "pending", error: undefined, finishedAt: undefined } as unknown as Partial<StepRecord>);
      steps = await store.getSteps(run.id);
      expect(steps[1]).toEqual({ runId: run.id, stepId: "b", status: "pending", attempts: 2, startedAt: 1 });
      await expect(store.updateStep(run.id, asStepId("nope"), { status: "failed" })).rejects.toThrow();
    });

    it("events come back in append order, and a limit returns the latest ones", async () => {
      const run = sampleRun();
      await store.createRun(run, []);
      const events: RunEvent[] = [];
      for (let i = 0; i < 25; i++) events.push({ type: "step.progress", runId: run.id, stepId: asStepId("a"), at: 1000 - i, tokens: i, tail: `t${i}` });
      await Promise.all(events.slice(0, 5).map((e) => store.appendEvent(e)));
      for (const e of events.slice(5)) await store.appendEvent(e);
      const all = await store.listEvents(run.id);
      expect(all.slice(5)).toEqual(events.slice(5));
      expect(all).toHaveLength(25);
      expect(await store.listEvents(run.id, { limit: 3 })).toEqual(events.slice(22));
      expect(await store.listEvents(asRunId("missing"))).toEqual([]);
    });

    it("recordDelivery dedupes, also when two calls race", async () => {
      expect(await store.recordDelivery("d-1", "issues")).toBe(true);
      expect(await store.recordDelivery("d-1", "issues")).toBe(false);
      const raced = await Promise.all([store.recordDelivery("d-2", "issue_comment"), store.recordDelivery("d-2", "issue_comment")]);
      expect(raced.sort()).toEqual([false, true]);
    });

    it("webhook inbox: a delivery is accepted once, claimed oldest first by one worker, retried when asked, then done for good", async () => {
      const d = (id: string) => ({ id, name: "issues", payload: JSON.stringify({ action: "labeled", n: id }) });
      expect(await store.acceptDelivery(d("d1"), 100)).toBe(true);
      expect(await store.acceptDelivery(d("d2"), 200)).toBe(true);
      expect(await store.acceptDelivery(d("d1"), 300)).toBe(false); // a redelivery
      expect(await store.claimDelivery("w1", 50, 1000)).toBeUndefined(); // not received yet at 50
      const [a, b] = await Promise.all([store.claimDelivery("w1", 1000, 1000), store.claimDelivery("w2", 1000, 1000)]);
      expect(a).toEqual({ ...d("d1"), attempts: 1 });
      expect(b).toEqual({ ...d("d2"), attempts: 1 });
      expect(await store.claimDelivery("w3", 1500, 1000)).toBeUndefined(); // both leased
      expect(await store.finishDelivery("d1", "w2")).toBe(false); // not the holder
      expect(await store.finishDelivery("d1", "w1", 5000)).toBe(true); // retry at 5000
      expect(await store.claimDelivery("w3", 2500, 10_000)).toEqual({ ...d("d2"), attempts: 2 }); // d2's lease ran out at 2000
      expect(await store.claimDelivery("w3", 4000, 1000)).toBeUndefined();
      expect(await store.claimDelivery("w3", 5000, 1000)).toEqual({ ...d("d1"), attempts: 2 });
      expect(await store.finishDelivery("d1", "w3")).toBe(true);
      expect(await store.finishDelivery("d2", "w1")).toBe(false); // w1 lost d2's lease to w3
      expect(await store.finishDelivery("d2", "w3")).toBe(true);
      expect(await store.claimDelivery("w1", 100_000, 1000)).toBeUndefined(); // done stays done
      expect(await store.acceptDelivery(d("d2"), 100_000)).toBe(false); // and still refuses a redelivery
      const trace = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
      expect(await store.acceptDelivery({ ...d("d3"), trace }, 200_000)).toBe(true);
      expect(await store.claimDelivery("w1", 200_000, 1000)).toEqual({ ...d("d3"), trace, attempts: 1 });
    });

    it("conversation messages are kept per key, oldest first", async () => {
      await store.appendMessage("acme/widgets#7", { role: "user", content: "hi", at: 1 });
      await store.appendMessage("acme/widgets#8", { role: "user", content: "other", at: 2 });
      await store.appendMessage("acme/widgets#7", { role: "assistant", content: "hello", at: 3, runId: "r1" });
      expect(await store.listMessages("acme/widgets#7")).toEqual([
        { role: "user", content: "hi", at: 1 },
        { role: "assistant", content: "hello", at: 3, runId: "r1" },
      ]);
      expect(await store.listMessages("none")).toEqual([]);
      expect(await store.listMessages("acme/widgets#7", { limit: 1 })).toEqual([{ role: "assistant", content: "hello", at: 3, runId: "r1" }]);
      expect(await store.listMessages("acme/widgets#7", { limit: 0 })).toEqual([]);
      expect(await store.listMessages("acme/widgets#7", { limit: 10 })).toHaveLength(2);
    });

    it("conversation history is bounded: the newest messages per key are kept, a limit returns the newest oldest first", async () => {
      const total = MESSAGES_KEPT_PER_CONTEXT + 15;
      for (let i = 0; i < total; i++) await store.appendMessage("acme/widgets#9", { role: i % 2 ? "assistant" : "user", content: `m${i}`, at: i });
      await store.appendMessage("acme/widgets#10", { role: "user", content: "other thread", at: 1 });
      const kept = await store.listMessages("acme/widgets#9");
      expect(kept).toHaveLength(MESSAGES_KEPT_PER_CONTEXT);
      expect(kept[0]?.at).toBe(total - MESSAGES_KEPT_PER_CONTEXT);
      expect(kept.at(-1)?.at).toBe(total - 1);
      expect((await store.listMessages("acme/widgets#9", { limit: 3 })).map((m) => m.content)).toEqual([`m${total - 3}`, `m${total - 2}`, `m${total - 1}`]);
      expect(await store.listMessages("acme/widgets#10")).toHaveLength(1);
    });

    it("markers: putMarkerIfAbsent keeps the first writer, setMarker overwrites", async () => {
      expect(await store.getMarker("comment:acme/widgets#7")).toBeUndefined();
      const raced = await Promise.all(["111", "222", "333"].map((v) => store.putMarkerIfAbsent("comment:acme/widgets#7", v)));
      expect(new Set(raced).size).toBe(1);
      expect(await store.getMarker("comment:acme/widgets#7")).toBe(raced[0]);
      expect(await store.putMarkerIfAbsent("comment:acme/widgets#7", "999")).toBe(raced[0]);
      await store.setMarker("comment:acme/widgets#7", "444");
      expect(await store.getMarker("comment:acme/widgets#7")).toBe("444");
    });

    it("claimJob: two concurrent claimers never get the same job", async () => {
      const runs = Array.from({ length: 10 }, (_, i) => sampleRun({ createdAt: 100 + i }));
      for (const r of runs) await store.createRun(r, [], { enqueue: true });
      const claims = await Promise.all(Array.from({ length: 14 }, (_, i) => store.claimJob(i % 2 ? "w1" : "w2", 1000, 5000)));
      const ids = claims.filter((c) => c !== undefined).map((c) => c.runId);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    });

    it("claimJob takes the oldest runnable job, skips future ones, and re-claims expired leases", async () => {
      const a = sampleRun({ createdAt: 100 });
      const b = sampleRun({ createdAt: 50 });
      await store.createRun(a, []);
      await store.createRun(b, []);
      await store.enqueueJob(a.id, 100);
      await store.enqueueJob(b.id, 5_000);
      expect(await store.queueStats(1000)).toEqual({ depth: 1, oldestAgeMs: 900 });
      const first = await store.claimJob("w1", 1000, 500);
      expect(first).toEqual({ runId: a.id, attempts: 1, runAt: 100 });
      expect(await store.claimJob("w2", 1200, 500)).toBeUndefined();
      expect(await store.renewJob(a.id, "w1", 1400, 500)).toBe(true); // lease now until 1900
      expect(await store.claimJob("w2", 1800, 500)).toBeUndefined();
      expect(await store.renewJob(a.id, "w2", 1800, 10_000)).toBe(false); // not the holder: ignored
      const again = await store.claimJob("w2", 1900, 500);
      expect(again).toEqual({ runId: a.id, attempts: 2, runAt: 100 });
      expect((await store.claimJob("w3", 6000, 500))?.runId).toBe(a.id);
      expect(await store.completeJob(a.id, "w3")).toBe(true);
      expect((await store.claimJob("w3", 6000, 500))?.runId).toBe(b.id);
    });

    it("claims follow (available_at, seq): a job whose lease expired queues by its lease end, not its first runAt", async () => {
      const [a, b, c] = [sampleRun({ createdAt: 100 }), sampleRun({ createdAt: 300 }), sampleRun({ createdAt: 1050 })] as [RunRecord, RunRecord, RunRecord];
      for (const r of [a, b, c]) await store.createRun(r, []);
      await store.enqueueJob(a.id, 100);
      expect((await store.claimJob("w1", 200, 900))?.runId).toBe(a.id); // leased until 1100
      await store.enqueueJob(b.id, 300);
      await store.enqueueJob(c.id, 1050);
      await store.enqueueJob(c.id, 2000); // a later runAt keeps the earlier one
      const order = [];
      for (let i = 0; i < 4; i++) order.push((await store.claimJob("w2", 5000, 60_000))?.runId);
      expect(order).toEqual([b.id, c.id, a.id, undefined]);
      expect(await store.queueStats(5000)).toEqual({ depth: 0, oldestAgeMs: 0 });
      expect(await store.renewJob(a.id, "w2", 5000, 0)).toBe(true); // released at once (a stop)
      expect(await store.queueStats(5000)).toEqual({ depth: 1, oldestAgeMs: 4900 });
      expect(await store.claimJob("w3", 5000, 1000)).toEqual({ runId: a.id, attempts: 3, runAt: 100 });
    });

    it("completeJob removes the job; enqueue while leased runs it again after completion", async () => {
      const run = sampleRun();
      await store.createRun(run, [], { enqueue: true });
      await store.enqueueJob(run.id, 1); // already waiting: still one job
      expect((await store.queueStats(10_000_000)).depth).toBe(1);
      await store.claimJob("w1", 10_000_000, 1000);
      expect(await store.queueStats(10_000_000)).toEqual({ depth: 0, oldestAgeMs: 0 });
      await store.enqueueJob(run.id, 10_000_000);
      expect(await store.completeJob(run.id, "w1")).toBe(true);
      const again = await store.claimJob("w1", 10_000_000, 1000);
      expect(again?.runId).toBe(run.id);
      expect(await store.completeJob(run.id, "w1")).toBe(true);
      expect(await store.claimJob("w1", 10_000_000, 1000)).toBeUndefined();
      expect(await store.completeJob(run.id, "w1")).toBe(false); // idempotent: nothing left
      await expect(store.enqueueJob(asRunId("missing"), 1)).rejects.toThrow();
    });

    it("a job enqueued while leased is due, once released, at the earliest time asked for during the lease (a parked run's poll, then a wake-up)", async () => {
      const run = sampleRun();
      const t = 20_000_000_000_000; // later than any run's creation
      await store.createRun(run, [], { enqueue: true });
      expect((await store.claimJob("w1", t, 60_000))?.runId).toBe(run.id);
      await store.enqueueJob(run.id, t + 90_000); // the poll of a run that parks
      expect(await store.completeJob(run.id, "w1")).toBe(true);
      expect(await store.claimJob("w1", t + 89_999, 1000)).toBeUndefined();
      expect((await store.claimJob("w1", t + 90_000, 60_000))?.runId).toBe(run.id);
      await store.enqueueJob(run.id, t + 500_000);
      await store.enqueueJob(run.id, t + 200_000); // a wake-up before the poll wins
      expect(await store.completeJob(run.id, "w1")).toBe(true);
      expect(await store.claimJob("w1", t + 199_999, 1000)).toBeUndefined();
      expect((await store.claimJob("w1", t + 200_000, 1000))?.runId).toBe(run.id);
      expect(await store.completeJob(run.id, "w1")).toBe(true);
    });

    it("a parked (waiting) run holds its concurrency group but is not resumed at start-up", async () => {
      const run = sampleRun({ status: "running", concurrencyKey: "acme/widgets#9:park" });
      await store.createRun(run, []);
      expect(await store.transitionRun(run.id, ["running"], "waiting", { waiting: { since: 1, keys: ["ci:abc"], messages: ["verify: waiting for CI"], wakeAt: 99 } })).toBe(true);
      expect((await store.findActiveRuns("acme/widgets#9:park")).map((r) => r.id)).toEqual([run.id]);
      expect((await store.listUnfinishedRuns()).map((r) => r.id)).not.toContain(run.id);
      expect((await store.listRuns({ status: "waiting" })).map((r) => r.waiting?.keys)).toContainEqual(["ci:abc"]);
    });

    it("completeJob and renewJob by a stale worker (its lease expired and the job was claimed again) change nothing", async () => {
      const run = sampleRun();
      await store.createRun(run, []);
      await store.enqueueJob(run.id, 100);
      expect((await store.claimJob("stale", 1000, 100))?.runId).toBe(run.id);
      expect((await store.claimJob("owner", 1200, 1000))?.runId).toBe(run.id); // stale's lease expired at 1100
      expect(await store.renewJob(run.id, "stale", 1300, 1000)).toBe(false);
      expect(await store.completeJob(run.id, "stale")).toBe(false);
      // still the owner's: leased until 2200, neither deleted nor released
      expect(await store.claimJob("third", 1500, 1000)).toBeUndefined();
      expect(await store.renewJob(run.id, "owner", 1500, 1000)).toBe(true);
      // also when the run was enqueued again while leased: the stale complete does not release it
      await store.enqueueJob(run.id, 1500);
      expect(await store.completeJob(run.id, "stale")).toBe(false);
      expect(await store.claimJob("third", 1600, 1000)).toBeUndefined();
      expect(await store.completeJob(run.id, "owner")).toBe(true); // released for the requeue
      expect(await store.completeJob(run.id, "stale")).toBe(false); // an unleased job is nobody's to complete
      expect((await store.claimJob("third", 1700, 1000))?.runId).toBe(run.id);
    });

    it("finishRun writes the final status, finishedAt and the run.finished event together, once", async () => {
      const run = sampleRun({ status: "running", startedAt: 5 });
      await store.createRun(run, sampleSteps(run.id));
      const event = finishedEvent(run.id, "succeeded", 50);
      expect(await store.finishRun(run.id, ["queued"], event)).toBe(false); // not in `from`: nothing written
      expect(await store.listEvents(run.id)).toEqual([]);
      expect(await store.finishRun(run.id, ["running"], event, { finishedAt: 40 })).toBe(true);
      expect(await store.getRun(run.id)).toMatchObject({ status: "succeeded", finishedAt: 40, startedAt: 5 });
      expect(await store.listEvents(run.id)).toEqual([event]);
      // already finished: a second finisher (a canceller, a stale executor) writes nothing
      expect(await store.finishRun(run.id, ["running", "succeeded"], finishedEvent(run.id, "succeeded", 60))).toBe(false);
      expect(await store.listEvents(run.id)).toHaveLength(1);
      expect(await store.finishRun(asRunId("missing"), ["running"], finishedEvent(asRunId("missing"), "failed", 1))).toBe(false);
      expect((await store.listUnfinishedRuns()).map((r) => r.id)).not.toContain(run.id);
    });

    it("a run cancelled while executing (no finishedAt) is unfinished until finishRun; concurrent finishers write one event", async () => {
      const run = sampleRun({ status: "running" });
      await store.createRun(run, []);
      expect(await store.transitionRun(run.id, ["running"], "cancelled", { error: "cancelled by @octocat" })).toBe(true);
      expect((await store.listUnfinishedRuns()).map((r) => r.id)).toEqual([run.id]);
      const results = await Promise.all([1, 2, 3].map((i) => store.finishRun(run.id, ["cancelled"], finishedEvent(run.id, "cancelled", 100 + i))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.getRun(run.id)).toMatchObject({ status: "cancelled", error: "cancelled by @octocat" });
      expect((await store.getRun(run.id))?.finishedAt).toBeGreaterThan(100);
      expect((await store.listEvents(run.id)).filter((e) => e.type === "run.finished")).toHaveLength(1);
      expect(await store.listUnfinishedRuns()).toEqual([]);
    });

    it("ping answers on an open store", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
