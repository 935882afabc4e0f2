/**
 * The GitHub `ProgressSink`: per run, a check run and a sticky comment, each updated through its
 * own coalescer, and the run's outputs (pull request, review, comment texts) applied when it
 * finishes — before the final writes, so both surfaces link to what was delivered.
 * Reporting never fails a run: GitHub errors are logged and the surface carries on.
 */
import type { Logger } from "pino";
import type { GitHubClients } from "../github/client.ts";
import { applyOutputs } from "../github/outputs/apply-outputs.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Clock, ProgressSink, RunStore } from "../workflows/ports.ts";
import type { RunEvent, RunRecord } from "../workflows/types.ts";
import { createCheckRunSurface, type Surface, type SurfaceContext } from "./check-run-reporter.ts";
import { createCoalescer, type Coalescer } from "./coalescer.ts";
import { applyEvent, createRunView } from "./run-view.ts";
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
      createStickyCommentSurface(ctx, { searchExisting: event.type !== "run.started" }),
    ];
    for (const surface of surfaces) {
      let ok = true;
      try {
        await surface.open();
      } catch (error) {
        ok = false;
        log.warn({ err: error }, "could not open a progress surface on GitHub");
      }
      const coalescer = createCoalescer({
        clock: options.clock,
        intervalMs,
        write: () => surface.write(),
        onError: (error) => log.warn({ err: error }, "progress update to GitHub failed"),
      });
      active.surfaces.push({ surface, coalescer, ok });
    }
    return active;
  };

  const finish = async (active: ActiveRun, run: RunRecord) => {
    const { ctx } = active;
    try {
      const fresh = (await options.store.getRun(run.id)) ?? run;
      const applied = await applyOutputs({ octokit: ctx.octokit, store: options.store, log: ctx.log }, { ...fresh, status: ctx.view.status }, await options.store.getSteps(run.id));
      // "neutral" is for review runs whose result is findings only; a run that delivered a PR is a success.
      active.findings = applied.pullRequest ? 0 : applied.findings;
      if (applied.pullRequest) ctx.view.links.pullRequest = applied.pullRequest.url;
      if (applied.review?.url && applied.review.url !== "none") ctx.view.links.review = applied.review.url;
      ctx.view.results = applied.results;
      ctx.view.notes = applied.notes;
    } catch (error) {
      // The surfaces must still get their final write: a run never stays "in progress" on GitHub.
      ctx.log.warn({ err: error }, "delivering the run's outputs to GitHub failed");
      const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 300) ?? "";
      ctx.view.status = "failed";
      ctx.view.error = `Octoflow could not deliver this run's results to GitHub: ${reason}`;
    }
    for (const s of active.surfaces) {
      s.coalescer.close();
      await s.coalescer.flush();
      if (!s.ok) continue;
      try {
        await s.surface.finish();
      } catch (error) {
        ctx.log.warn({ err: error }, "final progress write to GitHub failed");
      }
    }
  };

  const handle = async (event: RunEvent, run: RunRecord) => {
    const key = String(run.id);
    let entry = runs.get(key);
    if (!entry) {
      entry = open(event, run).catch((error: unknown) => {
        options.log.warn({ err: error, runId: run.id }, "progress reporting disabled for this run");
        return undefined;
      });
      runs.set(key, entry);
    }
    const active = await entry;
    if (!active) {
      if (event.type === "run.finished") runs.delete(key);
      return;
    }
    const step = active.chain.then(async () => {
      applyEvent(active.ctx.view, event);
      if (event.type === "run.finished") {
        runs.delete(key);
        await finish(active, run);
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
