/**
 * Adapts the workflow engine to the narrow `RunControl` the GitHub edge uses.
 */
import { RunStateError } from "../errors/run-state-error.ts";
import type { Engine } from "../workflows/engine.ts";
import type { RunControl } from "./run-control.ts";

/**
 * @example
 * const runs = engineRunControl(engine);
 * await runs.retry(runId); // false when the run cannot be retried (still active, succeeded, …)
 */
export function engineRunControl(engine: Pick<Engine, "start" | "cancel" | "retry" | "approve" | "wakeWaiting">): RunControl {
  return {
    start: (plan, trigger, options) => engine.start(plan, trigger, options?.runId === undefined ? {} : { runId: options.runId }),
    cancel: (runId, reason) => engine.cancel(runId, reason),
    wakeWaiting: (repo, key) => engine.wakeWaiting(repo, key),
    approve: async (runId, actor, stepId) => (await engine.approve(runId, actor, stepId)).map((step) => String(step.stepId)),
    async retry(runId) {
      try {
        await engine.retry(runId);
        return true;
      } catch (error) {
        // The engine explains why a retry is impossible with a RunStateError; the caller answers the user.
        if (error instanceof RunStateError) return false;
        throw error;
      }
    },
  };
}
