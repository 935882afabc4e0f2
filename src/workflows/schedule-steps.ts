/**
 * Scheduling a run's steps: launch every ready step (needs finished, condition true, budget left) up
 * to the run's step concurrency, settle steps that can no longer run (a need failed, a false
 * condition, a budget spent), and wait for in-flight steps. Returns when nothing more can start.
 */
import type { Context } from "@opentelemetry/api";
import { ancestors, topologicalOrder } from "./dag.ts";
import { conditionRefs, evaluateCondition, parseCondition, type Expr } from "./expression.ts";
import { renderPrompt } from "./render-prompt.ts";
import type { RunContext } from "./run-context.ts";
import { RunAbort } from "../errors/run-abort.ts";
import { runStep } from "./run-step.ts";
import { recordOutcome, settleUnrun, type StepResultLike } from "./step-outcomes.ts";
import { approvalWait, parked, runGate } from "./run-gate.ts";
import type { PushedHead } from "./ports.ts";
import { summarizeRun } from "./summarize-run.ts";
import type { PlannedStep, StepId, StepOutput, StepRecord } from "./types.ts";

export interface ScheduleResult {
  /** Why the run stopped early because of its limits (`limits.maxTokensPerRun`, `maxCostUsdPerRun`). */
  budgetStop?: string;
  /** Steps that could never start (a need that is not a step of the run, a dependency cycle). */
  unreachable: StepId[];
  /** Steps that wait for an outside event (CI, an approval): the run parks instead of finishing. */
  parked: StepId[];
}

const unfinished = (status: StepRecord["status"]) => status === "pending" || status === "running" || status === "waiting";

/**
 * Runs the ready steps of a run until none is left. Throws the first store failure
 * (`PersistenceError`) after aborting the run's steps with a shutdown, so the run resumes later.
 */
