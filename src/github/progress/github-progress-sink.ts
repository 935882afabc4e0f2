/**
 * The GitHub `ProgressSink`: per run, a check run and a sticky comment, each updated through its
 * own coalescer. It only renders what the run record says: the outputs (pull request, review,
 * comment texts) were delivered by the engine before `run.finished` and are stored on the run.
 * Reporting never fails a run: GitHub errors are logged and the surface carries on; a surface that
 * could not be opened is tried again for the final write, and `sweepUnreportedRuns` finishes the
 * final writes a crash interrupted.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { isTransient as isTransientClassified, retryAfterOf } from "../../resilience/classify-error.ts";
import { classifyGitHubError } from "../../resilience/classify-github-error.ts";
import type { GitHubClients } from "../client.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Clock, ProgressSink, RunStore } from "../../workflows/ports.ts";
import type { RunEvent, RunRecord } from "../../workflows/types.ts";
import { createCheckRunSurface, type Surface, type SurfaceContext } from "./check-run-reporter.ts";
import { createCoalescer, type Coalescer } from "../../progress/coalescer.ts";
import { applyEvent, applyOutputsToView, createRunView } from "../../progress/run-view.ts";
import { createStickyCommentSurface } from "./sticky-comment-reporter.ts";

export interface GitHubProgressOptions {
  clients: GitHubClients;
  store: RunStore;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Minimum time between two writes to one surface (default 5000 ms). */
  intervalMs?: number;
}

interface ActiveSurface {
  surface: Surface;
  coalescer: Coalescer;
  ok: boolean;
  /** Opening failed for a reason that may pass (5xx, rate limit, network): try again for the final write. */
  reopen: boolean;
}

interface ActiveRun {
  ctx: SurfaceContext;
  surfaces: ActiveSurface[];
  findings: number;
  /** Serialises event handling per run (parallel steps emit concurrently). */
  chain: Promise<void>;
}

