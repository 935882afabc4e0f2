import { describe, expect, it } from "vitest";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { RunStateError } from "../../src/errors/run-state-error.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { ProgressSink, RunStore } from "../../src/workflows/ports.ts";
import { asStepId, type RunPlan, type StepRecord } from "../../src/workflows/types.ts";
import { crashingStore } from "./fakes/crashing-store.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { createRecordingSink } from "./fakes/recording-sink.ts";
import { createScriptedAgent, type Behaviour } from "./fakes/scripted-agent.ts";
import { issueTrigger } from "./fakes/triggers.ts";
import { until } from "./fakes/until.ts";

/** a → (b, c) → d */
const diamond = (cancelInProgress = false): RunPlan =>
  planRun(
    workflow("diamond")
      .concurrency(undefined, { cancelInProgress })
      .step({ id: "a", role: "generate", prompt: "a" })
      .step({ id: "b", role: "review", prompt: "b {{ steps.a.output }}" }).needs("a")
      .step({ id: "c", role: "test", prompt: "c" }).needs("a")
      .step({ id: "d", role: "generate", prompt: "d {{ steps.b.output }}" }).needs("b", "c")
      .build(),
    issueTrigger(),
  );

function engineOn(store: RunStore, script: Record<string, Behaviour[]> = {}) {
  const agents = createScriptedAgent(script);
  const sink = createRecordingSink();
  const clock = createFakeClock();
  const engine = createEngine({ store, agents, clock, progress: sink, cancelPollMs: 250, random: () => 0 });
  return { engine, agents, sink, clock };
}

const byId = (steps: StepRecord[]) => Object.fromEntries(steps.map((s) => [s.stepId, s]));