export async function scheduleSteps(ctx: RunContext, runController: AbortController, traceContext: Context): Promise<ScheduleResult> {
  const { deps } = ctx;
  const { clock, store, log } = { clock: deps.clock, store: deps.store, log: ctx.log };
  const plan = ctx.run.plan;
  const order = topologicalOrder(plan.steps);
  const conditions = new Map<StepId, Expr | null>();
  for (const step of plan.steps) {
    if (step.if === undefined) continue;
    try {
      conditions.set(step.id, parseCondition(step.if));
    } catch {
      conditions.set(step.id, null);
    }
  }
  /** A condition reading `steps.<id>.status` runs whatever its needs' outcomes (when it holds). */
  const decidesOnStatus = (step: PlannedStep) =>
    conditionRefs(conditions.get(step.id) ?? { kind: "literal", value: null }).some((path) => path[0] === "steps" && path[2] === "status");
  const limit = Math.max(1, plan.limits?.stepConcurrency ?? deps.stepConcurrency);
  const upstreamOf = ancestors(plan.steps);
  const lastProgressPersist = new Map<StepId, number>();
  const inFlight = new Map<StepId, Promise<void>>();
  const result: ScheduleResult = { unreachable: [], parked: [] };
  /** Steps parked by this execution: not looked at again until the run is woken. */
  const parkedHere = new Set<StepId>();
  let fatal: unknown;
  // Producing steps push as they finish, one push at a time (DESIGN D14: CI runs on the change).
  let pushes: Promise<unknown> = Promise.resolve();
  const push = (): Promise<PushedHead | undefined> => {
    const outputs = deps.outputs;
    if (!outputs?.push) return Promise.resolve(undefined);
    const next = pushes.then(() => outputs.push?.(ctx.run, [...ctx.records.values()], runController.signal));
    pushes = next.catch(() => undefined);
    return next;
  };
  const pushQuietly = () => {
    push().catch((error: unknown) => log.warn({ err: error }, "pushing the change so far failed; the run's delivery pushes it at the end"));
  };

  /** Outputs of the steps this one depends on, directly or transitively (never of parallel siblings). */
  const outputsFor = (step: PlannedStep): Record<string, StepOutput> => {
    const out: Record<string, StepOutput> = {};
    for (const id of upstreamOf.get(step.id) ?? []) {
      const rec = ctx.records.get(id as StepId);
      if (rec?.output && rec.status === "succeeded") out[id] = rec.output;
    }
    return out;
  };

  const checkBudget = () => {
    const limits = plan.limits;
    if (!limits || result.budgetStop) return;
    const summary = summarizeRun(ctx.run, [...ctx.records.values()], clock.now());
    const tokens = summary.usage.inputTokens + summary.usage.outputTokens;
    if (limits.maxTokensPerRun !== undefined && tokens > limits.maxTokensPerRun) result.budgetStop = `the run used ${tokens} tokens, over its limit of ${limits.maxTokensPerRun} (limits.maxTokensPerRun)`;
    else if (limits.maxCostUsdPerRun !== undefined && summary.costUsd > limits.maxCostUsdPerRun) result.budgetStop = `the run cost $${summary.costUsd.toFixed(4)}, over its limit of $${limits.maxCostUsdPerRun} (limits.maxCostUsdPerRun)`;
  };

  const settle = (step: PlannedStep, work: Promise<StepResultLike>) => {
    const promise = work
      .then(async (stepResult) => {
        await recordOutcome(ctx, step, stepResult);
        if (stepResult.outcome.kind === "waiting") {
          parkedHere.add(step.id);
          ctx.log.info({ stepId: step.id, key: stepResult.outcome.wait.key }, "step waits");
        }
        if (stepResult.outcome.kind === "succeeded") {
          checkBudget();
          if (step.output === "pull_request") pushQuietly();
        }
      })
      .catch((error: unknown) => {
        fatal ??= error;
        if (!runController.signal.aborted) runController.abort(new RunAbort("shutdown", "the store failed"));
      })
      .finally(() => inFlight.delete(step.id));
    inFlight.set(step.id, promise);
  };

  const launch = (step: PlannedStep) => {
    const record = ctx.records.get(step.id) as StepRecord;
    if (step.uses) {
      settle(step, runGate(ctx, step, record, outputsFor(step), runController.signal, push));
      return;
    }
    const stepStates: Record<string, { status: StepRecord["status"]; output?: string }> = {};
    // a failed step's report (a CI gate's failing checks) is what a fix step reads as its output
    for (const [id, rec] of ctx.records) stepStates[id] = { status: rec.status, ...(rec.output ? { output: rec.output.text } : rec.status === "failed" && rec.error ? { output: rec.error } : {}) };
    const prompt = renderPrompt(step.prompt, { trigger: ctx.run.trigger, workflow: ctx.run.workflow, inputs: plan.inputs, steps: stepStates });
    settle(step, runStep({
      deps,
      run: () => ctx.run,
      step,
      record,
      prompt,
      upstream: outputsFor(step),
      runSignal: runController.signal,
      traceContext,
      recordEvent: (event) => ctx.recordEvent(event),
      persistStep: (patch) => ctx.setStep(step.id, patch),
      progress: (event) => {
        ctx.emitProgress(step.id, event);
        const last = lastProgressPersist.get(step.id) ?? -Infinity;
        const now = clock.now();
        if (now - last >= deps.progressPersistMs) {
          lastProgressPersist.set(step.id, now);
          store.appendEvent(event).catch((error: unknown) => log.warn({ err: error }, "could not persist progress"));
        }
      },
    }));
  };

  const conditionHolds = (step: PlannedStep): boolean => {
    try {
      const expr = conditions.get(step.id);
      if (!expr) throw new Error(`condition cannot be parsed: ${step.if}`);
      const { run } = ctx;
      return evaluateCondition(expr, {
        inputs: plan.inputs,
        steps: Object.fromEntries([...ctx.records].map(([id, r]) => [id, { status: r.status }])),
        trigger: { kind: run.trigger.kind, actor: run.trigger.actor },
        pr: { draft: run.trigger.pullRequest?.draft ?? false, from_fork: run.trigger.pullRequest?.fromFork ?? false },
      });
    } catch (error) {
      log.warn({ err: error, stepId: step.id }, "condition could not be evaluated");
      return false;
    }
  };

  /** Settles or launches one step that is not finished; returns true when it settled (state changed). */
  const visit = async (step: PlannedStep): Promise<"settled" | "launched" | "waiting" | "full"> => {
    const needs = step.needs.map((id) => ctx.records.get(id));
    if (needs.some((n) => n !== undefined && unfinished(n.status))) return "waiting";
    const missing = step.needs.find((id) => !ctx.records.has(id));
    if (missing) {
      const record = ctx.records.get(step.id) as StepRecord;
      await recordOutcome(ctx, step, { outcome: { kind: "failed", error: `needs "${missing}", which is not a step of this run`, retriable: false }, attempts: record.attempts, startedAt: clock.now() });
      return "settled";
    }
    // A condition that reads step statuses decides for itself; otherwise a need that did not succeed skips the step.
    const blocked = decidesOnStatus(step) ? undefined : needs.find((n) => n && n.status !== "succeeded");
    if (blocked) {
      await settleUnrun(ctx, step, "skipped", `skipped because "${blocked.stepId}" ${blocked.status === "failed" ? "failed" : `was ${blocked.status}`}`);
      return "settled";
    }
    if (result.budgetStop) {
      await settleUnrun(ctx, step, "skipped", `skipped: ${result.budgetStop}`);
      return "settled";
    }
    if (step.if !== undefined && !conditionHolds(step)) {
      await settleUnrun(ctx, step, "skipped", `condition is false: ${step.if}`);
      return "settled";
    }
    const record = ctx.records.get(step.id) as StepRecord;
    const approval = approvalWait(ctx, step, record);
    if (approval) {
      await recordOutcome(ctx, step, parked(approval, record, clock.now()));
      parkedHere.add(step.id);
      return "settled";
    }
    if (inFlight.size >= limit) return "full";
    launch(step);
    return "launched";
  };

  for (;;) {
    let settled = false;
    if (!runController.signal.aborted && fatal === undefined) {
      for (const step of order) {
        const record = ctx.records.get(step.id);
        if (!record || !unfinished(record.status) || inFlight.has(step.id) || parkedHere.has(step.id)) continue;
        const visited = await visit(step);
        if (visited === "settled") settled = true;
        if (visited === "full") break;
      }
    }
    if (settled) continue;
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  await pushes;
  if (fatal !== undefined) throw fatal;
  if (!runController.signal.aborted) {
    result.parked = [...parkedHere];
    if (result.parked.length > 0) return result;
    for (const step of order) {
      const record = ctx.records.get(step.id);
      if (record && unfinished(record.status)) result.unreachable.push(step.id);
    }
  }
  return result;
}
