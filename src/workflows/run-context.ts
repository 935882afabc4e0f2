/**
 * The state one executing run shares between scheduling, step outcomes and finalisation: the run
 * record, its step records, and the two ways out of the engine — the store (every transition and
 * event persisted) and the progress sink (events emitted, back-pressured, never failing the run).
 */
import type { Logger } from "pino";
import type { ResolvedEngineDeps } from "./engine-deps.ts";
import { PersistenceError } from "../errors/persistence-error.ts";
import type { RunEvent, RunRecord, StepId, StepRecord } from "./types.ts";

export interface RunContext {
  deps: ResolvedEngineDeps;
  log: Logger;
  /** The run as last read or written by this executor. */
  run: RunRecord;
  records: Map<StepId, StepRecord>;
  /** Hands an event to the progress sink (never throws; asynchronous sinks are tracked for draining). */
  emit(event: RunEvent): Promise<unknown> | undefined;
  /** Streamed progress with back-pressure: while the sink is busy, only the newest event of a step waits. */
  emitProgress(stepId: StepId, event: RunEvent): void;
  /** Forgets a step's pending progress (it finished: no late progress after its `step.finished`). */
  endProgress(stepId: StepId): void;
  /** Persists an event, then emits it; throws `PersistenceError` when the store fails. */
  recordEvent(event: RunEvent): Promise<void>;
  /** Persists a step patch (a key set to `undefined` clears that field) and mirrors it in `records`. */
  setStep(stepId: StepId, patch: Partial<StepRecord>): Promise<void>;
  /** Sink writes still in flight (the executor drains them, bounded, when it ends). */
  pendingEmits: Set<Promise<unknown>>;
}

/** Wraps a store call so that any failure surfaces as a `PersistenceError` (the run resumes later). */
export async function persist<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof PersistenceError ? error : new PersistenceError(error);
  }
}

/** Step fields cleared when a step reaches a new final state. */
export const clearStepFields = { error: undefined, output: undefined, finishedAt: undefined, waiting: undefined } as unknown as Partial<StepRecord>;

/**
 * Builds the context of a run this process has claimed.
 *
 * @example
 * const ctx = createRunContext(deps, run, await store.getSteps(run.id));
 * await ctx.recordEvent({ type: "run.started", runId: run.id, at: deps.clock.now() });
 */
export function createRunContext(deps: ResolvedEngineDeps, run: RunRecord, steps: StepRecord[]): RunContext {
  const log = deps.log.child({ runId: run.id, workflow: run.workflow });
  const pendingEmits = new Set<Promise<unknown>>();
  const progressGates = new Map<StepId, { busy: boolean; next?: RunEvent }>();

  const ctx: RunContext = {
    deps,
    log,
    run,
    records: new Map(steps.map((s) => [s.stepId, s])),
    pendingEmits,
    emit(event) {
      try {
        const result = deps.progress.emit(event, ctx.run);
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
    },
    emitProgress(stepId, event) {
      let gate = progressGates.get(stepId);
      if (!gate) progressGates.set(stepId, (gate = { busy: false }));
      if (gate.busy) {
        gate.next = event;
        return;
      }
      const current = gate;
      const send = (e: RunEvent) => {
        current.busy = true;
        const settled = ctx.emit(e);
        if (!settled) {
          current.busy = false;
          return;
        }
        void settled.then(() => {
          current.busy = false;
          const next = current.next;
          delete current.next;
          if (next && progressGates.get(stepId) === current) send(next);
        });
      };
      send(event);
    },
    endProgress(stepId) {
      progressGates.delete(stepId);
    },
    async recordEvent(event) {
      await persist(() => deps.store.appendEvent(event));
      ctx.emit(event);
    },
    async setStep(stepId, patch) {
      await persist(() => deps.store.updateStep(run.id, stepId, patch));
      const current = ctx.records.get(stepId);
      if (!current) return;
      const next = { ...current } as Record<string, unknown>;
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
      else next[k] = v;
      ctx.records.set(stepId, next as unknown as StepRecord);
    },
  };
  return ctx;
}
