/**
 * Finishing a run: settle the steps that will never run, decide the run's status, deliver its outputs
 * (before anything says it finished), then write the final status and the `run.finished` event in one
 * store transaction and emit it. Also finishes cancelled runs that no process executes.
 */
import { drainSinks } from "./compose-sinks.ts";
import { deliverOutputs } from "./deliver-outputs.ts";
import type { ResolvedEngineDeps } from "./engine-deps.ts";
import { persist, type RunContext } from "./run-context.ts";
import { RunAbort } from "../errors/run-abort.ts";
import type { ScheduleResult } from "./schedule-steps.ts";
import { settleUnrun } from "./step-outcomes.ts";
import { summarizeRun } from "./summarize-run.ts";
import { parkRun } from "./park-run.ts";
import type { RunEvent, RunFinishedEvent, RunId, RunRecord, RunStatus, StepRecord } from "./types.ts";

/** How a finalisation ended: finished here, finished by someone else, or stopped for a later resume. */
export type FinaliseResult = { kind: "finished"; event: RunFinishedEvent } | { kind: "finished-elsewhere" } | { kind: "interrupted" } | { kind: "parked" };

const UNREACHABLE = "never became ready (a dependency cycle or an unknown need)";

/**
 * Finalises the run in `ctx` after scheduling ended. A shutdown (or a lost lease) during delivery leaves
 * the run `running` with its delivery pending: the next executor delivers (once) and finishes it.
 */
export async function finaliseRun(ctx: RunContext, runController: AbortController, schedule: ScheduleResult, enqueue: (runAt: number) => Promise<void>): Promise<FinaliseResult> {
  const { deps } = ctx;
  const { clock, store } = deps;
  const runId = ctx.run.id;
  const isShutdown = () => {
    const reason: unknown = runController.signal.reason;
    return runController.signal.aborted && reason instanceof RunAbort && reason.kind === "shutdown";
  };
  if (isShutdown()) return { kind: "interrupted" };

  let cancelled = runController.signal.aborted;
  if (!cancelled && schedule.parked.length > 0) {
    if ((await parkRun(ctx, schedule.parked, enqueue)).kind === "parked") return { kind: "parked" };
    cancelled = true; // cancelled while it was parking: finished as cancelled below
  }
  for (const step of ctx.run.plan.steps) {
    const record = ctx.records.get(step.id);
    if (!record || (record.status !== "pending" && record.status !== "running" && record.status !== "waiting")) continue;
    if (cancelled) await settleUnrun(ctx, step, "cancelled", "run cancelled");
    else await settleUnrun(ctx, step, "skipped", UNREACHABLE);
  }
  const steps = [...ctx.records.values()];
  const failedStep = steps.find((s) => s.status === "failed" && !fixedByLoop(ctx, s));
  const unreachable = schedule.unreachable[0];
  let status: RunStatus = cancelled ? "cancelled" : failedStep || schedule.budgetStop || unreachable ? "failed" : "succeeded";
  let error = cancelled
    ? cancelReason(runController)
    : (schedule.budgetStop ?? (failedStep ? `step "${failedStep.stepId}" failed: ${failedStep.error ?? "unknown error"}` : unreachable ? `step "${unreachable}" ${UNREACHABLE}` : undefined));

  if (!cancelled) {
    const delivery = await deliverOutputs(ctx, status, runController.signal);
    if (delivery.kind === "aborted") {
      if (isShutdown()) return { kind: "interrupted" };
      cancelled = true;
      status = "cancelled";
      error = cancelReason(runController);
    } else if (delivery.kind === "failed") {
      status = "failed";
      error = error === undefined ? delivery.error : `${error}; ${delivery.error}`;
    }
  }

  const finishedAt = clock.now();
  const finish = async (from: RunStatus[], final: RunRecord, patch: Partial<RunRecord>): Promise<RunFinishedEvent | undefined> => {
    const at = clock.now();
    const summary = summarizeRun(final, [...ctx.records.values()], at);
    const event: RunFinishedEvent = { type: "run.finished", runId, status: final.status, at, summary, ...(final.error !== undefined ? { error: final.error } : {}) };
    return (await persist(() => store.finishRun(runId, from, event, { finishedAt, ...patch }))) ? event : undefined;
  };
  let finished: RunFinishedEvent | undefined;
  if (!cancelled) {
    const { error: _previous, ...current } = ctx.run;
    const final: RunRecord = { ...current, status, finishedAt, ...(error !== undefined ? { error } : {}) };
    finished = await finish(["running"], final, error !== undefined ? { error } : {});
    if (finished) ctx.run = final;
  }
  if (!finished) {
    // Cancelled (here, or by another process — the final transition above then lost the race). The
    // canceller wrote the status and its reason; this executor finishes the run unless someone did.
    const latest = await persist(() => store.getRun(runId));
    if (latest) ctx.run = latest;
    if (latest?.status === "cancelled" && latest.finishedAt === undefined) {
      const final: RunRecord = { ...latest, finishedAt };
      finished = await finish(["cancelled"], final, {});
      if (finished) ctx.run = final;
    }
  }
  if (!finished) {
    ctx.log.info({ status: ctx.run.status }, "run was already finished by another process");
    return { kind: "finished-elsewhere" };
  }
  // the stored record (with fields other writers set meanwhile, such as the check run id) for the sinks
  ctx.run = (await persist(() => store.getRun(runId))) ?? ctx.run;
  ctx.emit(finished);
  reportFinished(deps, ctx.run, finished, ctx.log);
  return { kind: "finished", event: finished };
}

