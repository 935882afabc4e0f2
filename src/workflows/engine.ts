/**
 * The workflow engine: start runs (persisted and enqueued in one transaction), execute them as the
 * queue's job handler, cancel from any process, retry failed parts, resume after a restart.
 * It knows only ports (store, queue, agents, progress sink, clock, logger, metrics).
 */
import { context, propagation } from "@opentelemetry/api";
import { RunStateError } from "../errors/run-state-error.ts";
import { resolveEngineDeps, type EngineDeps, type ResolvedEngineDeps } from "./engine-deps.ts";
import { executeRun } from "./execute-run.ts";
import { finaliseCancelled } from "./finalise-run.ts";
import { wakeKey } from "./park-run.ts";
import { RunAbort } from "../errors/run-abort.ts";
import { summarizeRun } from "./summarize-run.ts";
import type { JobHandler } from "./ports.ts";
import { asRunId, TERMINAL_RUN_STATUSES, type RunId, type RunPlan, type RunRecord, type RunSummary, type StepRecord, type Trigger } from "./types.ts";

export type { EngineDeps } from "./engine-deps.ts";

export interface StartOptions {
  /** Use this id instead of a new one. */
  runId?: string;
  /** GitHub surfaces created before the run starts (e.g. a queued check run). */
  checkRunId?: number;
  commentId?: number;
  /**
   * Write the run's queue job with it (default true). The CLI, which executes the run in its own
   * process, passes false so that no queue worker sharing the store picks it up too.
   */
  enqueue?: boolean;
}

export interface RunStatusView {
  run: RunRecord;
  steps: StepRecord[];
  summary: RunSummary;
}

export interface Engine {
  /**
   * Persists a new run, its steps and its queue job in one transaction and returns the record.
   * With `concurrency.cancelInProgress`, active runs of the same group are cancelled first;
   * otherwise the new run waits (status `queued`) until the active one finishes.
   */
  start(plan: RunPlan, trigger: Trigger, options?: StartOptions): Promise<RunRecord>;
  /**
   * The queue's job handler: executes (or resumes) a run, or finishes a cancelled one whose executor
   * died. `signal` means shutdown or a lost lease: in-flight steps are interrupted (not failed), no final
   * state is written, and the run stays resumable.
   */
  execute: JobHandler;
  /**
   * Cancels a run from any process; in-flight steps are aborted within about a poll interval. A queued
   * run is finished at once; a running one by its executor, or — when no process executes it (its
   * worker died) — by the worker that claims its job next. Returns false when it had already finished.
   */
  cancel(runId: RunId, reason?: string): Promise<boolean>;
  /** Task-level retry: re-runs failed, cancelled and skipped steps (succeeded outputs are kept) and re-enqueues the run. */
  retry(runId: RunId): Promise<RunRecord>;
  /**
   * Re-enqueues every unfinished run (call once at start-up). Returns how many. A parked run keeps
   * waiting: its job is due at its next poll (none when only an event wakes it).
   */
  resumeUnfinished(): Promise<number>;
  /**
   * Runs a parked run again now (its waiting steps look again). Also accepted for a run that is still
   * `running` (it is about to park: its job runs once more). False when the run is neither.
   */
  wake(runId: RunId): Promise<boolean>;
  /** Wakes the parked runs of `repo` (`owner/name`) waiting for `key` (e.g. `ci:<sha>`); returns their ids. */
  wakeWaiting(repo: string, key: string): Promise<RunId[]>;
  /**
   * Records `actor`'s approval on the run's steps waiting for one (or only `stepId`) and wakes the run.
   * Who may approve is the caller's decision (the GitHub edge checks the gate's permission). Returns
   * the steps approved (none when nothing waited for an approval).
   */
  approve(runId: RunId, actor: string, stepId?: string): Promise<StepRecord[]>;
  getStatus(runId: RunId): Promise<RunStatusView | undefined>;
}

const isTerminal = (run: RunRecord) => TERMINAL_RUN_STATUSES.includes(run.status);

/**
 * Creates an engine over its ports.
 *
 * @example
 * const engine = createEngine({ store, queue, agents, progress, clock: systemClock, log, metrics });
 * await queue.start(engine.execute);
 * await engine.resumeUnfinished();
 * const run = await engine.start(planRun(template, trigger, { repoConfig }), trigger);
 */
