/**
 * Finishes the final GitHub writes a crash interrupted: a run recorded finished whose check run was
 * never completed (the process died between `run.finished` and the final write, or GitHub failed it)
 * gets its `run.finished` event replayed into the progress sink, which creates or completes the check
 * run and the sticky comment from the run record. Started at boot and then periodically by the app.
 */
import type { Logger } from "pino";
import { checkRunCompletedKey } from "../../store/marker-keys.ts";
import type { ProgressSink, RunStore } from "../../workflows/ports.ts";
import type { RunFinishedEvent } from "../../workflows/types.ts";

export interface SweepOptions {
  store: RunStore;
  progress: ProgressSink;
  log: Logger;
  now: number;
  /** Runs finished longer ago than this are left alone (default 24 h). */
  maxAgeMs?: number;
  /** Runs finished more recently than this may still be reported by their own process (default 2 min). */
  graceMs?: number;
  /** How many of the newest runs are looked at (default 500). */
  limit?: number;
}

/**
 * Replays `run.finished` for finished runs whose check run is not completed; returns how many.
 *
 * @example
 * await sweepUnreportedRuns({ store, progress: runtime.progress, log, now: Date.now() });
 */
export async function sweepUnreportedRuns(options: SweepOptions): Promise<number> {
  const { store, progress, log, now } = options;
  const maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
  const graceMs = options.graceMs ?? 120_000;
  let replayed = 0;
  for (const run of await store.listRuns({ limit: options.limit ?? 500 })) {
    if (run.finishedAt === undefined || run.startedAt === undefined || run.trigger.repo.installationId === undefined) continue;
    const age = now - run.finishedAt;
    if (age < graceMs || age > maxAgeMs) continue;
    if ((await store.getMarker(checkRunCompletedKey(String(run.id)))) !== undefined) continue;
    const events = await store.listEvents(run.id, { limit: 20 });
    const finished = events.findLast((e): e is RunFinishedEvent => e.type === "run.finished");
    if (!finished) continue;
    log.info({ runId: run.id, status: run.status }, "completing the GitHub surfaces of a finished run");
    try {
      await progress.emit(finished, run);
      replayed += 1;
    } catch (error) {
      log.warn({ err: error, runId: run.id }, "could not complete the GitHub surfaces of a finished run");
    }
  }
  return replayed;
}
