/**
 * What the GitHub edge asks of the workflow engine. `src/app.ts` adapts the engine to it; tests use
 * the real engine or a working fake. Keeping this narrow keeps handlers short.
 */
import type { RunStore } from "../workflows/ports.ts";
import type { RunId, RunPlan, RunRecord, Trigger } from "../workflows/types.ts";

export interface RunControl {
  /** Persists the run and enqueues it (one transaction); returns the stored run. Does not execute it. */
  start(plan: RunPlan, trigger: Trigger): Promise<RunRecord>;
  /** Cancels a queued or running run; false when it was already finished. */
  cancel(runId: RunId, reason: string): Promise<boolean>;
  /** Re-runs the failed (and downstream) steps of a failed or cancelled run; false when not possible. */
  retry(runId: RunId): Promise<boolean>;
}

/** Runs of one issue or pull request, newest first (bounded). */
export async function runsOf(store: RunStore, repo: { owner: string; name: string }, number: number, limit = 200): Promise<RunRecord[]> {
  const runs = await store.listRuns({ repo: `${repo.owner}/${repo.name}`, limit });
  return runs.filter((r) => r.trigger.number === number).sort((a, b) => b.createdAt - a.createdAt);
}
