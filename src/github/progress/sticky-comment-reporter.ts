/**
 * One sticky comment per run, identified by the hidden marker `<!-- octoflow:run:<runId> -->`,
 * created once and edited in place. Found again through the id stored on the run, a store marker,
 * or (after a crash between create and store) by searching the thread for the marker.
 */
import type { Surface, SurfaceContext } from "./check-run-reporter.ts";
import { renderStickyComment, stickyMarker } from "../../progress/render.ts";
import { commentMarkerKey } from "../../store/marker-keys.ts";

/** Searches an issue's comments (newest pages first is not offered by the API; bounded to 10 pages). */
async function findByMarker(ctx: SurfaceContext): Promise<{ id: number; url: string } | undefined> {
  const marker = stickyMarker(ctx.view.runId);
  let page = 0;
  for await (const response of ctx.octokit.paginate.iterator(ctx.octokit.rest.issues.listComments, {
    owner: ctx.owner,
    repo: ctx.repo,
    issue_number: ctx.run.trigger.number,
    per_page: 100,
  })) {
    const hit = response.data.find((c) => c.body?.includes(marker));
    if (hit) return { id: hit.id, url: hit.html_url };
    if (++page >= 10) break;
  }
  return undefined;
}

/**
 * @param options.searchExisting look for the marker in the thread before creating (set when a run resumes)
 */
export function createStickyCommentSurface(ctx: SurfaceContext, options: { searchExisting: boolean }): Surface {
  let id: number | undefined = ctx.run.commentId;
  let last = "";
  return {
    async open() {
      if (id === undefined) {
        const marker = await ctx.store.getMarker(commentMarkerKey(ctx.view.runId));
        if (marker) id = Number(marker);
      }
      if (id === undefined && options.searchExisting) {
        const found = await findByMarker(ctx);
        if (found) {
          id = found.id;
          await ctx.store.setMarker(commentMarkerKey(ctx.view.runId), String(id));
        }
      }
      if (id !== undefined) return;
      const body = renderStickyComment(ctx.view);
      ctx.metrics.githubWrites.inc({ surface: "comment" });
      const { data } = await ctx.octokit.rest.issues.createComment({ owner: ctx.owner, repo: ctx.repo, issue_number: ctx.run.trigger.number, body });
      last = body;
      id = Number(await ctx.store.putMarkerIfAbsent(commentMarkerKey(ctx.view.runId), String(data.id)));
      await ctx.store.updateRun(ctx.run.id, { commentId: id });
    },
    async write() {
      if (id === undefined) return;
      const body = renderStickyComment(ctx.view);
      if (body === last) return;
      last = body;
      ctx.metrics.githubWrites.inc({ surface: "comment" });
      await ctx.octokit.rest.issues.updateComment({ owner: ctx.owner, repo: ctx.repo, comment_id: id, body });
    },
    async finish() {
      await this.write();
    },
  };
}
