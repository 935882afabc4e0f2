import { describe, expect, it } from "vitest";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { RetryAfterError } from "../../src/errors/retry-after-error.ts";
import { ExternalServiceError } from "../../src/errors/external-service-error.ts";
import { ProviderUnavailableError } from "../../src/errors/provider-unavailable-error.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { backoffDelay, DEFAULT_BACKOFF } from "../../src/resilience/backoff.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine, type EngineDeps } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { AgentRunner, ProgressSink } from "../../src/workflows/ports.ts";
import type { RunPlan, RunRecord } from "../../src/workflows/types.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { createRecordingSink } from "./fakes/recording-sink.ts";
import { createScriptedAgent, output, type Behaviour } from "./fakes/scripted-agent.ts";
import { issueTrigger } from "./fakes/triggers.ts";
import { until } from "./fakes/until.ts";

const POLL = 250;

function setup(script: Record<string, Behaviour[]> = {}, overrides: Partial<EngineDeps> = {}) {
  const store = createMemoryRunStore();
  const clock = createFakeClock();
  const agents = createScriptedAgent(script);
  const sink = createRecordingSink();
  const metrics = createMetrics({ defaults: false });
  const engine = createEngine({ store, agents, clock, progress: sink, metrics, cancelPollMs: POLL, random: () => 0.5, ...overrides });
  const run = async (plan: RunPlan): Promise<RunRecord> => {
    const started = await engine.start(plan, issueTrigger());
    await engine.execute(started.id, new AbortController().signal);
    return (await store.getRun(started.id)) as RunRecord;
  };
  return { store, clock, agents, sink, metrics, engine, run };
}

const retrySleeps = (sleeps: number[]) => sleeps.filter((ms) => ms !== POLL);

/** a → (b, c, d) → e */
const fanOut = () =>
  workflow("fan-out")
    .step({ id: "a", role: "generate", prompt: "plan {{ issue.title }}" })
    .step({ id: "b", role: "review", prompt: "review {{ steps.a.output }}" }).needs("a")
    .step({ id: "c", role: "test", prompt: "test {{ steps.a.output }}" }).needs("a")
    .step({ id: "d", role: "docs", prompt: "docs {{ steps.a.output }}" }).needs("a")
    .step({ id: "e", role: "generate", prompt: "finish {{ steps.b.output }} {{ steps.c.status }}" }).needs("b", "c", "d")
    .build();

