/**
 * Parking (DESIGN D14): a run whose steps wait for CI or an approval lets go of its worker and is
 * woken by an event or its poll — on the in-memory and the SQLite store alike.
 */
import { describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { asStepId, type PlannedStep, type RunPlan, type RunRecord, type StepRecord } from "../../src/workflows/types.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { createRecordingSink } from "./fakes/recording-sink.ts";
import { createScriptedAgent, type Behaviour } from "./fakes/scripted-agent.ts";
import { ciStep, fakeCi } from "./fakes/fake-ci.ts";
import { issueTrigger } from "./fakes/triggers.ts";

const stores: [string, () => RunStore][] = [
  ["memory", () => createMemoryRunStore()],
  ["sqlite", () => createSqliteRunStore({ path: ":memory:" })],
];

function setup(makeStore: () => RunStore, script: Record<string, Behaviour[]> = {}) {
  const store = makeStore();
  const clock = createFakeClock({ start: Date.now() });
  const agents = createScriptedAgent({ generate: [{ kind: "succeed", text: "change: dark mode" }], ...script });
  const ci = fakeCi();
  const sink = createRecordingSink();
  const engine = createEngine({ store, agents, clock, progress: sink, outputs: ci.outputs, gates: ci.gates, cancelPollMs: 250, random: () => 0.5 });
  /** Claims the run's job when it is due at `now` and executes it, like a queue worker. */
  const work = async (runId: RunRecord["id"], now = clock.now()): Promise<boolean> => {
    const job = await store.claimJob("worker", now, 60_000);
    if (!job) return false;
    expect(job.runId).toBe(runId);
    await engine.execute(job.runId, new AbortController().signal);
    await store.completeJob(job.runId, "worker");
    return true;
  };
  const start = async (plan: RunPlan) => engine.start(plan, issueTrigger());
  const get = async (id: RunRecord["id"]) => (await store.getRun(id)) as RunRecord;
  const step = async (id: RunRecord["id"], stepId: string) => (await store.getSteps(id)).find((s) => s.stepId === stepId) as StepRecord;
  return { store, clock, agents, ci, sink, engine, work, start, get, step };
}

/** generate → verify (CI) */
function verifyPlan(): RunPlan {
  const plan = planRun(workflow("verify").step({ id: "generate", role: "generate", prompt: "implement {{ issue.title }}" }).build(), issueTrigger());
  plan.steps.push(ciStep("verify", { needs: [asStepId("generate")] }));
  return plan;
}

/** generate → verify-1 → fix-1 (if verify-1 failed) → verify-2: a loop with one fix, unrolled. */
function loopPlan(): RunPlan {
  const plan = planRun(
    workflow("loop")
      .step({ id: "generate", role: "generate", prompt: "implement" })
      .step({ id: "verify-fix-1", role: "generate", prompt: "fix" })
      .build(),
    issueTrigger(),
  );
  // what the planner makes of a `loop:` (rows that read the verify row they follow)
  const fix = { ...(plan.steps[1] as PlannedStep), prompt: "CI failed: {{ steps.verify-1.output }}", if: "steps.verify-1.status == 'failed'" };
  plan.steps = [
    plan.steps[0] as PlannedStep,
    ciStep("verify-1", { needs: [asStepId("generate")], loop: { id: "verify", iteration: 1, max: 1, kind: "verify" } }),
    { ...fix, needs: [asStepId("verify-1")], loop: { id: "verify", iteration: 1, max: 1, kind: "fix" } },
    ciStep("verify-2", { needs: [asStepId("verify-fix-1")], loop: { id: "verify", iteration: 2, max: 1, kind: "verify" } }),
  ];
  return plan;
}

describe.each(stores)("parking on the %s store", (_name, makeStore) => {
  it("parks a run waiting for CI without holding anything, and a CI event wakes it", async () => {
    const t = setup(makeStore);
    const run = await t.start(verifyPlan());
    expect(await t.work(run.id)).toBe(true);
    const parked = await t.get(run.id);
    expect(parked.status).toBe("waiting");
    expect(parked.waiting?.keys).toEqual(["ci:sha-1"]);
    expect((await t.step(run.id, "verify")).status).toBe("waiting");
    expect((await t.step(run.id, "verify")).waiting?.message).toBe("waiting for CI on sha-1");
    expect(t.agents.inFlight).toBe(0);
    expect(t.ci.pushes).toEqual([["generate"]]);
    expect(t.sink.types()).toContain("step.waiting:verify");
    expect(t.sink.types().at(-1)).toBe("run.waiting");
    // its poll is a job due later, not now
    expect(await t.work(run.id)).toBe(false);

    t.ci.results.set("sha-1", "success");
    expect(await t.engine.wakeWaiting("acme/widgets", "ci:sha-2")).toEqual([]);
    expect(await t.engine.wakeWaiting("acme/widgets", "ci:sha-1")).toEqual([run.id]);
    expect(await t.work(run.id)).toBe(true);
    const done = await t.get(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.waiting).toBeUndefined();
    const verify = await t.step(run.id, "verify");
    expect(verify.status).toBe("succeeded");
    expect(verify.output?.text).toBe("CI passed on sha-1");
    expect(verify.waiting).toBeUndefined();
    // the agent ran once: waking re-checks the gate, it does not redo finished steps
    expect(t.agents.callsOf("generate")).toHaveLength(1);
    expect(t.sink.types().filter((type) => type === "run.finished")).toHaveLength(1);
  });

  it("without an event, the poll wakes it when its time comes", async () => {
    const t = setup(makeStore);
    const run = await t.start(verifyPlan());
    await t.work(run.id);
    t.ci.results.set("sha-1", "failure");
    const wakeAt = (await t.get(run.id)).waiting?.wakeAt as number;
    expect(wakeAt).toBeGreaterThan(t.clock.now());
    expect(await t.work(run.id, wakeAt - 1)).toBe(false);
    expect(await t.work(run.id, wakeAt)).toBe(true);
    const done = await t.get(run.id);
    expect(done.status).toBe("failed");
    expect(done.error).toContain("expected 2, got 3");
  });

  it("cancels a parked run at once: steps cancelled, one run.finished, no job left", async () => {
    const t = setup(makeStore);
    const run = await t.start(verifyPlan());
    await t.work(run.id);
    expect(await t.engine.cancel(run.id, "cancelled by @octocat")).toBe(true);
    const done = await t.get(run.id);
    expect(done.status).toBe("cancelled");
    expect(done.finishedAt).toBeDefined();
    expect((await t.step(run.id, "verify")).status).toBe("cancelled");
    expect(t.sink.types().filter((type) => type === "run.finished")).toHaveLength(1);
    // the poll job finds a finished run and does nothing
    expect(await t.work(run.id, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(t.sink.types().filter((type) => type === "run.finished")).toHaveLength(1);
    expect(await t.engine.wake(run.id)).toBe(false);
  });

  it("a CI event that comes while the run is still parking is not lost: the run goes on at once, not at its poll", async () => {
    const t = setup(makeStore);
    // the webhook lands between the step starting to wait and the run being marked waiting
    const transition = t.store.transitionRun.bind(t.store);
    t.store.transitionRun = async (id, from, to, patch) => {
      if (to === "waiting") {
        t.ci.results.set("sha-1", "success");
        expect(await t.engine.wakeWaiting("acme/widgets", "ci:sha-1")).toEqual([id]);
      }
      return transition(id, from, to, patch);
    };
    const run = await t.start(verifyPlan());
    await t.work(run.id);
    expect((await t.get(run.id)).status).toBe("waiting");
    // due now, not at its poll a minute later
    expect(await t.work(run.id)).toBe(true);
    expect((await t.get(run.id)).status).toBe("succeeded");
  });

  it("an approval gate parks before its step; approving records who and when and runs it", async () => {
    const t = setup(makeStore, { plan: [{ kind: "succeed", text: "the plan" }] });
    const plan = planRun(workflow("gated").step({ id: "plan", role: "generate", prompt: "plan" }).step({ id: "generate", role: "generate", prompt: "do it" }).needs("plan").build(), issueTrigger());
    plan.steps[1] = { ...(plan.steps[1] as PlannedStep), approval: { permission: "maintain" } };
    const run = await t.start(plan);
    await t.work(run.id);
    expect((await t.get(run.id)).status).toBe("waiting");
    const gated = await t.step(run.id, "generate");
    expect(gated.status).toBe("waiting");
    expect(gated.waiting?.reason).toBe("approval");
    expect(gated.waiting?.message).toContain("maintain");
    expect(t.agents.callsOf("generate")).toHaveLength(0);
    // no poll: only an approval wakes it
    expect(await t.work(run.id, Number.MAX_SAFE_INTEGER)).toBe(false);
    // a restart does not wake it either
    await t.engine.resumeUnfinished();
    expect(await t.work(run.id, Number.MAX_SAFE_INTEGER)).toBe(false);

    const approved = await t.engine.approve(run.id, "maintainer-mo");
    expect(approved.map((s) => s.stepId)).toEqual(["generate"]);
    expect(await t.engine.approve(run.id, "someone-else")).toEqual([]);
    expect(await t.work(run.id)).toBe(true);
    const done = await t.get(run.id);
    expect(done.status).toBe("succeeded");
    const step = await t.step(run.id, "generate");
    expect(step.approval?.by).toBe("maintainer-mo");
    expect(step.approval?.at).toBeGreaterThanOrEqual(run.createdAt);
    expect(step.approval?.at).toBeLessThanOrEqual(t.clock.now());
    expect(t.agents.callsOf("generate")).toHaveLength(1);
  });

  it("a fix loop: CI red → the fix step reads the failure and pushes → CI green; the red row does not fail the run", async () => {
    const t = setup(makeStore, { "verify-fix-1": [{ kind: "succeed", text: "change: fix the sum" }] });
    const run = await t.start(loopPlan());
    await t.work(run.id);
    t.ci.results.set("sha-1", "failure");
    await t.engine.wakeWaiting("acme/widgets", "ci:sha-1");
    await t.work(run.id);
    expect((await t.step(run.id, "verify-1")).status).toBe("failed");
    const fixCall = t.agents.callsOf("verify-fix-1")[0];
    expect(fixCall?.prompt).toContain("expected 2, got 3 at src/sum.ts:4");
    expect(t.ci.pushes).toEqual([["generate"], ["generate", "verify-fix-1"]]);
    expect((await t.get(run.id)).waiting?.keys).toEqual(["ci:sha-2"]);
    t.ci.results.set("sha-2", "success");
    await t.engine.wakeWaiting("acme/widgets", "ci:sha-2");
    await t.work(run.id);
    const done = await t.get(run.id);
    expect(done.status).toBe("succeeded");
    expect((await t.step(run.id, "verify-2")).status).toBe("succeeded");
  });

  it("a fix loop that stays red fails the run at its last verify row; a green first check skips the rest", async () => {
    const red = setup(makeStore, { "verify-fix-1": [{ kind: "succeed", text: "change: try again" }] });
    const run = await red.start(loopPlan());
    await red.work(run.id);
    red.ci.results.set("sha-1", "failure");
    red.ci.results.set("sha-2", "failure");
    await red.engine.wake(run.id);
    await red.work(run.id);
    await red.engine.wake(run.id);
    await red.work(run.id);
    const failed = await red.get(run.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain('step "verify-2" failed');

    const green = setup(makeStore);
    const ok = await green.start(loopPlan());
    await green.work(ok.id);
    green.ci.results.set("sha-1", "success");
    await green.engine.wake(ok.id);
    await green.work(ok.id);
    expect((await green.get(ok.id)).status).toBe("succeeded");
    expect((await green.step(ok.id, "verify-fix-1")).status).toBe("skipped");
    expect((await green.step(ok.id, "verify-2")).status).toBe("skipped");
    expect(green.agents.callsOf("verify-fix-1")).toHaveLength(0);
  });

  it("a gate whose check fails transiently waits and looks again; one that waits past its timeout fails", async () => {
    const t = setup(makeStore);
    t.ci.failNextChecks(1);
    const run = await t.start(verifyPlan());
    await t.work(run.id);
    const waiting = await t.step(run.id, "verify");
    expect(waiting.waiting?.reason).toBe("retry");
    expect(waiting.waiting?.message).toContain("502");
    await t.work(run.id, waiting.waiting?.wakeAt);
    expect((await t.step(run.id, "verify")).waiting?.reason).toBe("ci");
    // CI never finishes: past the step's timeout (1 h) the gate fails instead of waiting on
    await t.clock.advance(3_600_001);
    await t.engine.wake(run.id);
    await t.work(run.id);
    const done = await t.get(run.id);
    expect(done.status).toBe("failed");
    expect(done.error).toContain("did not finish within 1 h");
  });

  it("a parked run holds its concurrency group: a second run of the same issue and workflow waits for it", async () => {
    const t = setup(makeStore);
    const first = await t.start(verifyPlan());
    await t.work(first.id);
    const second = await t.start(verifyPlan());
    const job = await t.store.claimJob("worker", t.clock.now(), 60_000);
    expect(job?.runId).toBe(second.id);
    await t.engine.execute(second.id, new AbortController().signal);
    await t.store.completeJob(second.id, "worker");
    expect((await t.get(second.id)).status).toBe("queued");
  });
});