export function createEngine(input: EngineDeps): Engine {
  const deps: ResolvedEngineDeps = resolveEngineDeps(input);
  const { store, clock, log } = deps;
  const executing = new Map<RunId, AbortController>();

  const enqueue = async (runId: RunId, runAt?: number) => {
    if (deps.queue) await deps.queue.enqueue(runId, runAt === undefined ? undefined : { runAt });
    else await store.enqueueJob(runId, runAt ?? clock.now());
  };

  /** Starts the oldest queued run of a concurrency group when nothing older is active. */
  const promoteNext = async (key: string) => {
    const [first] = await store.findActiveRuns(key);
    if (first && first.status === "queued") await enqueue(first.id);
  };

  const finalizeCancelled = (runId: RunId) => finaliseCancelled(deps, runId);

  const engine: Engine = {
    async start(plan, trigger, options = {}) {
      const id = asRunId(options.runId ?? deps.newRunId());
      const key = plan.concurrency.group;
      if (plan.concurrency.cancelInProgress) {
        for (const active of await store.findActiveRuns(key)) await engine.cancel(active.id, `superseded by a newer run (${id})`);
      }
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const run: RunRecord = {
        id,
        workflow: plan.workflow,
        status: "queued",
        plan,
        trigger,
        concurrencyKey: key,
        createdAt: clock.now(),
        ...(Object.keys(carrier).length > 0 ? { traceContext: carrier } : {}),
        ...(options.checkRunId !== undefined ? { checkRunId: options.checkRunId } : {}),
        ...(options.commentId !== undefined ? { commentId: options.commentId } : {}),
      };
      const steps: StepRecord[] = plan.steps.map((step) => ({ runId: id, stepId: step.id, status: "pending", attempts: 0 }));
      const enqueueJob = options.enqueue ?? true;
      await store.createRun(run, steps, { enqueue: enqueueJob });
      if (enqueueJob) deps.queue?.notify?.();
      log.info({ runId: id, workflow: plan.workflow, concurrencyKey: key }, "run queued");
      return run;
    },

    async execute(runId, signal) {
      const run = await store.getRun(runId);
      if (!run) {
        log.warn({ runId }, "job for an unknown run ignored");
        return;
      }
      if (executing.has(runId)) return;
      if (isTerminal(run)) {
        // Cancelled while the process executing it died: nobody else will finish it.
        if (run.status === "cancelled" && run.finishedAt === undefined) {
          await finalizeCancelled(runId);
          await promoteNext(run.concurrencyKey);
        }
        return;
      }
      const [oldest] = await store.findActiveRuns(run.concurrencyKey);
      if (oldest && oldest.id !== runId) {
        log.info({ runId, waitingFor: oldest.id }, "run waits for the active run of its concurrency group");
        return;
      }
      const clearWait = run.waiting ? ({ waiting: undefined } as unknown as Partial<RunRecord>) : {};
      const moved = await store.transitionRun(runId, ["queued", "running", "waiting"], "running", { ...clearWait, ...(run.startedAt === undefined ? { startedAt: clock.now() } : {}) });
      if (!moved) return;
      const current = (await store.getRun(runId)) ?? run;
      const controller = new AbortController();
      const onShutdown = () => controller.abort(new RunAbort("shutdown", "the worker is stopping"));
      if (signal?.aborted) onShutdown();
      else signal?.addEventListener("abort", onShutdown, { once: true });
      executing.set(runId, controller);
      try {
        await executeRun(deps, current, controller, { onFinished: (finished) => promoteNext(finished.concurrencyKey), enqueue: (runAt) => enqueue(runId, runAt) });
      } finally {
        executing.delete(runId);
        signal?.removeEventListener("abort", onShutdown);
      }
    },

    async cancel(runId, reason = "cancelled") {
      // No finishedAt yet: it is written with the run.finished event (`finishRun`), and a cancelled run
      // without one is finished by whoever claims its job next (`execute`, `resumeUnfinished`).
      // queued or parked: no process executes it, so it is finished here
      if (await store.transitionRun(runId, ["queued", "waiting"], "cancelled", { error: reason })) {
        await finalizeCancelled(runId);
        const run = await store.getRun(runId);
        if (run) await promoteNext(run.concurrencyKey);
        return true;
      }
      if (await store.transitionRun(runId, ["running"], "cancelled", { error: reason })) {
        const local = executing.get(runId);
        local?.abort(new RunAbort("cancelled", reason));
        // The executing process (if it is still alive) promotes the next run when it winds down; do it
        // here too, so a run whose executor died does not leave its group's queued runs waiting forever.
        const run = await store.getRun(runId);
        if (run) await promoteNext(run.concurrencyKey);
        // Executed elsewhere, or by nobody (its worker died): its job, claimable once the lease of that
        // worker is released or expires, finishes it — marks its steps cancelled and writes run.finished
        // — unless a live executor did so first.
        if (!local) await enqueue(runId);
        return true;
      }
      return false;
    },

    async retry(runId) {
      const run = await store.getRun(runId);
      if (!run) throw new RunStateError(`run ${runId} does not exist`);
      if (!isTerminal(run)) throw new RunStateError(`run ${runId} is still ${run.status}; cancel it or wait before retrying`);
      if (run.status === "succeeded") throw new RunStateError(`run ${runId} succeeded; there is nothing to retry`);
      const others = (await store.findActiveRuns(run.concurrencyKey)).filter((r) => r.id !== runId);
      if (others[0]) throw new RunStateError(`another run of ${run.workflow} (${others[0].id}) is active for the same issue or pull request; cancel it or wait`);
      const clear = { error: undefined, output: undefined, startedAt: undefined, finishedAt: undefined, waiting: undefined } as unknown as Partial<StepRecord>;
      for (const step of await store.getSteps(runId)) {
        if (step.status !== "succeeded") await store.updateStep(runId, step.stepId, { ...clear, status: "pending" });
      }
      const clearRun = { error: undefined, finishedAt: undefined, waiting: undefined } as unknown as Partial<RunRecord>;
      if (!(await store.transitionRun(runId, ["failed", "cancelled"], "queued", clearRun))) {
        throw new RunStateError(`run ${runId} changed while it was being retried; try again`);
      }
      await enqueue(runId);
      log.info({ runId }, "run retried");
      return (await store.getRun(runId)) ?? run;
    },

    async resumeUnfinished() {
      // Parked runs are not among them: a crash while parking leaves the run's job leased (embedded)
      // or active (pg-boss), so it runs again once that lease lapses and parks again.
      const runs = await store.listUnfinishedRuns();
      for (const run of runs) await enqueue(run.id);
      if (runs.length > 0) log.info({ runs: runs.length }, "unfinished runs re-enqueued");
      return runs.length;
    },

    async wake(runId) {
      const run = await store.getRun(runId);
      if (!run || (run.status !== "waiting" && run.status !== "running")) return false;
      await enqueue(runId);
      return true;
    },

    async wakeWaiting(repo, key) {
      const woken: RunId[] = [];
      for (const run of await store.listRuns({ status: "waiting", repo, limit: 1000 })) {
        if (run.waiting?.keys.includes(key) && (await engine.wake(run.id))) woken.push(run.id);
      }
      // A run still parking: its step already waits for this key, the run is not `waiting` yet. The
      // parking reads this marker once it is done and runs the run again at once (else: its poll).
      for (const run of await store.listRuns({ status: "running", repo, limit: 1000 })) {
        const steps = await store.getSteps(run.id);
        if (!steps.some((s) => s.status === "waiting" && s.waiting?.key === key)) continue;
        await store.setMarker(wakeKey(run.id), String(clock.now()));
        woken.push(run.id);
      }
      return woken;
    },

    async approve(runId, actor, stepId) {
      const run = await store.getRun(runId);
      if (!run || isTerminal(run)) return [];
      const approved: StepRecord[] = [];
      const at = clock.now();
      for (const step of await store.getSteps(runId)) {
        if (step.status !== "waiting" || step.waiting?.reason !== "approval" || step.approval) continue;
        if (stepId !== undefined && String(step.stepId) !== stepId) continue;
        await store.updateStep(runId, step.stepId, { approval: { by: actor, at } });
        approved.push({ ...step, approval: { by: actor, at } });
      }
      if (approved.length > 0) {
        log.info({ runId, actor, steps: approved.map((s) => s.stepId) }, "steps approved");
        await engine.wake(runId);
      }
      return approved;
    },

    async getStatus(runId) {
      const run = await store.getRun(runId);
      if (!run) return undefined;
      const steps = await store.getSteps(runId);
      return { run, steps, summary: summarizeRun(run, steps, clock.now()) };
    },
  };
  return engine;
}