describe("engine: ordering and data flow", () => {
  it("runs steps in dependency order and passes rendered upstream outputs downstream", async () => {
    const { run, agents, sink, store } = setup({ a: [{ kind: "succeed", text: "PLAN-42" }], b: [{ kind: "succeed", text: "LGTM" }] });
    const finished = await run(planRun(fanOut(), issueTrigger()));
    expect(finished.status).toBe("succeeded");
    const order = agents.calls.map((c) => c.stepId);
    expect(order[0]).toBe("a");
    expect(order.at(-1)).toBe("e");
    expect(order.slice(1, 4).sort()).toEqual(["b", "c", "d"]);
    const e = agents.callsOf("e")[0];
    expect(e?.prompt).toContain('<untrusted-data source="steps.b.output">\nLGTM\n</untrusted-data>');
    expect(e?.prompt).toContain(" succeeded");
    expect(e?.upstream).toEqual(["a", "b", "c", "d"]);
    for (const sibling of ["b", "c", "d"]) expect(agents.callsOf(sibling)[0]?.upstream).toEqual(["a"]);
    expect(agents.callsOf("a")[0]?.prompt).toContain('<untrusted-data source="issue.title">\nAdd dark mode\n</untrusted-data>');
    expect(sink.types()[0]).toBe("run.started");
    expect(sink.types().at(-1)).toBe("run.finished");
    const stored = await store.listEvents(finished.id);
    expect(stored.map((e) => e.type)).toEqual(sink.events.map((e) => e.type));
    const steps = await store.getSteps(finished.id);
    expect(steps.every((s) => s.status === "succeeded" && s.attempts === 1 && s.output !== undefined)).toBe(true);
  });

  it("runs independent steps in parallel, bounded by the concurrency limit", async () => {
    const blockAll = { b: [{ kind: "block" as const }], c: [{ kind: "block" as const }], d: [{ kind: "block" as const }] };
    for (const [limit, expected] of [[4, 3], [2, 2], [1, 1]] as const) {
      const { engine, agents, store } = setup(blockAll, { stepConcurrency: limit });
      const started = await engine.start(planRun(fanOut(), issueTrigger()), issueTrigger());
      const done = engine.execute(started.id, new AbortController().signal);
      let finished = false;
      void done.then(() => (finished = true));
      await until(() => agents.running.size === expected, `${expected} steps running at once`);
      while (!finished) {
        for (const id of [...agents.running]) agents.release(id);
        await until(() => finished || agents.running.size > 0, "the next step");
      }
      await done;
      expect(agents.maxConcurrent).toBe(expected);
      expect((await store.getRun(started.id))?.status).toBe("succeeded");
    }
  });

  it("passes only upstream outputs to a step, never those of siblings that finished earlier", async () => {
    const { run, agents } = setup({}, { stepConcurrency: 1 });
    await run(planRun(fanOut(), issueTrigger()));
    for (const sibling of ["b", "c", "d"]) expect(agents.callsOf(sibling)[0]?.upstream).toEqual(["a"]);
    expect(agents.callsOf("e")[0]?.upstream).toEqual(["a", "b", "c", "d"]);
  });

  it("a plan's limits.stepConcurrency overrides the engine default", async () => {
    const { engine, agents } = setup({ b: [{ kind: "block" }], c: [{ kind: "block" }], d: [{ kind: "block" }] }, { stepConcurrency: 4 });
    const plan = { ...planRun(fanOut(), issueTrigger()), limits: { stepConcurrency: 1 } };
    const started = await engine.start(plan, issueTrigger());
    const done = engine.execute(started.id, new AbortController().signal);
    for (const id of ["b", "c", "d"]) {
      await agents.started(id);
      await new Promise((r) => setImmediate(r));
      expect(agents.running.size).toBe(1);
      agents.release(id);
    }
    await done;
    expect(agents.maxConcurrent).toBe(1);
  });
});

