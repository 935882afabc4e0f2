/**
 * `check_suite.completed`, `check_run.completed`, `status`: the repository's CI reported on a commit.
 * Wakes the runs parked on that commit (`ci:<sha>`, DESIGN D14); their CI gate then reads the checks
 * again and decides. Events of Octoflow's own check runs and pending statuses wake nothing.
 */
import type { Context } from "probot";
import { ciKey } from "../../workflows/run-gate.ts";
import type { HandlerDeps } from "../start-run.ts";

/** The events whose deliveries wake runs waiting for CI, as `registerHandlers` subscribes them. */
export const CI_FINISHED_EVENTS = ["check_suite.completed", "check_run.completed", "status"] as const;

type CiContext = Context<"check_suite.completed"> | Context<"check_run.completed"> | Context<"status">;

interface CiReport {
  sha: string;
  appId?: number;
}

/** The commit a CI event is about, or undefined when it wakes nothing (a pending status). */
export function ciReportOf(name: string, payload: Record<string, unknown>): CiReport | undefined {
  const object = (key: string) => payload[key] as { head_sha?: unknown; app?: { id?: unknown } | null } | undefined;
  const report = (value: { head_sha?: unknown; app?: { id?: unknown } | null } | undefined): CiReport | undefined =>
    typeof value?.head_sha === "string" ? { sha: value.head_sha, ...(typeof value.app?.id === "number" ? { appId: value.app.id } : {}) } : undefined;
  switch (name) {
    case "check_suite":
      return report(object("check_suite"));
    case "check_run":
      return report(object("check_run"));
    case "status":
      return typeof payload.sha === "string" && payload.state !== "pending" ? { sha: payload.sha } : undefined;
    default:
      return undefined;
  }
}

/**
 * @example
 * app.on([...CI_FINISHED_EVENTS], onCiFinished(deps));
 */
export function onCiFinished(deps: HandlerDeps) {
  return async (context: CiContext): Promise<void> => {
    const payload = context.payload as unknown as Record<string, unknown> & { repository: { name: string; owner: { login: string } } };
    const report = ciReportOf(context.name, payload);
    if (!report || !deps.runs.wakeWaiting) return;
    if (deps.appId !== undefined && report.appId === deps.appId) return;
    const woken = await deps.runs.wakeWaiting(`${payload.repository.owner.login}/${payload.repository.name}`, ciKey(report.sha));
    if (woken.length > 0) deps.log.info({ deliveryId: context.id, event: context.name, sha: report.sha, runs: woken }, "CI reported: waiting runs woken");
  };
}
