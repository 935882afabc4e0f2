/**
 * GitHub request instrumentation through Octokit's `request` hook: one client span per request
 * (method, route template, status), `octoflow_github_requests_total` by method and status class,
 * and `octoflow_github_rate_limit_remaining` from the `x-ratelimit-*` response headers.
 */
import { SpanKind } from "@opentelemetry/api";
import type { Octokit } from "@octokit/rest";
import type { Metrics } from "./metrics.ts";
import { withSpan } from "./tracing.ts";

const INSTRUMENTED = Symbol.for("octoflow.octokit.instrumented");

/** The part of an Octokit instance the instrumentation needs. */
export type HookableOctokit = Pick<Octokit, "hook">;

interface ResponseLike {
  status?: number;
  headers?: Record<string, string | number | undefined>;
}

/** `2xx`, `4xx`, … or `error` when no HTTP status was received. */
export function statusClass(status: number | undefined): string {
  return typeof status === "number" && status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "error";
}

/**
 * Instruments an Octokit instance (idempotent: a second call on the same instance does nothing).
 *
 * @example
 * // per installation client in a handler
 * instrumentOctokit(context.octokit, { metrics });
 * // or for every client Probot creates:
 * run(appFn, { Octokit: ProbotOctokit.plugin(octokitInstrumentation({ metrics })) });
 */
export function instrumentOctokit<T extends HookableOctokit>(octokit: T, deps: { metrics: Metrics }): T {
  const marked = octokit as T & { [INSTRUMENTED]?: boolean };
  if (marked[INSTRUMENTED]) return octokit;
  marked[INSTRUMENTED] = true;
  const { metrics } = deps;

  octokit.hook.wrap("request", async (request, options) => {
    const method = String(options.method ?? "GET").toUpperCase();
    // `options.url` is the route template (`/repos/{owner}/{repo}/issues`) before expansion.
    const route = String(options.url ?? "");
    return withSpan(
      `GitHub ${method} ${route}`,
      { "http.request.method": method, "url.template": route, "github.route": route },
      async (span) => {
        let response: ResponseLike | undefined;
        try {
          const result = await request(options);
          response = result as ResponseLike;
          return result;
        } catch (error) {
          response = errorResponse(error);
          throw error;
        } finally {
          const status = response?.status;
          if (typeof status === "number") span.setAttribute("http.response.status_code", status);
          metrics.githubRequests.inc({ method, status: statusClass(status) });
          recordRateLimit(metrics, response?.headers);
        }
      },
      { kind: SpanKind.CLIENT },
    );
  });
  return octokit;
}

/**
 * The same instrumentation as an Octokit plugin, for `Octokit.plugin(...)` / Probot's `Octokit` option,
 * so every client (app and installation) is covered.
 */
export function octokitInstrumentation(deps: { metrics: Metrics }) {
  return (octokit: HookableOctokit): Record<string, never> => {
    instrumentOctokit(octokit, deps);
    return {};
  };
}

function errorResponse(error: unknown): ResponseLike | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as { status?: unknown; response?: { status?: unknown; headers?: unknown } };
  const status = typeof e.status === "number" ? e.status : typeof e.response?.status === "number" ? e.response.status : undefined;
  const headers = e.response?.headers && typeof e.response.headers === "object" ? (e.response.headers as ResponseLike["headers"]) : undefined;
  return { ...(status === undefined ? {} : { status }), ...(headers ? { headers } : {}) };
}

function recordRateLimit(metrics: Metrics, headers: ResponseLike["headers"]): void {
  const remaining = headers?.["x-ratelimit-remaining"];
  if (remaining === undefined) return;
  const value = Number(remaining);
  if (!Number.isFinite(value)) return;
  const resource = String(headers?.["x-ratelimit-resource"] ?? "core").replace(/[^a-z0-9_]/gi, "").slice(0, 40) || "core";
  metrics.githubRateLimitRemaining.set({ resource }, value);
}