export interface GitHubProgressSink extends ProgressSink {
  /** Resolves when every event received so far has been handled (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * @example
 * const progress = createGitHubProgressSink({ clients, store, clock: systemClock, log, metrics });
 * const engine = createEngine({ ..., progress: composeSinks([progress, metricsSink]) });
 */
export function createGitHubProgressSink(options: GitHubProgressOptions): GitHubProgressSink {
  const intervalMs = options.intervalMs ?? 5000;
  const runs = new Map<string, Promise<ActiveRun | undefined>>();
  /** Runs that just parked: their last writes, which a wake-up's surfaces wait for before opening. */
  const parking = new Map<string, Promise<void>>();
  const pending = new Set<Promise<unknown>>();

  const open = async (event: RunEvent, run: RunRecord): Promise<ActiveRun | undefined> => {
    const installationId = run.trigger.repo.installationId;
    if (installationId === undefined) return undefined;
    const log = options.log.child({ runId: run.id, workflow: run.workflow });
    const fresh = (await options.store.getRun(run.id)) ?? run;
    // A run cancelled while still queued never showed anything on GitHub: nothing to finish.
    if (event.type === "run.finished" && fresh.startedAt === undefined && fresh.checkRunId === undefined && fresh.commentId === undefined) return undefined;
    const octokit = await options.clients.forInstallation(installationId);
    const view = createRunView(fresh, await options.store.getSteps(run.id));
    const ctx: SurfaceContext = { octokit, owner: run.trigger.repo.owner, repo: run.trigger.repo.name, run: fresh, view, store: options.store, log, metrics: options.metrics };
    const active: ActiveRun = { ctx, surfaces: [], findings: 0, chain: Promise.resolve() };
    const surfaces = [
      createCheckRunSurface(ctx, () => active.findings, { runStarting: event.type === "run.started" }),
      // A resumed run also starts again: its comment may exist without a stored id (killed in between).
      createStickyCommentSurface(ctx, { searchExisting: true }),
    ];
    for (const surface of surfaces) {
      let ok = true;
      let reopen = false;
      try {
        await surface.open();
      } catch (error) {
        ok = false;
        reopen = isTransient(error);
        log.warn({ err: error }, "could not open a progress surface on GitHub");
      }
      const coalescer = createCoalescer({
        clock: options.clock,
        intervalMs,
        write: () => surface.write(),
        onError: (error) => log.warn({ err: error }, "progress update to GitHub failed"),
      });
      active.surfaces.push({ surface, coalescer, ok, reopen });
    }
    return active;
  };

  const finish = async (active: ActiveRun, run: RunRecord) => {
    const { ctx } = active;
    const fresh = (await options.store.getRun(run.id)) ?? run;
    applyOutputsToView(ctx.view, fresh);
    active.findings = ctx.view.findings;
    for (const s of active.surfaces) {
      s.coalescer.close();
      await s.coalescer.flush();
      if (!s.ok) {
        if (!s.reopen) continue;
        // e.g. the check run could not be created when the run started: create it now, completed.
        try {
          await withFinalRetries(() => s.surface.open());
          s.ok = true;
        } catch (error) {
          ctx.log.warn({ err: error }, "could not open a progress surface on GitHub for the final write");
          continue;
        }
      }
      try {
        await withFinalRetries(() => s.surface.finish());
      } catch (error) {
        ctx.log.warn({ err: error }, "final progress write to GitHub failed");
      }
    }
  };

  const park = async (active: ActiveRun) => {
    for (const s of active.surfaces) {
      if (!s.ok) continue;
      s.coalescer.close();
      await s.coalescer.flush({ force: true });
    }
  };

  const handle = async (event: RunEvent, run: RunRecord) => {
    const key = String(run.id);
    let entry = runs.get(key);
    if (!entry) {
      const parked = parking.get(key) ?? Promise.resolve();
      entry = parked.then(() => open(event, run)).catch((error: unknown) => {
        options.log.warn({ err: error, runId: run.id }, "progress reporting disabled for this run");
        return undefined;
      });
      runs.set(key, entry);
    }
    let active = await entry;
    if (!active && event.type === "run.finished") {
      // Opening failed earlier (a token that could not be minted, say): the final write tries again.
      runs.delete(key);
      active = await open(event, run).catch((error: unknown) => {
        options.log.warn({ err: error, runId: run.id }, "progress reporting failed for this run");
        return undefined;
      });
      if (!active) return;
      runs.set(key, Promise.resolve(active));
    }
    if (!active) return;
    const step = active.chain.then(async () => {
      applyEvent(active.ctx.view, event);
      if (event.type === "run.finished") {
        runs.delete(key);
        await finish(active, run);
      } else if (event.type === "run.waiting") {
        // Parked (DESIGN D14): show it now and forget the run — a parked run holds no memory here;
        // when it is woken, its run.started opens the surfaces again from the ids stored on the run
        // (after this last write, so an approval that wakes it at once is not overwritten by it).
        if (runs.get(key) === entry) runs.delete(key);
        const flushed = park(active);
        parking.set(key, flushed);
        await flushed;
        if (parking.get(key) === flushed) parking.delete(key);
      } else {
        for (const s of active.surfaces) if (s.ok) s.coalescer.request();
      }
    });
    active.chain = step.catch((error: unknown) => active.ctx.log.warn({ err: error }, "progress event handling failed"));
    await active.chain;
  };

  return {
    async emit(event, run) {
      const p = handle(event, run);
      pending.add(p);
      try {
        await p;
      } finally {
        pending.delete(p);
      }
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

/** Attempts of a final write that fails transiently (5xx, primary or secondary rate limit) before the sweeper is left to it. */
const FINAL_WRITE_ATTEMPTS = 4;
/** The longest `retry-after` waited for here; a longer one is the sweeper's. */
const FINAL_WRITE_MAX_WAIT_MS = 10_000;

/**
 * The final write is what the user sees last: a transient refusal is retried with the server's
 * `retry-after` (or 1 s, 2 s, 4 s), in real time so a paused test clock cannot stall it.
 */
async function withFinalRetries(write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      const classified = classifyGitHubError(error);
      if (attempt >= FINAL_WRITE_ATTEMPTS || !isTransientClassified(classified)) throw error;
      const waitMs = retryAfterOf(classified) ?? 1000 * 2 ** (attempt - 1);
      if (waitMs > FINAL_WRITE_MAX_WAIT_MS) throw error;
      await delay(waitMs);
    }
  }
}

/** A GitHub failure that may pass (5xx, rate limit, network), by the one classification. */
function isTransient(error: unknown): boolean {
  return isTransientClassified(classifyGitHubError(error));
}
