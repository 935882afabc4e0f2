import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type BreakerStates, type Metrics } from "../../src/observability/metrics.ts";
import { createHealth } from "../../src/observability/health.ts";
import { createOpsHandler } from "../../src/observability/ops-handler.ts";
import { createScrapeRefresher } from "../../src/observability/scrape-refresher.ts";
import { parsePrometheusText, sampleValue } from "./prometheus-text.ts";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serveOps(metrics: Metrics, beforeScrape?: () => Promise<void>) {
  const handler = createOpsHandler({ health: createHealth(), metrics, ...(beforeScrape ? { beforeScrape } : {}) });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };
}

describe("/metrics", () => {
  it("parses strictly, with every Octoflow family typed and process defaults present", async () => {
    const metrics = createMetrics();
    metrics.webhooks.inc({ event: 'weird "event"\\with\nnewline', outcome: "received" });
    metrics.runs.inc({ workflow: "bug-fix", conclusion: "succeeded" });
    metrics.runDuration.observe({ workflow: "bug-fix", conclusion: "succeeded" }, 42);
    metrics.stepDuration.observe({ role: "generate", outcome: "succeeded" }, 3);
    metrics.stepDuration.observe({ role: "generate", outcome: "succeeded" }, 700);
    metrics.agentRequests.inc({ provider: "openai", outcome: "success" }, 2);
    metrics.tokens.inc({ provider: "openai", kind: "output" }, 1234);
    metrics.costUsd.inc({ provider: "openai" }, 0.0123);
    const scrape = await serveOps(metrics);
    const families = await scrape();

    const expected: Record<string, string> = {
      octoflow_webhooks_received_total: "counter",
      octoflow_runs_total: "counter",
      octoflow_run_duration_seconds: "histogram",
      octoflow_step_duration_seconds: "histogram",
      octoflow_agent_requests_total: "counter",
      octoflow_agent_request_duration_seconds: "histogram",
      octoflow_tokens_total: "counter",
      octoflow_cost_usd_total: "counter",
      octoflow_circuit_breaker_state: "gauge",
      octoflow_queue_depth: "gauge",
      octoflow_queue_oldest_job_age_seconds: "gauge",
      octoflow_github_rate_limit_remaining: "gauge",
      octoflow_alerts_firing: "gauge",
      process_cpu_seconds_total: "counter",
      process_resident_memory_bytes: "gauge",
      nodejs_eventloop_lag_p99_seconds: "gauge",
    };
    for (const [name, type] of Object.entries(expected)) expect(families.get(name)?.type, name).toBe(type);
    expect(sampleValue(families, "octoflow_webhooks_received_total", "octoflow_webhooks_received_total", { event: 'weird "event"\\with\nnewline', outcome: "received" })).toBe(1);
    expect(sampleValue(families, "octoflow_step_duration_seconds", "octoflow_step_duration_seconds_count", { role: "generate", outcome: "succeeded" })).toBe(2);
    expect(sampleValue(families, "octoflow_step_duration_seconds", "octoflow_step_duration_seconds_bucket", { role: "generate", outcome: "succeeded", le: "5" })).toBe(1);
    expect(sampleValue(families, "octoflow_tokens_total", "octoflow_tokens_total", { provider: "openai", kind: "output" })).toBe(1234);
    // no high-cardinality labels anywhere
    for (const family of families.values()) {
      for (const sample of family.samples) {
        for (const label of Object.keys(sample.labels)) expect(["repo", "repository", "run_id", "runId", "step_id", "issue"]).not.toContain(label);
      }
    }
  });

  it("refreshes breaker and queue gauges from their sources on each scrape", async () => {
    const metrics = createMetrics({ defaults: false });
    let breakers: BreakerStates = { openai: "closed", anthropic: "closed" };
    let queue = { depth: 0, oldestAgeMs: 0 };
    const scrape = await serveOps(metrics, createScrapeRefresher({ metrics, breakerStates: () => breakers, queueStats: async () => queue }));

    let families = await scrape();
    expect(sampleValue(families, "octoflow_circuit_breaker_state", "octoflow_circuit_breaker_state", { provider: "openai" })).toBe(0);
    expect(sampleValue(families, "octoflow_queue_depth", "octoflow_queue_depth")).toBe(0);

    breakers = { openai: "open", anthropic: "half_open" };
    queue = { depth: 7, oldestAgeMs: 93_500 };
    families = await scrape();
    expect(sampleValue(families, "octoflow_circuit_breaker_state", "octoflow_circuit_breaker_state", { provider: "openai" })).toBe(2);
    expect(sampleValue(families, "octoflow_circuit_breaker_state", "octoflow_circuit_breaker_state", { provider: "anthropic" })).toBe(1);
    expect(sampleValue(families, "octoflow_queue_depth", "octoflow_queue_depth")).toBe(7);
    expect(sampleValue(families, "octoflow_queue_oldest_job_age_seconds", "octoflow_queue_oldest_job_age_seconds")).toBe(93.5);
  });

  it("still serves, with the sources that answered, when one source fails", async () => {
    const metrics = createMetrics({ defaults: false });
    const refresh = createScrapeRefresher({
      metrics,
      breakerStates: () => ({ openai: "open" }),
      queueStats: () => Promise.reject(new Error("database is down")),
    });
    await expect(refresh()).rejects.toThrow("database is down");
    const families = await (await serveOps(metrics, refresh))();
    expect(sampleValue(families, "octoflow_circuit_breaker_state", "octoflow_circuit_breaker_state", { provider: "openai" })).toBe(2);
  });
});

