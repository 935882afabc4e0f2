/**
 * Executing one run (the queue's job): replay finished steps, re-run interrupted ones, run ready
 * steps in parallel up to the limit, propagate failures as skips, enforce budgets, persist every
 * transition and event, and finish the run with a summary.
 */
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { drainSinks } from "./compose-sinks.ts";
import type { ResolvedEngineDeps } from "./engine-deps.ts";
import { conditionRefs, evaluateCondition, parseCondition, type Expr } from "./expression.ts";
import { renderPrompt } from "./render-prompt.ts";
import { runStep, type StepResult } from "./run-step.ts";
import { summarizeRun } from "./summarize-run.ts";
import { ancestors, topologicalOrder } from "./dag.ts";
import type { PlannedStep, RunEvent, RunFinishedEvent, RunRecord, RunStatus, StepId, StepOutput, StepRecord } from "./types.ts";
import { RunAbort } from "../errors/run-abort.ts";
import { PersistenceError } from "../errors/persistence-error.ts";

export interface ExecuteHooks {
  /** Called once the run's final state is stored (to start the next run of its concurrency group). */
  onFinished(run: RunRecord): Promise<void>;
}

const clearStepFields = { error: undefined, output: undefined, finishedAt: undefined } as unknown as Partial<StepRecord>;

async function persist<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof PersistenceError ? error : new PersistenceError(error);
  }
}

/**
 * Executes a run that this process has claimed. Resolves when the run is finished, or when `signal`
 * (shutdown) stopped it — then the run stays `running` and resumes later. Rejects with a
 * PersistenceError when the store fails (the run resumes later too).
 */
