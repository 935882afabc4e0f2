/**
 * A repository's CI on the fake GitHub, in GitHub's wire format: other apps' check runs (GitHub
 * Actions and others) in the repo model's check-run list, their check suites, commit statuses,
 * check-run annotations and GitHub Actions job logs (the API redirects to a download host that
 * serves the plain-text log). Installed by `installRepoModel`; tests report CI through `model.ci`.
 *
 * @example
 * const run = model.ci.addCheckRun(sha, { name: "test (ubuntu)" });            // queued
 * model.ci.complete(run, "failure", { annotations: [{ path: "src/a.ts", line: 3, message: "boom" }], log: "…" });
 * model.ci.addStatus(sha, { context: "ci/circleci", state: "success" });
 */
import { DOWNLOAD_PREFIX, type GitHubFake } from "./github-server.ts";

export interface CiApp {
  id: number;
  slug: string;
  name: string;
}

export const GITHUB_ACTIONS: CiApp = { id: 15368, slug: "github-actions", name: "GitHub Actions" };

export interface CiAnnotationInput {
  path: string;
  line: number;
  endLine?: number;
  level?: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

export interface CiStatusInput {
  context: string;
  state: "pending" | "success" | "failure" | "error";
  description?: string;
  targetUrl?: string;
}

export interface CiModel {
  /** Adds another app's check run on `sha` (queued unless `status` says otherwise); returns its id. */
  addCheckRun(sha: string, run: { name: string; app?: CiApp; status?: "queued" | "in_progress" | "completed"; conclusion?: string; title?: string; summary?: string }): number;
  /** Completes a check run with a conclusion, its annotations and (GitHub Actions) its job log. */
  complete(id: number, conclusion: string, details?: { title?: string; summary?: string; annotations?: CiAnnotationInput[]; log?: string }): void;
  /** Adds (or replaces, by context) a commit status on `sha`. */
  addStatus(sha: string, status: CiStatusInput): void;
  /** How many annotations a check run has (its `output.annotations_count`). */
  annotationCount(id: number): number;
  /** Status of `GET /actions/jobs/{id}/logs`: 302 to the log (default), or e.g. 403 without `actions: read`. */
  logStatus: number;
}

/** What the repo model shares with its CI: the check-run store and the id counter. */
export interface CiModelHost {
  fake: GitHubFake;
  base: string;
  owner: string;
  repo: string;
  checkRuns: Map<number, Record<string, unknown>>;
  nextId(): number;
  /** A branch name or SHA → the commit SHA (GitHub accepts both as `{ref}`). */
  resolve(ref: string): string | undefined;
}

const stamp = "2026-01-01T00:00:00Z";

export function appJson(app: CiApp) {
  return {
    id: app.id,
    slug: app.slug,
    node_id: `A_${app.id}`,
    owner: { login: "github", id: 9919, type: "Organization" },
    name: app.name,
    description: "",
    external_url: `https://github.com/apps/${app.slug}`,
    html_url: `https://github.com/apps/${app.slug}`,
    created_at: stamp,
    updated_at: stamp,
    permissions: {},
    events: [],
  };
}

/** Installs the CI routes on the repo model's fake. */
export function installCiModel(host: CiModelHost): CiModel {
  const { fake, base, owner, repo, checkRuns } = host;
  const annotations = new Map<number, CiAnnotationInput[]>();
  const logs = new Map<number, string>();
  const statuses = new Map<string, (CiStatusInput & { id: number })[]>();
  const suiteIds = new Map<string, number>();
  const suiteOf = (sha: string, app: CiApp) => {
    const key = `${sha}:${app.id}`;
    if (!suiteIds.has(key)) suiteIds.set(key, host.nextId());
    return suiteIds.get(key) as number;
  };

  const model: CiModel = {
    logStatus: 302,
    annotationCount: (id) => annotations.get(id)?.length ?? 0,
    addCheckRun(sha, run) {
      const id = host.nextId();
      const app = run.app ?? GITHUB_ACTIONS;
      checkRuns.set(id, {
        head_sha: sha,
        name: run.name,
        status: run.status ?? "queued",
        ...(run.conclusion ? { conclusion: run.conclusion } : {}),
        ciApp: app,
        check_suite: { id: suiteOf(sha, app) },
        output: { title: run.title ?? null, summary: run.summary ?? null },
      });
      return id;
    },
    complete(id, conclusion, details = {}) {
      const run = checkRuns.get(id);
      if (!run) throw new Error(`no check run ${id}`);
      checkRuns.set(id, { ...run, status: "completed", conclusion, output: { title: details.title ?? null, summary: details.summary ?? null } });
      if (details.annotations) annotations.set(id, details.annotations);
      if (details.log !== undefined) logs.set(id, details.log);
    },
    addStatus(sha, status) {
      const list = (statuses.get(sha) ?? []).filter((s) => s.context !== status.context);
      list.push({ ...status, id: host.nextId() });
      statuses.set(sha, list);
    },
  };

  fake.allow("GET", `${base}/commits/{ref}/status`, (_req, params) => {
    const ref = host.resolve(params.ref ?? "") ?? params.ref ?? "";
    const list = statuses.get(ref) ?? [];
    const states = list.map((s) => s.state);
    const state = states.some((s) => s === "failure" || s === "error") ? "failure" : states.length > 0 && states.every((s) => s === "success") ? "success" : "pending";
    return {
      body: {
        state,
        sha: ref,
        total_count: list.length,
        statuses: list.map((s) => ({
          id: s.id,
          node_id: "SC_1",
          url: `https://api.github.com${base}/statuses/${ref}`,
          avatar_url: null,
          state: s.state,
          description: s.description ?? null,
          target_url: s.targetUrl ?? null,
          context: s.context,
          created_at: stamp,
          updated_at: stamp,
        })),
        repository: { id: 1, name: repo, full_name: `${owner}/${repo}` },
        commit_url: `https://api.github.com${base}/commits/${ref}`,
        url: `https://api.github.com${base}/commits/${ref}/status`,
      },
    };
  });
  fake.allow("GET", `${base}/commits/{ref}/check-suites`, (_req, params) => {
    const ref = host.resolve(params.ref ?? "") ?? params.ref ?? "";
    const suites = new Map<number, { app: CiApp; runs: Record<string, unknown>[] }>();
    for (const run of checkRuns.values()) {
      const app = run.ciApp as CiApp | undefined;
      const suite = run.check_suite as { id: number } | undefined;
      if (run.head_sha !== ref || !app || !suite) continue;
      const entry = suites.get(suite.id) ?? { app, runs: [] };
      entry.runs.push(run);
      suites.set(suite.id, entry);
    }
    const list = [...suites].map(([id, { app, runs }]) => {
      const done = runs.every((r) => r.status === "completed");
      return {
        id, node_id: "CS_1", head_branch: null, head_sha: ref, status: done ? "completed" : "in_progress", conclusion: done ? (runs.some((r) => r.conclusion === "failure") ? "failure" : "success") : null,
        url: `https://api.github.com${base}/check-suites/${id}`, before: null, after: ref, pull_requests: [], app: appJson(app), repository: { id: 1, name: repo, full_name: `${owner}/${repo}` },
        created_at: stamp, updated_at: stamp, latest_check_runs_count: runs.length, check_runs_url: `https://api.github.com${base}/check-suites/${id}/check-runs`, head_commit: { id: ref, tree_id: ref, message: "", timestamp: stamp, author: null, committer: null },
      };
    });
    return { body: { total_count: list.length, check_suites: list } };
  });
  fake.allow("GET", `${base}/check-runs/{check_run_id}/annotations`, (_req, { check_run_id = "" }) => ({
    body: (annotations.get(Number(check_run_id)) ?? []).map((a) => ({
      path: a.path,
      start_line: a.line,
      end_line: a.endLine ?? a.line,
      start_column: null,
      end_column: null,
      annotation_level: a.level ?? "failure",
      title: a.title ?? null,
      message: a.message,
      raw_details: null,
      blob_href: `https://github.com/${owner}/${repo}/blob/x/${a.path}`,
    })),
  }));
  fake.allow("GET", `${base}/actions/jobs/{job_id}/logs`, (_req, { job_id = "" }) => {
    if (model.logStatus !== 302) return { status: model.logStatus, body: { message: model.logStatus === 403 ? "Resource not accessible by integration" : "Not Found" } };
    if (!logs.has(Number(job_id))) return { status: 404, body: { message: "Not Found" } };
    return { status: 302, headers: { location: `${fake.url}${DOWNLOAD_PREFIX}job-logs/${owner}/${repo}/${job_id}` }, body: "" };
  });
  fake.allow("GET", `${DOWNLOAD_PREFIX}job-logs/${owner}/${repo}/{job_id}`, (_req, { job_id = "" }) => ({
    body: logs.get(Number(job_id)) ?? "",
    headers: { "content-type": "text/plain; charset=utf-8" },
  }));
  return model;
}