describe("parsePrometheusText", () => {
  it("rejects what Prometheus would reject", () => {
    const ok = "# HELP a_total A\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
    expect(parsePrometheusText(ok).get("a_total")?.samples[0]?.value).toBe(3);
    expect(() => parsePrometheusText("a_total 3\n")).toThrow(/before any # TYPE/);
    expect(() => parsePrometheusText("# TYPE a_total counter\na_total -1\n")).toThrow(/counter/);
    expect(() => parsePrometheusText("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n")).toThrow(/duplicate label/);
    expect(() => parsePrometheusText("# TYPE a gauge\na{x=1} 1\n")).toThrow(/quoted/);
    expect(() => parsePrometheusText("# TYPE a gauge\na 1\na 2\n")).toThrow(/duplicate series/);
    expect(() => parsePrometheusText("# TYPE a gauge\na one\n")).toThrow(/bad value/);
    expect(() => parsePrometheusText("# TYPE a gauge\na 1")).toThrow(/newline/);
    expect(() => parsePrometheusText("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n")).toThrow(/twice/);
    const badHistogram = '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 4\nh_sum 3\nh_count 4\n';
    expect(() => parsePrometheusText(badHistogram)).toThrow(/cumulative/);
    const countMismatch = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 3\n';
    expect(() => parsePrometheusText(countMismatch)).toThrow(/_count/);
  });
});

describe("/readyz", () => {
  it("names the failing check without echoing a secret from its error (the endpoint is unauthenticated)", async () => {
    const health = createHealth();
    health.register("store", async () => {
      throw new Error("connect ECONNREFUSED postgres://octoflow:s3cr3t-pw@db:5432/octoflow with Bearer abcdefghijklmnop0123");
    });
    health.register("queue", async () => ({ ok: true }));
    const handler = createOpsHandler({ health, metrics: createMetrics({ defaults: false }) });
    const server = createServer((req, res) => void handler(req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).not.toContain("s3cr3t-pw");
    expect(text).not.toContain("abcdefghijklmnop0123");
    const body = JSON.parse(text) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.status).toBe("unavailable");
    expect(body.checks.queue?.ok).toBe(true);
    expect(body.checks.store).toMatchObject({ ok: false, error: expect.stringContaining("ECONNREFUSED postgres://octoflow:[REDACTED]@db:5432") });
  });
});