describe("engine: failures and retries", () => {
  it("a failed step skips its downstream with a reason; independent branches still run", async () => {
    const { run, store, agents } = setup({ c: [{ kind: "fail", error: new NonRetriableError("tests cannot be written here") }] });
    const finished = await run(planRun(fanOut(), issueTrigger()));
    expect(finished.status).toBe("failed");
    expect(finished.error).toBe('step "c" failed: tests cannot be written here');
    const steps = Object.fromEntries((await store.getSteps(finished.id)).map((s) => [s.stepId, s]));
    expect(steps.c).toMatchObject({ status: "failed", attempts: 1, error: "tests cannot be written here" });
    expect(steps.b?.status).toBe("succeeded");
    expect(steps.d?.status).toBe("succeeded");
    expect(steps.e).toMatchObject({ status: "skipped", error: 'skipped because "c" failed' });
    expect(agents.callsOf("e")).toHaveLength(0);
  });

  it("retries a failing step with exponential backoff and jitter on the clock, then succeeds", async () => {
    const flaky = new Error("socket hang up");
    const template = workflow("retry").step({ id: "a", role: "generate", prompt: "x", retries: 3 }).build();
    const { run, agents, clock, sink, store, metrics } = setup({ a: [{ kind: "fail", error: flaky }, { kind: "fail", error: flaky }, { kind: "succeed" }] });
    const finished = await run(planRun(template, issueTrigger()));
    expect(finished.status).toBe("succeeded");
    expect(agents.callsOf("a").map((c) => c.attempt)).toEqual([1, 2, 3]);
    const expected = [backoffDelay(1, DEFAULT_BACKOFF, () => 0.5), backoffDelay(2, DEFAULT_BACKOFF, () => 0.5)];
    expect(expected).toEqual([750, 1500]);
    expect(retrySleeps(clock.sleeps)).toEqual(expected);
    const retrying = sink.events.filter((e) => e.type === "step.retrying");
    expect(retrying.map((e) => (e.type === "step.retrying" ? [e.attempt, e.delayMs, e.error] : []))).toEqual([
      [1, 750, "socket hang up"],
      [2, 1500, "socket hang up"],
    ]);
    expect((await store.getSteps(finished.id))[0]?.attempts).toBe(3);
    expect((await metrics.registry.getSingleMetricAsString("octoflow_step_retries_total"))).toContain('role="generate"} 2');
  });

  it("stops after the retry budget and fails the step with the last error", async () => {
    const template = workflow("retry").step({ id: "a", role: "generate", prompt: "x", retries: 2 }).build();
    const { run, agents, clock } = setup({ a: [{ kind: "fail", error: new ExternalServiceError("HTTP 503", { service: "openai", status: 503, retriable: true }) }] });
    const finished = await run(planRun(template, issueTrigger()));
    expect(finished.status).toBe("failed");
    expect(agents.callsOf("a")).toHaveLength(3);
    expect(retrySleeps(clock.sleeps)).toHaveLength(2);
  });

  it("NonRetriableError, non-retriable service errors and an open breaker stop at once", async () => {
    for (const error of [new NonRetriableError("bad request"), new ExternalServiceError("401", { service: "anthropic", status: 401, retriable: false }), new ProviderUnavailableError("openai")]) {
      const template = workflow("nr").step({ id: "a", role: "generate", prompt: "x", retries: 5 }).build();
      const { run, agents, clock, sink } = setup({ a: [{ kind: "fail", error }] });
      const finished = await run(planRun(template, issueTrigger()));
      expect(finished.status).toBe("failed");
      expect(agents.callsOf("a")).toHaveLength(1);
      expect(retrySleeps(clock.sleeps)).toEqual([]);
      expect(sink.events.some((e) => e.type === "step.retrying")).toBe(false);
    }
  });

  it("RetryAfterError sets the delay", async () => {
    const template = workflow("ra").step({ id: "a", role: "generate", prompt: "x", retries: 1 }).build();
    const { run, clock } = setup({ a: [{ kind: "fail", error: new RetryAfterError("429", 7000) }, { kind: "succeed" }] });
    expect((await run(planRun(template, issueTrigger()))).status).toBe("succeeded");
    expect(retrySleeps(clock.sleeps)).toEqual([7000]);
  });

  it("a step that runs past its timeout is aborted (even if the agent ignores the signal) and retried", async () => {
    const plan = planRun(workflow("slow").step({ id: "a", role: "generate", prompt: "x", retries: 1 }).build(), issueTrigger());
    const timed = { ...plan, steps: plan.steps.map((s) => ({ ...s, timeoutMs: 25 })) };
    const { run, agents, store } = setup({ a: [{ kind: "hang" }, { kind: "block" }] });
    const finished = await run(timed);
    expect(finished.status).toBe("failed");
    expect(agents.callsOf("a")).toHaveLength(2);
    expect(agents.callsOf("a")[1]?.signal.aborted).toBe(true);
    expect((await store.getSteps(finished.id))[0]).toMatchObject({ status: "failed", attempts: 2, error: 'step "a" timed out after 25ms' });
  });
});