describe("engine: cancel", () => {
  it("a cancel from a second engine instance aborts the in-flight steps of the executing one", async () => {
    const store = createMemoryRunStore();
    const a = engineOn(store, { b: [{ kind: "block" }], c: [{ kind: "block" }] });
    const other = engineOn(store);
    const run = await a.engine.start(diamond(), issueTrigger());
    const done = a.engine.execute(run.id, new AbortController().signal);
    await a.agents.started("b");
    await a.agents.started("c");
    expect(await other.engine.cancel(run.id, "cancelled by @octocat")).toBe(true);
    await done;
    const finished = await store.getRun(run.id);
    expect(finished).toMatchObject({ status: "cancelled", error: "cancelled by @octocat" });
    expect(finished?.finishedAt).toBeDefined();
    const steps = byId(await store.getSteps(run.id));
    expect(steps.a?.status).toBe("succeeded");
    expect(steps.b).toMatchObject({ status: "cancelled", error: "cancelled by @octocat" });
    expect(steps.d).toMatchObject({ status: "cancelled", error: "run cancelled" });
    expect(a.agents.callsOf("b")[0]?.signal.aborted).toBe(true);
    expect(a.agents.callsOf("d")).toHaveLength(0);
    const last = a.sink.events.at(-1);
    expect(last?.type === "run.finished" && last.status).toBe("cancelled");
    expect(await other.engine.cancel(run.id)).toBe(false);
  });

  it("a cancel that lands after the last step but before the final transition still finishes the run as cancelled", async () => {
    const store = createMemoryRunStore();
    const run = await engineOn(store).engine.start(diamond(), issueTrigger());
    // Another process cancels between the executing engine's last watcher poll and its final write.
    const racing: RunStore = {
      ...store,
      async finishRun(id, from, event, patch) {
        if (event.status !== "cancelled") await store.transitionRun(id, ["running"], "cancelled", { error: "cancelled by @octocat" });
        return store.finishRun(id, from, event, patch);
      },
    };
    const { engine, sink } = engineOn(racing);
    await engine.execute(run.id, new AbortController().signal);
    const finished = await store.getRun(run.id);
    expect(finished).toMatchObject({ status: "cancelled", error: "cancelled by @octocat" });
    expect(finished?.finishedAt).toBeDefined();
    expect(sink.events.at(-1)).toMatchObject({ type: "run.finished", status: "cancelled", error: "cancelled by @octocat" });
    expect((sink.events.at(-1) as { summary: { durationMs: number } }).summary.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("cancelling a queued run finishes it at once and starts the next run of its group", async () => {
    const store = createMemoryRunStore();
    const { engine, sink } = engineOn(store);
    const first = await engine.start(diamond(), issueTrigger());
    const second = await engine.start(diamond(), issueTrigger());
    await store.claimJob("w", Date.now() + 1e12, 1000);
    await store.claimJob("w", Date.now() + 1e12, 1000);
    await store.completeJob(first.id, "w");
    await store.completeJob(second.id, "w");
    expect(await engine.cancel(first.id, "not needed")).toBe(true);
    expect((await store.getRun(first.id))?.status).toBe("cancelled");
    expect((await store.getSteps(first.id)).every((s) => s.status === "cancelled")).toBe(true);
    expect(sink.events.at(-1)).toMatchObject({ type: "run.finished", runId: first.id, status: "cancelled" });
    expect((await store.claimJob("w", Date.now() + 1e12, 1000))?.runId).toBe(second.id);
  });
  it("cancelling a running run whose executor died marks its steps cancelled and writes run.finished once its job is claimed", async () => {
    const store = createMemoryRunStore();
    const { engine, sink } = engineOn(store);
    const run = await engine.start(diamond(), issueTrigger());
    // A worker claimed the job, started the run and step a, then died (its lease is never renewed).
    const t = Date.now() + 1e12;
    expect((await store.claimJob("dead", t, 500))?.runId).toBe(run.id);
    expect(await store.transitionRun(run.id, ["queued"], "running", { startedAt: 1 })).toBe(true);
    await store.updateStep(run.id, asStepId("a"), { status: "running", attempts: 1, startedAt: 1 });
    expect(await engine.cancel(run.id, "cancelled by @octocat")).toBe(true);
    expect((await store.getRun(run.id))?.status).toBe("cancelled");
    // the dead worker's lease expires; whichever worker claims the job next finishes the run
    const job = await store.claimJob("live", t + 1000, 500);
    expect(job?.runId).toBe(run.id);
    const resumer = engineOn(store);
    await resumer.engine.execute(run.id, new AbortController().signal);
    expect(await store.getRun(run.id)).toMatchObject({ status: "cancelled", error: "cancelled by @octocat" });
    expect((await store.getRun(run.id))?.finishedAt).toBeDefined();
    const steps = await store.getSteps(run.id);
    expect(steps.map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(steps[0]).toMatchObject({ error: "cancelled by @octocat", attempts: 1 });
    const finished = (await store.listEvents(run.id)).filter((e) => e.type === "run.finished");
    expect(finished).toEqual([expect.objectContaining({ status: "cancelled", error: "cancelled by @octocat" })]);
    expect(resumer.sink.events.at(-1)).toMatchObject({ type: "run.finished", status: "cancelled" });
    // the check run and comment (built from events) see every step end, too
    expect(resumer.sink.events.filter((e) => e.type === "step.finished").map((e) => e.type === "step.finished" && [e.stepId, e.status])).toEqual([
      ["a", "cancelled"],
      ["b", "cancelled"],
      ["c", "cancelled"],
      ["d", "cancelled"],
    ]);
    expect(resumer.agents.calls).toHaveLength(0);
    expect(sink.events.filter((e) => e.type === "run.finished")).toHaveLength(0);
    // finishing is idempotent: a second claim (or start-up resume) writes nothing more
    expect(await store.completeJob(run.id, "live")).toBe(true);
    expect(await resumer.engine.resumeUnfinished()).toBe(0);
    await resumer.engine.execute(run.id, new AbortController().signal);
    expect((await store.listEvents(run.id)).filter((e) => e.type === "run.finished")).toHaveLength(1);
  });

  it("a run cancelled while its executor died is finished by resumeUnfinished on the next start-up", async () => {
    const store = createMemoryRunStore();
    const { engine } = engineOn(store);
    const run = await engine.start(diamond(), issueTrigger());
    await store.claimJob("dead", Date.now() + 1e12, 1000);
    expect(await store.transitionRun(run.id, ["queued"], "running", { startedAt: 1 })).toBe(true);
    await store.updateStep(run.id, asStepId("a"), { status: "running", attempts: 1, startedAt: 1 });
    // cancelled by a process that died before anything else was written
    expect(await store.transitionRun(run.id, ["running"], "cancelled", { error: "stuck" })).toBe(true);
    expect(await store.completeJob(run.id, "dead")).toBe(true);
    const next = engineOn(store);
    expect(await next.engine.resumeUnfinished()).toBe(1);
    expect((await store.claimJob("w", Date.now() + 1e12, 1000))?.runId).toBe(run.id);
    await next.engine.execute(run.id, new AbortController().signal);
    expect(byId(await store.getSteps(run.id)).a).toMatchObject({ status: "cancelled", error: "stuck" });
    expect((await store.listEvents(run.id)).filter((e) => e.type === "run.finished")).toHaveLength(1);
    expect(await store.listUnfinishedRuns()).toEqual([]);
  });

  it("cancelling a queued run does not wait forever on a sink that never answers", async () => {
    const store = createMemoryRunStore();
    const never: ProgressSink = { emit: () => new Promise<void>(() => {}) };
    const engine = createEngine({ store, agents: createScriptedAgent(), clock: createFakeClock(), progress: never, sinkDrainMs: 10 });
    const run = await engine.start(diamond(), issueTrigger());
    expect(await engine.cancel(run.id, "not needed")).toBe(true);
    expect((await store.getRun(run.id))?.status).toBe("cancelled");
  });
});

describe("engine: concurrency groups", () => {
  it("a second run of the same group waits, then runs when the first finishes", async () => {
    const store = createMemoryRunStore();
    const { engine, agents } = engineOn(store);
    const first = await engine.start(diamond(), issueTrigger());
    const second = await engine.start(diamond(), issueTrigger());
    expect(second.concurrencyKey).toBe("acme/widgets#42:diamond");
    await engine.execute(second.id, new AbortController().signal);
    expect((await store.getRun(second.id))?.status).toBe("queued");
    expect(agents.calls).toHaveLength(0);
    await engine.execute(first.id, new AbortController().signal);
    expect((await store.getRun(first.id))?.status).toBe("succeeded");
    await engine.execute(second.id, new AbortController().signal);
    expect((await store.getRun(second.id))?.status).toBe("succeeded");
  });

  it("cancelling a running run whose executor died starts the next queued run of its group", async () => {
    const store = createMemoryRunStore();
    const { engine } = engineOn(store);
    const first = await engine.start(diamond(), issueTrigger());
    const second = await engine.start(diamond(), issueTrigger());
    // first was claimed and marked running by a process that then died; second looked, waited, and let its job go
    expect(await store.transitionRun(first.id, ["queued"], "running", { startedAt: 1 })).toBe(true);
    for (let i = 0; i < 2; i++) await store.claimJob("dead", Date.now() + 1e12, 1000);
    await store.completeJob(first.id, "dead");
    await store.completeJob(second.id, "dead");
    expect(await engine.cancel(first.id, "stuck")).toBe(true);
    expect((await store.claimJob("w", Date.now() + 1e12, 1000))?.runId).toBe(second.id);
    await engine.execute(second.id, new AbortController().signal);
    expect((await store.getRun(second.id))?.status).toBe("succeeded");
  });

  it("with cancel-in-progress, a new run cancels the active one", async () => {
    const store = createMemoryRunStore();
    const { engine } = engineOn(store);
    const first = await engine.start(diamond(true), issueTrigger());
    const second = await engine.start(diamond(true), issueTrigger());
    expect((await store.getRun(first.id))).toMatchObject({ status: "cancelled", error: `superseded by a newer run (${second.id})` });
    await engine.execute(second.id, new AbortController().signal);
    expect((await store.getRun(second.id))?.status).toBe("succeeded");
  });
});

describe("engine: durability", () => {
  it("resumes after a crash at every write boundary: finished steps never re-run, interrupted ones do", async () => {
    // Count the writes of one clean execution.
    const probe = createMemoryRunStore();
    const probeRun = await engineOn(probe).engine.start(diamond(), issueTrigger());
    const counting = crashingStore(probe, Number.MAX_SAFE_INTEGER);
    await engineOn(counting.store).engine.execute(probeRun.id, new AbortController().signal);
    const total = counting.writes();
    expect(total).toBeGreaterThan(15);

    for (let n = 0; n <= total; n++) {
      const store = createMemoryRunStore();
      const run = await engineOn(store).engine.start(diamond(), issueTrigger());
      const crashing = crashingStore(store, n);
      const first = engineOn(crashing.store);
      const outcome = await first.engine.execute(run.id, new AbortController().signal).then(
        () => "finished",
        () => "crashed",
      );
      expect(outcome).toBe(n < total ? "crashed" : "finished");
      const before = byId(await store.getSteps(run.id));
      const statusBefore = (await store.getRun(run.id))?.status;
      const second = engineOn(store);
      // Only a crash after the final transition (before the run.finished event) leaves a finished run.
      expect(await second.engine.resumeUnfinished()).toBe(statusBefore === "succeeded" ? 0 : 1);
      if (n < total - 1) expect(statusBefore).not.toBe("succeeded");
      await second.engine.execute(run.id, new AbortController().signal);
      const after = byId(await store.getSteps(run.id));
      expect((await store.getRun(run.id))?.status, `crash after ${n} writes`).toBe("succeeded");
      // The final status and its run.finished event are one write: a crash never loses the event.
      const finishedEvents = (await store.listEvents(run.id)).filter((e) => e.type === "run.finished");
      expect(finishedEvents, `run.finished events after a crash at ${n}`).toHaveLength(1);
      for (const id of ["a", "b", "c", "d"]) {
        expect(after[id]?.status).toBe("succeeded");
        const reRun = second.agents.callsOf(id).length;
        if (before[id]?.status === "succeeded") expect(reRun, `${id} re-ran after crash at ${n}`).toBe(0);
        else expect(reRun, `${id} did not run after crash at ${n}`).toBe(1);
      }
      // Replayed outputs reach downstream prompts after a resume.
      if (second.agents.callsOf("d").length === 1) expect(second.agents.callsOf("d")[0]?.prompt).toContain("b done");
    }
  });

  it("a shutdown signal leaves the run resumable; the interrupted step re-runs on another engine", async () => {
    const store = createMemoryRunStore();
    const first = engineOn(store, { b: [{ kind: "block" }] });
    const run = await first.engine.start(diamond(), issueTrigger());
    const shutdown = new AbortController();
    const done = first.engine.execute(run.id, shutdown.signal);
    await first.agents.started("b");
    await until(() => first.agents.callsOf("c").length === 1 && !first.agents.running.has("c"), "c finished");
    shutdown.abort();
    await done;
    expect((await store.getRun(run.id))?.status).toBe("running");
    expect(byId(await store.getSteps(run.id)).b?.status).toBe("running");
    const second = engineOn(store);
    expect(await second.engine.resumeUnfinished()).toBe(1);
    await second.engine.execute(run.id, new AbortController().signal);
    expect((await store.getRun(run.id))?.status).toBe("succeeded");
    expect(second.agents.calls.map((c) => c.stepId)).toEqual(["b", "d"]);
  });

  it("task-level retry re-runs only failed and downstream steps and keeps succeeded outputs", async () => {
    const store = createMemoryRunStore();
    const { engine, agents } = engineOn(store, { b: [{ kind: "fail", error: new NonRetriableError("model refused") }, { kind: "succeed", text: "fixed" }] });
    const run = await engine.start(diamond(), issueTrigger());
    await engine.execute(run.id, new AbortController().signal);
    expect((await store.getRun(run.id))?.status).toBe("failed");
    expect(byId(await store.getSteps(run.id)).d?.status).toBe("skipped");
    const aOutput = byId(await store.getSteps(run.id)).a?.output;

    const retried = await engine.retry(run.id);
    expect(retried.status).toBe("queued");
    expect(retried.error).toBeUndefined();
    expect(byId(await store.getSteps(run.id)).b).toMatchObject({ status: "pending", attempts: 1 });
    expect((await store.claimJob("w", Date.now() + 1e12, 1000))?.runId).toBe(run.id);
    await engine.execute(run.id, new AbortController().signal);
    const steps = byId(await store.getSteps(run.id));
    expect((await store.getRun(run.id))?.status).toBe("succeeded");
    expect(agents.calls.map((c) => c.stepId).sort()).toEqual(["a", "b", "b", "c", "d"]);
    expect(steps.a?.output).toEqual(aOutput);
    expect(steps.b).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(steps.b?.error).toBeUndefined();
    expect(agents.callsOf("d")[0]?.prompt).toContain("fixed");
    await expect(engine.retry(run.id)).rejects.toThrow(/nothing to retry/);
    await expect(engine.retry(run.id)).rejects.toBeInstanceOf(RunStateError);
  });
});
