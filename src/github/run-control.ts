/**
 * What the GitHub edge asks of the workflow engine. `src/app.ts` adapts the engine to it; tests use
 * the real engine or a working fake. Keeping this narrow keeps handlers short.
 */
import { createHash } from "node:crypto";
import type { RunStore } from "../workflows/ports.ts";
import type { RunId, RunPlan, RunRecord, Trigger } from "../workflows/types.ts";

export interface RunControl {
  /**
   * Persists the run and enqueues it (one transaction); returns the stored run. Does not execute it.
   * With `runId`, a second start with the same id fails (the store's primary key) and starts nothing.
   */
  start(plan: RunPlan, trigger: Trigger, options?: { runId?: string }): Promise<RunRecord>;
  /** Cancels a queued or running run; false when it was already finished. */
  cancel(runId: RunId, reason: string): Promise<boolean>;
  /** Re-runs the failed (and downstream) steps of a failed or cancelled run; false when not possible. */
  retry(runId: RunId): Promise<boolean>;
  /**
   * Records `actor`'s approval of the run's step `stepId`, which waits at its approval gate, and wakes
   * the run; returns the ids of the steps approved (none when that step did not wait for an approval).
   * The caller has checked that `actor` may approve it.
   */
  approve(runId: RunId, actor: string, stepId: string): Promise<string[]>;
  /**
   * Wakes the runs of `repo` (`owner/name`) parked on `key` (e.g. `ci:<sha>`); returns their ids.
   * Absent where no run parks (the CLI and the Action execute their runs themselves).
   */
  wakeWaiting?(repo: string, key: string): Promise<RunId[]>;
}

/**
 * The run id a webhook delivery's run gets: derived from the `X-GitHub-Delivery` id, so a
 * redelivery can never create a second run (formatted like a UUID).
 */
export function runIdForDelivery(deliveryId: string): string {
  const hex = createHash("sha256").update(`octoflow-delivery:${deliveryId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Runs of one issue or pull request, newest first (bounded). */
export async function runsOf(store: RunStore, repo: { owner: string; name: string }, number: number, limit = 200): Promise<RunRecord[]> {
  const runs = await store.listRuns({ repo: `${repo.owner}/${repo.name}`, limit });
  return runs.filter((r) => r.trigger.number === number).sort((a, b) => b.createdAt - a.createdAt);
}
