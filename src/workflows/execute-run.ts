/**
 * Executing one run (the queue's job): replay finished steps, re-run interrupted ones, schedule ready
 * steps (`schedule-steps.ts`), then finalise — deliver the outputs and record the run finished
 * (`finalise-run.ts`). A cancel written by any process is noticed by polling the run's status.
 */
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { drainSinks } from "./compose-sinks.ts";
import type { ResolvedEngineDeps } from "./engine-deps.ts";
import { finaliseRun } from "./finalise-run.ts";
import { createRunContext, persist, type RunContext } from "./run-context.ts";
import { PersistenceError } from "../errors/persistence-error.ts";
import { RunAbort } from "../errors/run-abort.ts";
import { scheduleSteps } from "./schedule-steps.ts";
import type { RunRecord } from "./types.ts";

export interface ExecuteHooks {
  /** Called once the run's final state is stored (to start the next run of its concurrency group). */
  onFinished(run: RunRecord): Promise<void>;
  /** Re-enqueues the run's job, due at `runAt` (a parked run's poll). */
  enqueue(runAt: number): Promise<void>;
}

/**
 * Executes a run that this process has claimed. Resolves when the run is finished, or when the
 * controller was aborted for a shutdown — then the run stays `running` and resumes later. Rejects with
 * a PersistenceError when the store fails (the run resumes later too).
 */
export async function executeRun(deps: ResolvedEngineDeps, initial: RunRecord, runController: AbortController, hooks: ExecuteHooks): Promise<void> {
  const runId = initial.id;
  const steps = await persist(() => deps.store.getSteps(runId));
  const ctx = createRunContext(deps, initial, steps);
  for (const step of initial.plan.steps) {
    if (!ctx.records.has(step.id)) throw new PersistenceError(new Error(`step ${step.id} of run ${runId} is missing from the store`));
  }
  const parent = propagation.extract(ROOT_CONTEXT, initial.traceContext ?? {});
  const span = trace.getTracer("octoflow").startSpan(`run ${initial.workflow}`, { attributes: { "octoflow.run_id": runId, "octoflow.workflow": initial.workflow } }, parent);
  const traceContext: Context = trace.setSpan(parent, span);
  const watcher = watchForCancel(ctx, runController);
  deps.metrics?.activeRuns.inc();
  try {
    await context.with(traceContext, async () => {
      await ctx.recordEvent({ type: "run.started", runId, at: deps.clock.now() });
      const schedule = await scheduleSteps(ctx, runController, traceContext);
      const result = await finaliseRun(ctx, runController, schedule, hooks.enqueue);
      if (result.kind === "interrupted" || result.kind === "parked") return;
      if (result.kind === "finished") {
        span.setStatus(ctx.run.status === "succeeded" ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: ctx.run.error ?? ctx.run.status });
      }
      await hooks.onFinished(ctx.run);
    });
  } finally {
    await watcher.stop();
    deps.metrics?.activeRuns.dec();
    span.end();
    await drainSinks(ctx.pendingEmits, deps.sinkDrainMs, ctx.log);
  }
}

/** Polls the run's status and aborts its steps when another process (or this one) cancelled it. */
function watchForCancel(ctx: RunContext, runController: AbortController): { stop(): Promise<void> } {
  const { deps, log } = ctx;
  const { store, clock } = deps;
  const stopper = new AbortController();
  const loop = (async () => {
    while (!stopper.signal.aborted) {
      try {
        await clock.sleep(deps.cancelPollMs, stopper.signal);
      } catch {
        return;
      }
      try {
        const status = store.getRunStatus ? await store.getRunStatus(ctx.run.id) : (await store.getRun(ctx.run.id))?.status;
        if (status === "cancelled" && !runController.signal.aborted) {
          const latest = await store.getRun(ctx.run.id);
          runController.abort(new RunAbort("cancelled", latest?.error ?? "run cancelled"));
        }
      } catch (error) {
        log.warn({ err: error }, "cancel watcher could not read the run");
      }
    }
  })();
  return {
    async stop() {
      stopper.abort();
      await loop;
    },
  };
}