export async function executeRun(deps: ResolvedEngineDeps, initial: RunRecord, runController: AbortController, hooks: ExecuteHooks): Promise<void> {
  const { store, clock, log: baseLog } = deps;
  const log = baseLog.child({ runId: initial.id, workflow: initial.workflow });
  let run: RunRecord = initial;
  const runId = run.id;
  const plan = run.plan;
  const records = new Map<StepId, StepRecord>((await persist(() => store.getSteps(runId))).map((s) => [s.stepId, s]));
  for (const step of plan.steps) {
    if (!records.has(step.id)) throw new PersistenceError(new Error(`step ${step.id} of run ${runId} is missing from the store`));
  }
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
  const limit = Math.max(1, plan.limits?.stepConcurrency ?? deps.concurrency);
  const pendingEmits = new Set<Promise<unknown>>();
  const lastProgressPersist = new Map<StepId, number>();

  /** Hands an event to the sink; returns the (never rejecting) promise of an asynchronous sink. */
  const emit = (event: RunEvent): Promise<unknown> | undefined => {
    try {
      const result = deps.progress.emit(event, run);
      if (result && typeof (result as Promise<void>).then === "function") {
        const tracked = (result as Promise<void>).catch((error: unknown) => log.warn({ err: error, event: event.type }, "progress sink failed"));
        pendingEmits.add(tracked);
        void tracked.finally(() => pendingEmits.delete(tracked));
        return tracked;
      }
    } catch (error) {
      log.warn({ err: error, event: event.type }, "progress sink failed");
    }
    return undefined;
  };
  /**
   * Back-pressure for streamed progress: while the sink is still busy with a step's previous
   * progress event, only the newest one waits (it carries the latest tail), so a slow sink never
   * makes the engine hold more than one event per step.
   */
  const progressGates = new Map<StepId, { busy: boolean; next?: RunEvent }>();
  const emitProgress = (stepId: StepId, event: RunEvent) => {
    let gate = progressGates.get(stepId);
    if (!gate) progressGates.set(stepId, (gate = { busy: false }));
    if (gate.busy) {
      gate.next = event;
      return;
    }
    const current = gate;
    const send = (e: RunEvent) => {
      current.busy = true;
      const settled = emit(e);
      if (!settled) {
        current.busy = false;
        return;
      }
      void settled.then(() => {
        current.busy = false;
        const next = current.next;
        delete current.next;
        // a step that finished meanwhile gets no late progress after its step.finished event
        if (next && progressGates.get(stepId) === current) send(next);
      });
    };
    send(event);
  };
  const recordEvent = async (event: RunEvent) => {
    await persist(() => store.appendEvent(event));
    emit(event);
  };
  const setStep = async (stepId: StepId, patch: Partial<StepRecord>) => {
    await persist(() => store.updateStep(runId, stepId, patch));
    const current = records.get(stepId);
    if (current) {
      const next = { ...current } as Record<string, unknown>;
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k]; else next[k] = v;
      records.set(stepId, next as unknown as StepRecord);
    }
  };

  const parent = propagation.extract(ROOT_CONTEXT, run.traceContext ?? {});
  const span = trace.getTracer("octoflow").startSpan(`run ${run.workflow}`, { attributes: { "octoflow.run_id": runId, "octoflow.workflow": run.workflow } }, parent);
  const traceContext: Context = trace.setSpan(parent, span);

  // Notice a cancel written by any process.
  const watcher = new AbortController();
  const watch = (async () => {
    while (!watcher.signal.aborted) {
      try {
        await clock.sleep(deps.cancelPollMs, watcher.signal);
      } catch {
        return;
      }
      try {
        const status = store.getRunStatus ? await store.getRunStatus(runId) : (await store.getRun(runId))?.status;
        if (status === "cancelled" && !runController.signal.aborted) {
          const latest = await store.getRun(runId);
          runController.abort(new RunAbort("cancelled", latest?.error ?? "run cancelled"));
        }
      } catch (error) {
        log.warn({ err: error }, "cancel watcher could not read the run");
      }
    }
  })();

  deps.metrics?.activeRuns.inc();
  let budgetStop: string | undefined;
  try {
    await context.with(traceContext, async () => {
      await recordEvent({ type: "run.started", runId, at: clock.now() });
      const inFlight = new Map<StepId, Promise<void>>();
      let fatal: unknown;

      const upstreamOf = ancestors(plan.steps);
      /** Outputs of the steps this one depends on, directly or transitively (never of parallel siblings). */
      const outputsFor = (step: PlannedStep): Record<string, StepOutput> => {
        const out: Record<string, StepOutput> = {};
        for (const id of upstreamOf.get(step.id) ?? []) {
          const rec = records.get(id as StepId);
          if (rec?.output && rec.status === "succeeded") out[id] = rec.output;
        }
        return out;
      };
      const finishStep = async (step: PlannedStep, result: StepResult) => {
        const now = clock.now();
        const { outcome } = result;
        progressGates.delete(step.id);
        if (outcome.kind === "interrupted") return;
        const status = outcome.kind;
        const patch: Partial<StepRecord> =
          outcome.kind === "succeeded"
            ? { ...clearStepFields, status, attempts: result.attempts, finishedAt: now, output: outcome.output }
            : { ...clearStepFields, status, attempts: result.attempts, finishedAt: now, error: outcome.kind === "failed" ? outcome.error : outcome.reason };
        const durationMs = Math.max(0, now - result.startedAt);
        deps.metrics?.steps.inc({ role: step.role, outcome: status });
        deps.metrics?.stepDuration.observe({ role: step.role, outcome: status }, durationMs / 1000);
        // The step row and its event are issued together (one transaction on a group-committing store).
        const saved = setStep(step.id, patch);
        saved.catch(() => undefined);
        await recordEvent({
          type: "step.finished",
          runId,
          stepId: step.id,
          status,
          attempts: result.attempts,
          durationMs,
          ...(outcome.kind === "succeeded" ? { output: outcome.output } : { error: outcome.kind === "failed" ? outcome.error : outcome.reason }),
          at: now,
        });
        await saved;
        if (outcome.kind === "succeeded") checkBudget();
      };
      const checkBudget = () => {
        const limits = plan.limits;
        if (!limits || budgetStop) return;
        const summary = summarizeRun(run, [...records.values()], clock.now());
        const tokens = summary.usage.inputTokens + summary.usage.outputTokens;
        if (limits.maxTokensPerRun !== undefined && tokens > limits.maxTokensPerRun) budgetStop = `the run used ${tokens} tokens, over its limit of ${limits.maxTokensPerRun} (limits.maxTokensPerRun)`;
        else if (limits.maxCostUsdPerRun !== undefined && summary.costUsd > limits.maxCostUsdPerRun) budgetStop = `the run cost $${summary.costUsd.toFixed(4)}, over its limit of $${limits.maxCostUsdPerRun} (limits.maxCostUsdPerRun)`;
      };
      const skip = async (step: PlannedStep, reason: string) => {
        const now = clock.now();
        await setStep(step.id, { ...clearStepFields, status: "skipped", finishedAt: now, error: reason });
        deps.metrics?.steps.inc({ role: step.role, outcome: "skipped" });
        await recordEvent({ type: "step.finished", runId, stepId: step.id, status: "skipped", attempts: records.get(step.id)?.attempts ?? 0, durationMs: 0, error: reason, at: now });
      };
      const launch = (step: PlannedStep) => {
        const record = records.get(step.id) as StepRecord;
        const stepStates: Record<string, { status: StepRecord["status"]; output?: string }> = {};
        for (const [id, rec] of records) stepStates[id] = { status: rec.status, ...(rec.output ? { output: rec.output.text } : {}) };
        const prompt = renderPrompt(step.prompt, { trigger: run.trigger, workflow: run.workflow, inputs: plan.inputs, steps: stepStates });
        const promise = runStep({
          deps,
          run: () => run,
          step,
          record,
          prompt,
          upstream: outputsFor(step),
          runSignal: runController.signal,
          traceContext,
          recordEvent,
          persistStep: (patch) => setStep(step.id, patch),
          progress: (event) => {
            emitProgress(step.id, event);
            const last = lastProgressPersist.get(step.id) ?? -Infinity;
            const now = clock.now();
            if (now - last >= deps.progressPersistMs) {
              lastProgressPersist.set(step.id, now);
              store.appendEvent(event).catch((error: unknown) => log.warn({ err: error }, "could not persist progress"));
            }
          },
        })
          .then((result) => finishStep(step, result))
          .catch((error: unknown) => {
            fatal ??= error;
            if (!runController.signal.aborted) runController.abort(new RunAbort("shutdown", "the store failed"));
          })
          .finally(() => inFlight.delete(step.id));
        inFlight.set(step.id, promise);
      };

      for (;;) {
        let progressed = false;
        if (!runController.signal.aborted && fatal === undefined) {
          for (const step of order) {
            const record = records.get(step.id);
            if (!record || (record.status !== "pending" && record.status !== "running") || inFlight.has(step.id)) continue;
            const needs = step.needs.map((id) => records.get(id));
            if (needs.some((n) => n !== undefined && (n.status === "pending" || n.status === "running"))) continue;
            const missing = step.needs.find((id) => !records.has(id));
            // A condition that reads step statuses decides for itself; otherwise a need that did not succeed skips the step.
            const blocked = decidesOnStatus(step) ? undefined : needs.find((n) => n && n.status !== "succeeded");
            if (missing) {
              await finishStep(step, { outcome: { kind: "failed", error: `needs "${missing}", which is not a step of this run`, retriable: false }, attempts: record.attempts, startedAt: clock.now() });
              progressed = true;
              continue;
            }
            if (blocked) {
              await skip(step, `skipped because "${blocked.stepId}" ${blocked.status === "failed" ? "failed" : `was ${blocked.status}`}`);
              progressed = true;
              continue;
            }
            if (budgetStop) {
              await skip(step, `skipped: ${budgetStop}`);
              progressed = true;
              continue;
            }
            if (step.if !== undefined) {
              let pass: boolean;
              try {
                const expr = conditions.get(step.id);
                if (!expr) throw new Error(`condition cannot be parsed: ${step.if}`);
                pass = evaluateCondition(expr, {
                  inputs: plan.inputs,
                  steps: Object.fromEntries([...records].map(([id, r]) => [id, { status: r.status }])),
                  trigger: { kind: run.trigger.kind, actor: run.trigger.actor },
                  pr: { draft: run.trigger.pullRequest?.draft ?? false, from_fork: run.trigger.pullRequest?.fromFork ?? false },
                });
              } catch (error) {
                pass = false;
                log.warn({ err: error, stepId: step.id }, "condition could not be evaluated");
              }
              if (!pass) {
                await skip(step, `condition is false: ${step.if}`);
                progressed = true;
                continue;
              }
            }
            if (inFlight.size >= limit) break;
            launch(step);
          }
        }
        if (progressed) continue;
        if (inFlight.size === 0) break;
        await Promise.race(inFlight.values());
      }
      if (fatal !== undefined) throw fatal;

      const reason = runController.signal.reason;
      if (runController.signal.aborted && reason instanceof RunAbort && reason.kind === "shutdown") return;

      const cancelled = runController.signal.aborted;
      for (const step of order) {
        const record = records.get(step.id);
        if (!record || (record.status !== "pending" && record.status !== "running")) continue;
        if (cancelled) {
          const now = clock.now();
          await setStep(step.id, { ...clearStepFields, status: "cancelled", finishedAt: now, error: "run cancelled" });
          await recordEvent({ type: "step.finished", runId, stepId: step.id, status: "cancelled", attempts: record.attempts, durationMs: 0, error: "run cancelled", at: now });
        } else await skip(step, "never became ready (a dependency cycle or an unknown need)");
      }
      const steps = [...records.values()];
      const failedStep = steps.find((s) => s.status === "failed");
      const unreachable = steps.find((s) => s.status === "skipped" && s.error?.startsWith("never became ready"));
      const status: RunStatus = cancelled ? "cancelled" : failedStep || budgetStop || unreachable ? "failed" : "succeeded";
      const error = cancelled
        ? reason instanceof Error ? reason.message : "run cancelled"
        : budgetStop ?? (failedStep ? `step "${failedStep.stepId}" failed: ${failedStep.error ?? "unknown error"}` : unreachable ? `step "${unreachable.stepId}" ${unreachable.error}` : undefined);
      const finishedAt = clock.now();
      /** The final status and the run.finished event, in one store transaction (a crash keeps both or neither). */
      const finish = async (from: RunStatus[], final: RunRecord, patch: Partial<RunRecord>): Promise<RunFinishedEvent | undefined> => {
        const at = clock.now();
        const summary = summarizeRun(final, [...records.values()], at);
        const event: RunFinishedEvent = { type: "run.finished", runId, status: final.status, at, summary, ...(final.error !== undefined ? { error: final.error } : {}) };
        return (await persist(() => store.finishRun(runId, from, event, { finishedAt, ...patch }))) ? event : undefined;
      };
      let finished: RunFinishedEvent | undefined;
      if (!cancelled) {
        const { error: _previous, ...current } = run;
        const final: RunRecord = { ...current, status, finishedAt, ...(error !== undefined ? { error } : {}) };
        finished = await finish(["running"], final, error !== undefined ? { error } : {});
        if (finished) run = final;
      }
      if (!finished) {
        // Cancelled (here, or by another process — the final transition above then lost the race). The
        // canceller wrote the status and its reason; this executor finishes the run unless someone did.
        const latest = await persist(() => store.getRun(runId));
        if (latest) run = latest;
        if (latest?.status === "cancelled" && latest.finishedAt === undefined) {
          const final: RunRecord = { ...latest, finishedAt };
          finished = await finish(["cancelled"], final, {});
          if (finished) run = final;
        }
      }
      if (!finished) {
        log.info({ status: run.status }, "run was already finished by another process");
        await hooks.onFinished(run);
        return;
      }
      // the stored record (with fields other writers set meanwhile, such as the check run id) for the sinks
      run = (await persist(() => store.getRun(runId))) ?? run;
      emit(finished);
      const summary = finished.summary;
      deps.metrics?.runs.inc({ workflow: run.workflow, conclusion: run.status });
      deps.metrics?.runDuration.observe({ workflow: run.workflow, conclusion: run.status }, summary.durationMs / 1000);
      span.setStatus(run.status === "succeeded" ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: run.error ?? run.status });
      log.info({ status: run.status, durationMs: summary.durationMs, successRate: summary.successRate }, "run finished");
      await hooks.onFinished(run);
    });
  } finally {
    watcher.abort();
    await watch;
    deps.metrics?.activeRuns.dec();
    span.end();
    await drainSinks(pendingEmits, deps.sinkDrainMs, log);
  }
}
