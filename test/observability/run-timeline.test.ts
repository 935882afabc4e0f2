import { describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { buildTimeline } from "../../src/observability/run-timeline.ts";
import { asRunId, asStepId } from "../../src/workflows/types.ts";
import { seedFeatureRun, seedRun } from "./seed-runs.ts";

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

async function featureRun() {
  const store = createMemoryRunStore();
  const run = await seedFeatureRun(store, { id: "f1", createdAt: T0 });
  const stored = await store.getRun(run.id);
  if (!stored) throw new Error("seeded run missing");
  return { run: stored, steps: await store.getSteps(run.id), events: await store.listEvents(run.id) };
}

describe("buildTimeline", () => {
  it("rebuilds every attempt with its outcome, the back-off waits, tokens and cost", async () => {
    const { run, steps, events } = await featureRun();
    const t = buildTimeline(run, steps, events, T0 + 3_600_000);
    expect(t.startedAt).toBe(at(0));
    expect(t.endedAt).toBe(at(289));
    expect(t.queuedMs).toBe(1200);
    expect(t.attempts.map((a) => [a.stepId, a.attempt, a.outcome])).toEqual([
      ["analyse", 1, "succeeded"],
      ["generate", 1, "retried"],
      ["generate", 2, "succeeded"],
      ["review", 1, "succeeded"],
      ["tests", 1, "retried"],
      ["tests", 2, "failed"],
      ["docs", 1, "succeeded"],
    ]);
    const [, gen1, gen2, , tests1, tests2] = t.attempts;
    expect(gen1).toMatchObject({ startedAt: at(24.5), endedAt: at(58), durationMs: 33_500, waitMs: 8000, costUsd: 0 });
    expect(gen1?.error).toContain("429 Too Many Requests");
    expect(gen1?.tokens).toBeGreaterThan(0); // the last streamed count of the failed attempt
    expect(gen1?.tokens).toBeLessThan(9000);
    expect(gen2).toMatchObject({ startedAt: at(66), endedAt: at(161), tokens: 44_520, costUsd: 0.207 });
    expect(gen2?.waitMs).toBeUndefined();
    expect(tests1).toMatchObject({ waitMs: 5000, outcome: "retried" });
    expect(tests2?.error).toContain("do not apply after 2 attempts");
    expect(t.attempts.some((a) => a.stepId === "finalise")).toBe(false); // skipped: never started
  });

  it("falls back on the step records when the early events are gone", async () => {
    const { run, steps, events } = await featureRun();
    const tail = events.slice(-3); // tests' last finish, finalise skipped, run finished
    const t = buildTimeline(run, steps, tail, T0 + 3_600_000);
    const tests = t.attempts.filter((a) => a.stepId === "tests");
    expect(tests).toHaveLength(1);
    expect(tests[0]).toMatchObject({ startedAt: at(162), endedAt: at(288), outcome: "failed" });
    const gen = t.attempts.filter((a) => a.stepId === "generate");
    expect(gen).toEqual([expect.objectContaining({ attempt: 2, startedAt: at(24.5), endedAt: at(161), outcome: "succeeded", tokens: 44_520, costUsd: 0.207 })]);
    expect(t.attempts.map((a) => a.stepId)).toEqual(["analyse", "generate", "review", "tests", "docs"]);
  });

  it("shows a running attempt up to now and a queued run without attempts", async () => {
    const store = createMemoryRunStore();
    await seedRun(store, { id: "r1", status: "running", createdAt: T0 });
    await store.appendEvent({ type: "step.started", runId: asRunId("r1"), stepId: asStepId("review"), attempt: 1, at: T0 + 1500 });
    const run = await store.getRun(asRunId("r1"));
    if (!run) throw new Error("missing");
    const t = buildTimeline(run, await store.getSteps(run.id), await store.listEvents(run.id), T0 + 10_000);
    const review = t.attempts.find((a) => a.stepId === "review");
    expect(review).toMatchObject({ outcome: "running", durationMs: 8500 });
    expect(review?.endedAt).toBeUndefined();
    expect(t.endedAt).toBe(new Date(T0 + 10_000).toISOString());

    await seedRun(store, { id: "q1", status: "queued", createdAt: T0 });
    const queued = await store.getRun(asRunId("q1"));
    if (!queued) throw new Error("missing");
    const q = buildTimeline(queued, await store.getSteps(queued.id), [], T0 + 5000);
    expect(q).toEqual({ startedAt: new Date(T0).toISOString(), endedAt: new Date(T0 + 5000).toISOString(), attempts: [] });
  });

  it("scrubs secrets from attempt errors", async () => {
    const { run, steps, events } = await featureRun();
    const secret = "sk-" + "A".repeat(40);
    const retry = events.find((e) => e.type === "step.retrying");
    if (retry?.type !== "step.retrying") throw new Error("no retry event");
    retry.error = `provider said: bad key ${secret}`;
    const t = buildTimeline(run, steps, events, T0);
    expect(JSON.stringify(t)).not.toContain(secret);
  });
});
