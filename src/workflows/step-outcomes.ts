/**
 * Recording what became of a step: one handler per `StepOutcome` kind. Each persists the step's new
 * state and its `step.finished` event (issued together, so a group-committing store writes both in
 * one transaction) and counts it in the metrics. `interrupted` records nothing: the step runs again
 * when the run resumes.
 */
import { clearStepFields, type RunContext } from "./run-context.ts";
import type { PlannedStep, RunEvent, StepOutcome, StepOutput, StepRecord, StepStatus } from "./types.ts";

export interface StepResultLike {
  outcome: StepOutcome;
  attempts: number;
  startedAt: number;
}

type Handler<K extends StepOutcome["kind"]> = (ctx: RunContext, step: PlannedStep, outcome: Extract<StepOutcome, { kind: K }>, result: StepResultLike) => Promise<void>;

const handlers: { [K in StepOutcome["kind"]]: Handler<K> } = {
  succeeded: (ctx, step, outcome, result) =>
    finish(ctx, step, result, "succeeded", { output: outcome.output }),
  failed: (ctx, step, outcome, result) => finish(ctx, step, result, "failed", { error: outcome.error, ...(outcome.output ? { output: outcome.output } : {}) }),
  skipped: (ctx, step, outcome, result) => finish(ctx, step, result, "skipped", { error: outcome.reason }),
  cancelled: (ctx, step, outcome, result) => finish(ctx, step, result, "cancelled", { error: outcome.reason }),
  interrupted: async (ctx, step) => {
    ctx.endProgress(step.id);
  },
  waiting: async (ctx, step, outcome, result) => {
    ctx.endProgress(step.id);
    const previous = ctx.records.get(step.id)?.waiting;
    // a step that was already waiting keeps its start (the gate's own deadlines count from it)
    const wait = { ...outcome.wait, since: previous?.since ?? outcome.wait.since };
    const unchanged = ctx.records.get(step.id)?.status === "waiting" && previous?.key === wait.key && previous.message === wait.message;
    const saved = ctx.setStep(step.id, { status: "waiting", attempts: result.attempts, waiting: wait, ...(ctx.records.get(step.id)?.startedAt === undefined ? { startedAt: result.startedAt } : {}) });
    saved.catch(() => undefined);
    // woken and still waiting for the same thing: nothing new to show
    if (!unchanged) await ctx.recordEvent({ type: "step.waiting", runId: ctx.run.id, stepId: step.id, reason: wait.reason, message: wait.message, at: ctx.deps.clock.now() });
    await saved;
  },
};

/**
 * Records a step's outcome with the handler of its kind.
 *
 * @example
 * await recordOutcome(ctx, step, await runStep(input));
 */
export function recordOutcome(ctx: RunContext, step: PlannedStep, result: StepResultLike): Promise<void> {
  const handler = handlers[result.outcome.kind] as Handler<StepOutcome["kind"]>;
  return handler(ctx, step, result.outcome, result);
}

/** A step that never ran: skipped (a need did not succeed, a false condition, a budget) or cancelled with its run. */
export function settleUnrun(ctx: RunContext, step: PlannedStep, kind: "skipped" | "cancelled", reason: string): Promise<void> {
  const attempts = ctx.records.get(step.id)?.attempts ?? 0;
  const outcome: StepOutcome = kind === "skipped" ? { kind, reason } : { kind, reason };
  return recordOutcome(ctx, step, { outcome, attempts, startedAt: ctx.deps.clock.now() });
}

async function finish(ctx: RunContext, step: PlannedStep, result: StepResultLike, status: StepStatus, detail: { output?: StepOutput; error?: string }): Promise<void> {
  const { clock, metrics } = ctx.deps;
  const now = clock.now();
  ctx.endProgress(step.id);
  const ran = ctx.records.get(step.id)?.startedAt !== undefined || result.attempts > 0;
  const durationMs = ran ? Math.max(0, now - result.startedAt) : 0;
  metrics?.steps.inc({ role: step.role, outcome: status });
  if (ran) metrics?.stepDuration.observe({ role: step.role, outcome: status }, durationMs / 1000);
  const patch: Partial<StepRecord> = { ...clearStepFields, status, attempts: result.attempts, finishedAt: now, ...detail };
  const saved = ctx.setStep(step.id, patch);
  saved.catch(() => undefined);
  const event: RunEvent = { type: "step.finished", runId: ctx.run.id, stepId: step.id, status, attempts: result.attempts, durationMs, ...detail, at: now };
  await ctx.recordEvent(event);
  await saved;
}
