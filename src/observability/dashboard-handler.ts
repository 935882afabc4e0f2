/**
 * The runs dashboard, served on Probot's server through `addHandler`:
 *
 * - `GET /dashboard` — a self-contained HTML page (inline JS and CSS under a nonce CSP); it holds no
 *   data itself and reads everything from the API with the operator's token.
 * - `GET /api/runs` — recent runs (`?limit=&status=&repo=&workflow=`) and a summary.
 * - `GET /api/runs/:id` — one run with its steps, graph layout, attempt timeline and events.
 *
 * The API requires `Authorization: Bearer $DASHBOARD_TOKEN`. Without a token configured every one of
 * these paths answers 404: the dashboard is disabled.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Clock, ListRunsQuery, RunStore } from "../workflows/ports.ts";
import { asRunId, type RunStatus } from "../workflows/types.ts";
import { breakerStatesFromGauge, type BreakerStates, type BreakerStatesSource, type Metrics } from "./metrics.ts";
import { sendJson } from "./ops-handler.ts";
import { isAuthorized } from "./request-auth.ts";
import { histogramBuckets, histogramQuantile } from "./histogram-quantile.ts";
import { toEventView, toRunView, toStepViews, type RunView } from "./run-view.ts";
import { renderDashboardPage } from "./dashboard-page.ts";
import { layoutRunGraph } from "./run-graph-layout.ts";
import { buildTimeline } from "./run-timeline.ts";

const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "waiting", "succeeded", "failed", "cancelled"];
const MAX_LIMIT = 200;
const MAX_EVENTS = 500;
/** Events read for the attempt timeline (step progress is stored every few seconds, so long runs have many). */
const TIMELINE_EVENTS = 5000;

export interface DashboardDeps {
  store: Pick<RunStore, "listRuns" | "getRun" | "getSteps" | "listEvents">;
  metrics: Metrics;
  /** `DASHBOARD_TOKEN`; when undefined or empty the dashboard is disabled (404). */
  token: string | undefined;
  /** Live breaker states; falls back to the `octoflow_circuit_breaker_state` gauge. */
  breakerStates?: BreakerStatesSource;
  /** Web base for links, see `githubWebUrl(env)`; defaults to https://github.com. */
  githubUrl?: string;
  clock?: Pick<Clock, "now">;
  log?: Logger;
}

export interface DashboardSummary {
  runs: number;
  finished: number;
  /** succeeded / (succeeded + failed) over the listed runs; null without finished runs. */
  successRate: number | null;
  p95RunSeconds: number | null;
  p95StepSeconds: number | null;
  /** From this replica's `octoflow_agent_request_duration_seconds` histogram. */
  p95AgentSeconds: number | null;
  tokens: number;
  costUsd: number;
  breakers: BreakerStates;
}

/**
 * @example
 * addHandler(createDashboardHandler({ store, metrics, token: env.DASHBOARD_TOKEN, githubUrl: githubWebUrl(env),
 *   breakerStates: () => resilience.breakerStates() }));
 */
