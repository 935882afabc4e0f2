/**
 * What the repository's CI says about one commit: other apps' check runs (GitHub Actions included)
 * and commit statuses, normalised into one list of checks, each `pending`, `passed`, `failed` or
 * `ignored`. Octoflow's own check runs are left out. Which conclusions count how:
 *
 * - passed: `success`, `neutral`, `skipped` (and a status `success`)
 * - failed: `failure`, `timed_out`, `action_required`, `startup_failure` (and a status `failure` / `error`)
 * - ignored: `cancelled`, `stale` — they say nothing about the change (a newer push or a human
 *   cancelled the job); a fix step cannot fix them, so they neither fail nor hold up the gate
 * - pending: a check run not `completed`, a status `pending`
 */
import type { GitHubClient } from "../client.ts";
import { httpStatus } from "../client.ts";

export type CheckState = "pending" | "passed" | "failed" | "ignored";

export interface CiCheck {
  kind: "check_run" | "status";
  /** The check run's name, or the status's context. */
  name: string;
  state: CheckState;
  /** GitHub's conclusion (check run) or state (status), e.g. `failure`, `timed_out`, `pending`. */
  conclusion: string;
  /** The check run's id (for annotations and, for GitHub Actions, the job's log). */
  id?: number;
  /** The app that reported it (`github-actions`, …). */
  app?: string;
  url?: string;
  /** The check run's output title and summary, or the status's description. */
  summary?: string;
  annotations?: number;
}

export interface CiSnapshot {
  sha: string;
  checks: CiCheck[];
  /** What could not be read (a permission the installation has not granted yet). */
  notes: string[];
}

const FAILED = new Set(["failure", "timed_out", "action_required", "startup_failure"]);
const PASSED = new Set(["success", "neutral", "skipped"]);
/** At most this many check runs are read per commit (three pages). */
const MAX_CHECK_RUNS = 300;

type CheckRun = Awaited<ReturnType<GitHubClient["rest"]["checks"]["listForRef"]>>["data"]["check_runs"][number];

export function checkRunState(run: Pick<CheckRun, "status" | "conclusion">): CheckState {
  if (run.status !== "completed") return "pending";
  const conclusion = run.conclusion ?? "";
  if (FAILED.has(conclusion)) return "failed";
  if (PASSED.has(conclusion)) return "passed";
  return "ignored";
}

export function statusState(state: string): CheckState {
  if (state === "success") return "passed";
  if (state === "failure" || state === "error") return "failed";
  return "pending";
}

/**
 * Whether a check run is Octoflow's own: reported by the App itself (`appId`), or — where the App id
 * is unknown (the CLI's token) — named like Octoflow's run check runs.
 */
export function isOwnCheckRun(run: { name: string; app?: { id?: number } | null }, appId: number | undefined): boolean {
  if (appId !== undefined) return run.app?.id === appId;
  return run.name.startsWith("Octoflow: ");
}

export interface ReadOptions {
  owner: string;
  repo: string;
  sha: string;
  appId: number | undefined;
}

/**
 * Reads the checks of `sha`. A 403 on commit statuses (an installation that has not accepted the
 * `statuses: read` permission yet) becomes a note instead of a failure; other errors propagate.
 */
export async function readCiChecks(octokit: GitHubClient, options: ReadOptions): Promise<CiSnapshot> {
  const { owner, repo, sha, appId } = options;
  const checks: CiCheck[] = [];
  const notes: string[] = [];
  for (let page = 1; page <= MAX_CHECK_RUNS / 100; page++) {
    const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: sha, filter: "latest", per_page: 100, page });
    for (const run of data.check_runs) {
      if (isOwnCheckRun(run, appId)) continue;
      const summary = [run.output.title, run.output.summary].filter((s): s is string => Boolean(s)).join(" — ");
      checks.push({
        kind: "check_run",
        name: run.name,
        state: checkRunState(run),
        conclusion: run.status === "completed" ? (run.conclusion ?? "unknown") : run.status,
        id: run.id,
        ...(run.app?.slug ? { app: run.app.slug } : {}),
        ...(run.html_url ? { url: run.html_url } : {}),
        ...(summary ? { summary } : {}),
        annotations: run.output.annotations_count,
      });
    }
    if (data.check_runs.length < 100 || page * 100 >= data.total_count) break;
  }
  try {
    const { data } = await octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: sha, per_page: 100 });
    for (const status of data.statuses) {
      checks.push({
        kind: "status",
        name: status.context,
        state: statusState(status.state),
        conclusion: status.state,
        ...(status.target_url ? { url: status.target_url } : {}),
        ...(status.description ? { summary: status.description } : {}),
      });
    }
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
    notes.push("Commit statuses could not be read (the installation has not granted `statuses: read`); only check runs were counted.");
  }
  return { sha, checks, notes };
}

/**
 * Whether the repository evidently has CI: workflow files in `.github/workflows/` on the default
 * branch, or another app's check suite with check runs, or a commit status, on its head commit.
 */
export async function repositoryHasCi(octokit: GitHubClient, options: { owner: string; repo: string; defaultBranch: string; appId: number | undefined }): Promise<boolean> {
  const { owner, repo, defaultBranch, appId } = options;
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: ".github/workflows", ref: defaultBranch });
    if (Array.isArray(data) && data.some((entry) => /\.ya?ml$/.test(entry.name))) return true;
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
  }
  const { data: suites } = await octokit.rest.checks.listSuitesForRef({ owner, repo, ref: defaultBranch, per_page: 100 });
  if (suites.check_suites.some((suite) => (suite.latest_check_runs_count ?? 0) > 0 && !(appId !== undefined && suite.app?.id === appId))) return true;
  try {
    const { data: status } = await octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: defaultBranch, per_page: 1 });
    return status.total_count > 0;
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
    return false;
  }
}
