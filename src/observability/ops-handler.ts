/**
 * Operational HTTP endpoints served on Probot's own server through `addHandler`:
 * `GET /healthz` (liveness), `GET /readyz` (readiness with JSON detail), `GET /metrics` (Prometheus text).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Health } from "./health.ts";
import type { Metrics } from "./metrics.ts";

export function createOpsHandler(deps: { health: Health; metrics: Metrics; beforeScrape?: () => Promise<void> }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      sendJson(res, 200, { status: "ok", uptimeSeconds: Math.round(process.uptime()) });
      return true;
    }
    if (path === "/readyz") {
      const report = await deps.health.readiness();
      sendJson(res, report.status === "ok" ? 200 : 503, report);
      return true;
    }
    if (path === "/metrics") {
      try {
        await deps.beforeScrape?.();
      } catch {
        // a failing gauge refresh must not break the scrape
      }
      const body = await deps.metrics.registry.metrics();
      res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
      res.end(body);
      return true;
    }
    return false;
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}