describe("engine: conditions, budgets, summary, sinks, metrics", () => {
  it("a false condition skips the step and, through it, its dependents; status conditions decide for themselves", async () => {
    const template = workflow("cond")
      .input("docs", { default: "false" })
      .step({ id: "a", role: "generate", prompt: "x" })
      .step({ id: "docs", role: "docs", prompt: "y", if: "inputs.docs == 'true'" }).needs("a")
      .step({ id: "after-docs", role: "generate", prompt: "z" }).needs("docs")
      .step({ id: "final", role: "generate", prompt: "w", if: "steps.a.status == 'succeeded'" }).needs("docs")
      .build();
    const { run, store, agents } = setup();
    const finished = await run(planRun(template, issueTrigger()));
    const steps = Object.fromEntries((await store.getSteps(finished.id)).map((s) => [s.stepId, s]));
    expect(steps.docs).toMatchObject({ status: "skipped", error: "condition is false: inputs.docs == 'true'" });
    expect(steps["after-docs"]).toMatchObject({ status: "skipped", error: 'skipped because "docs" was skipped' });
    expect(steps.final?.status).toBe("succeeded");
    expect(finished.status).toBe("succeeded");
    expect(agents.calls.map((c) => c.stepId)).toEqual(["a", "final"]);
  });

  it("stops a run that goes over its token budget", async () => {
    const template = workflow("budget")
      .step({ id: "a", role: "generate", prompt: "x" })
      .step({ id: "b", role: "generate", prompt: "y" }).needs("a")
      .build();
    const { run, store, agents } = setup({ a: [{ kind: "succeed", tokens: 600 }] });
    const plan = { ...planRun(template, issueTrigger()), limits: { maxTokensPerRun: 1000 } };
    const finished = await run(plan);
    expect(finished.status).toBe("failed");
    expect(finished.error).toContain("1200 tokens, over its limit of 1000");
    expect((await store.getSteps(finished.id))[1]).toMatchObject({ status: "skipped" });
    expect(agents.callsOf("b")).toHaveLength(0);
  });

  it("aggregates the run: success rate, critical path, token and cost totals", async () => {
    const { run, engine, sink } = setup({ a: [{ kind: "succeed", tokens: 5, costUsd: 0.5 }], c: [{ kind: "fail", error: new NonRetriableError("no") }] });
    const finished = await run(planRun(fanOut(), issueTrigger()));
    const status = await engine.getStatus(finished.id);
    const summary = status?.summary;
    expect(summary).toMatchObject({ steps: 5, succeeded: 3, failed: 1, skipped: 1, cancelled: 0, successRate: 0.75 });
    expect(summary?.usage).toEqual({ inputTokens: 25, outputTokens: 25, cachedTokens: 0 });
    expect(summary?.costUsd).toBeCloseTo(0.52, 6);
    expect(summary?.criticalPath[0]).toBe("a");
    const last = sink.events.at(-1);
    expect(last?.type === "run.finished" && last.summary.failed).toBe(1);
  });

  it("sinks that throw or reject never fail a run", async () => {
    for (const fail of ["throw", "reject"] as const) {
      const sink = createRecordingSink({ fail });
      const { run } = setup({}, { progress: sink });
      const finished = await run(planRun(fanOut(), issueTrigger()));
      expect(finished.status).toBe("succeeded");
      expect(sink.events.at(-1)?.type).toBe("run.finished");
    }
  });

  it("a sink that never answers does not hold the worker once the run is finished and stored", async () => {
    const never: ProgressSink = { emit: (event) => (event.type === "run.finished" ? new Promise<void>(() => {}) : undefined) };
    const { run } = setup({}, { progress: never, sinkDrainMs: 10 });
    const finished = await run(planRun(fanOut(), issueTrigger()));
    expect(finished.status).toBe("succeeded");
  });

  it("a slow sink gets the newest progress, never a backlog of every streamed chunk", async () => {
    const release: (() => void)[] = [];
    const seen: string[] = [];
    const slow: ProgressSink = {
      emit: (event) => {
        if (event.type !== "step.progress") return undefined;
        seen.push(event.tail);
        return new Promise<void>((resolve) => release.push(resolve));
      },
    };
    let finishAgent = () => {};
    const agents: AgentRunner = {
      async run(request) {
        for (let i = 1; i <= 1000; i++) request.onProgress({ tokens: i, tail: `chunk ${i}` });
        await new Promise<void>((resolve) => (finishAgent = resolve));
        return output("done");
      },
    };
    const { engine, store } = setup({}, { agents, progress: slow });
    const started = await engine.start(planRun(workflow("stream").step({ id: "a", role: "generate", prompt: "x" }).build(), issueTrigger()), issueTrigger());
    const done = engine.execute(started.id, new AbortController().signal);
    await until(() => seen.length >= 1, "the first progress event");
    expect(seen).toEqual(["chunk 1"]); // the sink is busy: the other 999 wait as one
    release.shift()?.();
    await until(() => seen.length >= 2, "the newest progress event");
    expect(seen).toEqual(["chunk 1", "chunk 1000"]);
    release.shift()?.();
    finishAgent();
    await done;
    expect((await store.getRun(started.id))?.status).toBe("succeeded");
  });

  it("streams progress to the sink and records run and step metrics", async () => {
    const { run, sink, metrics } = setup({ a: [{ kind: "succeed", progress: ["Thinking", "Thinking about dark mode"] }] });
    await run(planRun(fanOut(), issueTrigger()));
    const progress = sink.events.filter((e) => e.type === "step.progress");
    expect(progress.map((e) => (e.type === "step.progress" ? e.tail : ""))).toEqual(["Thinking", "Thinking about dark mode"]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('octoflow_runs_total{workflow="fan-out",conclusion="succeeded"} 1');
    expect(text).toContain('octoflow_steps_total{role="generate",outcome="succeeded"} 2');
    expect(text).toMatch(/octoflow_active_runs 0/);
  });

  it("resolves step models: step > repo role map > repo default > engine default", async () => {
    const { run, agents } = setup();
    const template = workflow("models")
      .step({ id: "a", role: "generate", prompt: "x", model: "openai:gpt-4.1" })
      .step({ id: "b", role: "review", prompt: "x" })
      .step({ id: "c", role: "test", prompt: "x" })
      .build();
    const { parseRepoConfig } = await import("../../src/config/repo-config.ts");
    const repoConfig = parseRepoConfig("models:\n  default: anthropic:claude-haiku-4-5\n  roles:\n    review: anthropic:claude-sonnet-4-5\n");
    await run(planRun(template, issueTrigger(), { repoConfig, defaultModel: "openai:gpt-4.1-mini" }));
    expect(Object.fromEntries(agents.calls.map((c) => [c.stepId, c.model]))).toEqual({ a: "openai:gpt-4.1", b: "anthropic:claude-sonnet-4-5", c: "anthropic:claude-haiku-4-5" });
  });
});

describe("engine: an agent that answers garbage", () => {
  it("fails the step with a clear error instead of crashing the run", async () => {
    const garbage = [undefined, { text: 42 }, { text: "ok" }, { text: "ok", usage: { inputTokens: Number.NaN, outputTokens: 1, cachedTokens: 0 } }];
    for (const answer of garbage) {
      const agents: AgentRunner = { run: async () => answer as never };
      const { run } = setup({}, { agents });
      const finished = await run(planRun(workflow("g").step({ id: "a", role: "generate", prompt: "x", retries: 3 }).build(), issueTrigger()));
      expect(finished).toMatchObject({ status: "failed", error: 'step "a" failed: step "a": the agent returned a malformed result (expected text and token usage)' });
    }
    const { run } = setup({}, { agents: { run: async () => ({ text: "fine", usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: Number.NaN }) } });
    const finished = await run(planRun(workflow("g").step({ id: "a", role: "generate", prompt: "x" }).build(), issueTrigger()));
    expect(finished.status).toBe("succeeded");
  });
});

describe("engine: bad plans never hang", () => {
  it("a hand-built plan with a cycle or an unknown need fails the run with a clear error", async () => {
    const base = planRun(workflow("bad").step({ id: "a", role: "generate", prompt: "x" }).step({ id: "b", role: "generate", prompt: "y" }).needs("a").build(), issueTrigger());
    const cyclic: RunPlan = { ...base, steps: base.steps.map((s) => (s.id === "a" ? { ...s, needs: [base.steps[1]!.id] } : s)) };
    const { run, store, agents } = setup();
    const finished = await run(cyclic);
    expect(finished.status).toBe("failed");
    expect(finished.error).toBe('step "a" never became ready (a dependency cycle or an unknown need)');
    expect(agents.calls).toHaveLength(0);
    expect((await store.getSteps(finished.id)).map((s) => s.status)).toEqual(["skipped", "skipped"]);

    const dangling: RunPlan = { ...base, steps: [{ ...base.steps[0]!, needs: [base.steps[1]!.id] }] };
    const second = setup();
    const result = await second.run(dangling);
    expect(result.status).toBe("failed");
    expect(result.error).toBe('step "a" failed: needs "b", which is not a step of this run');
    expect((await second.store.getSteps(result.id))[0]).toMatchObject({ status: "failed", error: 'needs "b", which is not a step of this run' });
  });
});
