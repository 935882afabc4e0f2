/**
 * The run's check run: created `in_progress` when the run starts (or found again by the id stored on
 * the run / a marker / its `external_id` after a crash between create and store), updated with the step table and the streaming tail, completed with the
 * right conclusion and a Retry button when it failed.
 */
import type { Logger } from "pino";
import type { GitHubClient } from "../client.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { RunStore } from "../../workflows/ports.ts";
import type { RunRecord } from "../../workflows/types.ts";
import { renderCheckRunSummary, renderCheckRunText, renderTitle } from "../../progress/render.ts";
import { awaitingApproval, type RunView } from "../../progress/run-view.ts";
import { checkRunCompletedKey, checkRunMarkerKey } from "../../store/marker-keys.ts";

export interface SurfaceContext {
  octokit: GitHubClient;
  owner: string;
  repo: string;
  run: RunRecord;
  view: RunView;
  store: RunStore;
  log: Logger;
  metrics: Metrics;
}

export interface Surface {
  /** Creates or finds the surface (idempotent). */
  open(): Promise<void>;
  /** Writes the current view (called through a coalescer). */
  write(): Promise<void>;
  /** The final write. */
  finish(): Promise<void>;
}

/**
 * Buttons on the check run, handled by `on-check-run-requested-action.ts`. GitHub's limits: label
 * ≤ 20, description ≤ 40, identifier ≤ 20 characters, at most 3 buttons.
 */
export const CHECK_RUN_ACTIONS = {
  approve: { label: "Approve", description: "Approve the waiting step and go on", identifier: "approve" },
  cancel: { label: "Cancel", description: "Cancel this Octoflow run", identifier: "cancel" },
  retry: { label: "Retry", description: "Re-run the failed steps", identifier: "retry" },
} as const;

/** The buttons of an active run: Approve while a step waits for an approval, and Cancel. */
export function activeRunActions(view: RunView): (typeof CHECK_RUN_ACTIONS)[keyof typeof CHECK_RUN_ACTIONS][] {
  if (!view.fromApp) return [];
  return awaitingApproval(view).length > 0 ? [CHECK_RUN_ACTIONS.approve, CHECK_RUN_ACTIONS.cancel] : [CHECK_RUN_ACTIONS.cancel];
}

/** `Octoflow: <workflow>` — the check run's name. */
export function checkRunName(workflow: string): string {
  return `Octoflow: ${workflow}`.slice(0, 100);
}

/** The commit a run's check run is attached to: the PR head, else the default branch head. */
async function headShaFor(ctx: SurfaceContext): Promise<string> {
  const pr = ctx.run.trigger.pullRequest;
  if (pr?.headSha) return pr.headSha;
  const { data } = await ctx.octokit.rest.git.getRef({ owner: ctx.owner, repo: ctx.repo, ref: `heads/${ctx.run.trigger.repo.defaultBranch}` });
  return data.object.sha;
}

/** This run's check run on `headSha` that is not completed yet (found by its `external_id`), if any. */
async function findInProgress(ctx: SurfaceContext, headSha: string): Promise<{ id: number; html_url: string | null } | undefined> {
  const { data } = await ctx.octokit.rest.checks.listForRef({ owner: ctx.owner, repo: ctx.repo, ref: headSha, check_name: checkRunName(ctx.view.workflow), per_page: 100 });
  return data.check_runs.find((c) => c.external_id === ctx.view.runId && c.status !== "completed");
}

function conclusionOf(view: RunView, findings: number): "success" | "failure" | "cancelled" | "neutral" {
  if (view.status === "failed") return "failure";
  if (view.status === "cancelled") return "cancelled";
  return findings > 0 ? "neutral" : "success";
}

/**
 * @param findings returns how many review findings the run produced (neutral conclusion when > 0)
 * @param options.runStarting the run is (re)starting: a completed check run is replaced by a new one
 */
export function createCheckRunSurface(ctx: SurfaceContext, findings: () => number, options: { runStarting?: boolean } = {}): Surface {
  let id: number | undefined = ctx.run.checkRunId;
  let last = "";

  const patch = async (body: Record<string, unknown>) => {
    if (id === undefined) return;
    const key = JSON.stringify(body);
    if (key === last) return;
    last = key;
    ctx.metrics.githubWrites.inc({ surface: "check_run" });
    await ctx.octokit.rest.checks.update({ owner: ctx.owner, repo: ctx.repo, check_run_id: id, ...body });
  };

  const output = () => {
    const text = renderCheckRunText(ctx.view);
    return { title: renderTitle(ctx.view).slice(0, 255), summary: renderCheckRunSummary(ctx.view), ...(text ? { text } : {}) };
  };

  return {
    async open() {
      if (id === undefined) {
        const marker = await ctx.store.getMarker(checkRunMarkerKey(ctx.view.runId));
        if (marker) id = Number(marker);
      }
      // A retried run gets a fresh check run: a completed one cannot go back to in_progress.
      if (id !== undefined && !(options.runStarting && (await ctx.store.getMarker(checkRunCompletedKey(ctx.view.runId))) === String(id))) return;
      const headSha = await headShaFor(ctx);
      if (id === undefined) {
        // A process killed between creating the check run and storing its id: adopt that one.
        const found = await findInProgress(ctx, headSha);
        if (found) {
          id = Number(await ctx.store.putMarkerIfAbsent(checkRunMarkerKey(ctx.view.runId), String(found.id)));
          if (found.html_url && id === found.id) ctx.view.links.checkRun = found.html_url;
          await ctx.store.updateRun(ctx.run.id, { checkRunId: id });
          return;
        }
      }
      ctx.metrics.githubWrites.inc({ surface: "check_run" });
      const { data } = await ctx.octokit.rest.checks.create({
        owner: ctx.owner,
        repo: ctx.repo,
        name: checkRunName(ctx.view.workflow),
        head_sha: headSha,
        external_id: ctx.view.runId,
        status: "in_progress",
        started_at: new Date(ctx.run.startedAt ?? Date.now()).toISOString(),
        output: output(),
        actions: activeRunActions(ctx.view),
      });
      const replacing = id !== undefined;
      if (replacing) await ctx.store.setMarker(checkRunMarkerKey(ctx.view.runId), String(data.id));
      id = Number(replacing ? data.id : await ctx.store.putMarkerIfAbsent(checkRunMarkerKey(ctx.view.runId), String(data.id)));
      if (data.html_url && id === data.id) ctx.view.links.checkRun = data.html_url;
      await ctx.store.updateRun(ctx.run.id, { checkRunId: id });
    },
    async write() {
      await patch({ status: "in_progress", output: output(), actions: activeRunActions(ctx.view) });
    },
    async finish() {
      const conclusion = conclusionOf(ctx.view, findings());
      await patch({
        status: "completed",
        conclusion,
        completed_at: new Date().toISOString(),
        output: output(),
        actions: ctx.view.status === "failed" && ctx.view.fromApp ? [CHECK_RUN_ACTIONS.retry] : [],
      });
      if (id !== undefined) await ctx.store.setMarker(checkRunCompletedKey(ctx.view.runId), String(id));
    },
  };
}