/**
 * Finishes a cancelled run that no process executes (cancelled while queued, or its executor died):
 * its unfinished steps become cancelled, and its final state and `run.finished` event are written in
 * one transaction — once, even when its executor (alive after all) finishes it at the same time.
 */
export async function finaliseCancelled(deps: ResolvedEngineDeps, runId: RunId): Promise<void> {
  const { store, clock, log } = deps;
  const run = await store.getRun(runId);
  if (!run || run.status !== "cancelled" || run.finishedAt !== undefined) return;
  const reason = run.error ?? "run cancelled";
  const now = clock.now();
  const events: RunEvent[] = [];
  for (const step of await store.getSteps(runId)) {
    if (step.status !== "pending" && step.status !== "running" && step.status !== "waiting") continue;
    await store.updateStep(runId, step.stepId, { status: "cancelled", error: reason, finishedAt: now });
    // a run cancelled before it ever started gets only its run.finished (nothing was shown for its steps)
    if (run.startedAt === undefined) continue;
    const event: RunEvent = { type: "step.finished", runId, stepId: step.stepId, status: "cancelled", attempts: step.attempts, durationMs: 0, error: reason, at: now };
    await store.appendEvent(event);
    events.push(event);
  }
  const latest: RunRecord = { ...run, finishedAt: now };
  const summary = summarizeRun(latest, await store.getSteps(runId), now);
  const finished: RunFinishedEvent = { type: "run.finished", runId, status: "cancelled", at: now, summary, error: reason };
  if (!(await store.finishRun(runId, ["cancelled"], finished, { finishedAt: now }))) return;
  const emitted: Promise<unknown>[] = [];
  for (const event of [...events, finished]) {
    try {
      const result = deps.progress.emit(event, latest);
      if (result) emitted.push(result.catch((error: unknown) => log.warn({ err: error, runId }, "progress sink failed")));
    } catch (error) {
      log.warn({ err: error, runId }, "progress sink failed");
    }
  }
  if (emitted.length > 0) await drainSinks(emitted, deps.sinkDrainMs, log);
  deps.metrics?.runs.inc({ workflow: latest.workflow, conclusion: "cancelled" });
}

/** A failed verify row of a loop whose fix row then succeeded: the loop handled it (its next verify row decides). */
function fixedByLoop(ctx: RunContext, record: StepRecord): boolean {
  const row = ctx.run.plan.steps.find((s) => s.id === record.stepId)?.loop;
  if (row?.kind !== "verify") return false;
  const fix = ctx.run.plan.steps.find((s) => s.loop?.id === row.id && s.loop.kind === "fix" && s.loop.iteration === row.iteration);
  return fix !== undefined && ctx.records.get(fix.id)?.status === "succeeded";
}

function cancelReason(runController: AbortController): string {
  const reason: unknown = runController.signal.reason;
  return reason instanceof Error ? reason.message : "run cancelled";
}

function reportFinished(deps: ResolvedEngineDeps, run: RunRecord, finished: RunFinishedEvent, log: RunContext["log"]): void {
  const { summary } = finished;
  deps.metrics?.runs.inc({ workflow: run.workflow, conclusion: run.status });
  deps.metrics?.runDuration.observe({ workflow: run.workflow, conclusion: run.status }, summary.durationMs / 1000);
  if (run.status === "failed") log.warn({ status: run.status, durationMs: summary.durationMs, reason: run.error }, "run failed");
  else log.info({ status: run.status, durationMs: summary.durationMs, successRate: summary.successRate }, "run finished");
}