export function createDashboardHandler(deps: DashboardDeps) {
  const clock = deps.clock ?? { now: () => Date.now() };
  const githubUrl = deps.githubUrl ?? "https://github.com";
  const token = deps.token ?? "";

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const isPage = path === "/dashboard" || path === "/dashboard/";
    const isApi = path === "/api/runs" || path.startsWith("/api/runs/");
    if (!isPage && !isApi) return false;
    if (token === "") {
      sendJson(res, 404, { error: "not found" });
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    if (isPage) {
      sendPage(res);
      return true;
    }
    if (!isAuthorized(req, token)) {
      res.setHeader("www-authenticate", 'Bearer realm="octoflow"');
      sendJson(res, 401, { error: "unauthorized: send Authorization: Bearer <DASHBOARD_TOKEN>" });
      return true;
    }
    try {
      if (path === "/api/runs") {
        sendJson(res, 200, await listRuns(url.searchParams));
        return true;
      }
      const id = decodePathSegment(path.slice("/api/runs/".length));
      const detail = id === undefined || id === "" || id.includes("/") ? undefined : await runDetail(id);
      if (detail) sendJson(res, 200, detail);
      else sendJson(res, 404, { error: "run not found" });
    } catch (error) {
      deps.log?.error({ err: error, path }, "dashboard API failed");
      sendJson(res, 500, { error: "the run store is unavailable" });
    }
    return true;
  };

  async function listRuns(params: URLSearchParams) {
    const query: ListRunsQuery = { limit: clampLimit(params.get("limit")) };
    const status = params.get("status");
    if (status && (RUN_STATUSES as readonly string[]).includes(status)) query.status = status as RunStatus;
    const repo = params.get("repo");
    if (repo) query.repo = repo;
    const workflow = params.get("workflow");
    if (workflow) query.workflow = workflow;
    const now = clock.now();
    const runs = await deps.store.listRuns(query);
    const withSteps = await Promise.all(runs.map(async (run) => ({ run, steps: await deps.store.getSteps(run.id) })));
    const views = withSteps.map(({ run, steps }) => toRunView(run, steps, githubUrl, now));
    const stepSeconds = withSteps.flatMap(({ steps }) =>
      steps.filter((s) => s.startedAt !== undefined && s.finishedAt !== undefined).map((s) => ((s.finishedAt ?? 0) - (s.startedAt ?? 0)) / 1000),
    );
    return { runs: views, summary: await summarise(views, stepSeconds), generatedAt: new Date(now).toISOString() };
  }

  async function runDetail(id: string) {
    const run = await deps.store.getRun(asRunId(id));
    if (!run) return undefined;
    const now = clock.now();
    const [steps, events] = await Promise.all([deps.store.getSteps(run.id), deps.store.listEvents(run.id, { limit: TIMELINE_EVENTS })]);
    const stepViews = toStepViews(run, steps, now);
    return {
      run: toRunView(run, steps, githubUrl, now),
      steps: stepViews,
      graph: layoutRunGraph(stepViews),
      timeline: buildTimeline(run, steps, events, now),
      events: events.slice(-MAX_EVENTS).map(toEventView),
      generatedAt: new Date(now).toISOString(),
    };
  }

  async function summarise(views: RunView[], stepSeconds: number[]): Promise<DashboardSummary> {
    const finished = views.filter((v) => v.status === "succeeded" || v.status === "failed" || v.status === "cancelled");
    const judged = finished.filter((v) => v.status !== "cancelled");
    const agentP95 = histogramQuantile(0.95, await histogramBuckets(deps.metrics.agentRequestDuration));
    return {
      runs: views.length,
      finished: finished.length,
      successRate: judged.length > 0 ? judged.filter((v) => v.status === "succeeded").length / judged.length : null,
      p95RunSeconds: nearestRank(0.95, finished.flatMap((v) => (v.durationMs === undefined ? [] : [v.durationMs / 1000]))),
      p95StepSeconds: nearestRank(0.95, stepSeconds),
      p95AgentSeconds: agentP95 ?? null,
      tokens: views.reduce((n, v) => n + v.tokens.total, 0),
      costUsd: Math.round(views.reduce((n, v) => n + v.costUsd, 0) * 1e6) / 1e6,
      breakers: await breakers(),
    };
  }

  async function breakers(): Promise<BreakerStates> {
    if (deps.breakerStates) {
      try {
        return await deps.breakerStates();
      } catch (error) {
        deps.log?.warn({ err: error }, "breaker states unavailable for the dashboard");
      }
    }
    return breakerStatesFromGauge(deps.metrics);
  }
}

function sendPage(res: ServerResponse): void {
  const nonce = randomBytes(16).toString("base64");
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    // the token may arrive in the query string once: never send it on in a Referer
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  });
  res.end(renderDashboardPage({ nonce }));
}

/** The decoded segment, or undefined for a malformed escape (`%E0%A4%A`): a 404, not a 500. */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function clampLimit(raw: string | null): number {
  const n = raw === null ? 50 : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? Math.min(Math.max(n, 1), MAX_LIMIT) : 50;
}

/** Nearest-rank quantile of raw samples, or null without samples. */
function nearestRank(q: number, values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
}
