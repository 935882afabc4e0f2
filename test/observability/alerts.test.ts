import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics, type BreakerStates } from "../../src/observability/metrics.ts";
import { createHealth } from "../../src/observability/health.ts";
import { createOpsHandler } from "../../src/observability/ops-handler.ts";
import { createAlertEvaluator } from "../../src/observability/alerts.ts";
import { registerReadinessChecks } from "../../src/observability/readiness-checks.ts";
import { histogramQuantile } from "../../src/observability/histogram-quantile.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Slack-compatible receiver that records every JSON body it gets. */
async function alertReceiver(status = 200) {
  const posts: { text: string; blocks?: unknown[] }[] = [];
  const url = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        posts.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text: string });
        res.writeHead(status, { "content-type": "text/plain" });
        res.end("ok");
      });
    }),
  );
  return { url: `${url}/services/T000/B000/XXXX`, posts };
}

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ destination, level: "info" }), lines };
}

const manualClock = () => createFakeClock({ mode: "manual", start: Date.UTC(2026, 0, 1) });

describe("alert evaluator", () => {
  it("flips /readyz detail, logs once and posts once when a breaker opens, then one resolved message", async () => {
    const metrics = createMetrics({ defaults: false });
    const health = createHealth();
    const { log, lines } = capturingLog();
    const receiver = await alertReceiver();
    const breakers: BreakerStates = { openai: "closed", anthropic: "closed" };
    const clock = manualClock();
    const alerts = createAlertEvaluator({
      metrics,
      log,
      clock,
      webhookUrl: receiver.url,
      instance: "replica-1",
      sources: { breakerStates: () => ({ ...breakers }), queueStats: async () => ({ depth: 0, oldestAgeMs: 0 }) },
    });
    registerReadinessChecks(health, { breakerStates: () => ({ ...breakers }), alerts });
    const base = await listen(createServer((req, res) => void createOpsHandler({ health, metrics })(req, res)));
    const readyz = async () => {
      const res = await fetch(`${base}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: { firing?: { alert: string }[] } }> } };
    };

    await alerts.evaluate();
    expect((await readyz()).body.checks.alerts?.detail?.firing).toEqual([]);

    breakers.openai = "open";
    await alerts.evaluate();
    await clock.advance(15_000);
    await alerts.evaluate(); // still open: no second log line or post

    const open = await readyz();
    expect(open.status).toBe(200); // anthropic still serves
    expect(open.body.checks.alerts?.detail?.firing?.map((f) => f.alert)).toEqual(["circuit_breaker_open"]);
    expect(open.body.checks.providers).toMatchObject({ ok: true, detail: { openai: "open", anthropic: "closed" } });
    const alertLines = lines.filter((l) => l.alert === "circuit_breaker_open");
    expect(alertLines).toHaveLength(1);
    expect(alertLines[0]).toMatchObject({ alert: "circuit_breaker_open", state: "firing", value: 1, threshold: 1, level: 40 });
    expect(receiver.posts).toHaveLength(1);
    expect(receiver.posts[0]?.text).toBe("[FIRING] Octoflow circuit_breaker_open: circuit breaker open for openai");
    expect(JSON.stringify(receiver.posts[0]?.blocks)).toContain("replica-1");
    expect(await metrics.alertsFiring.get()).toMatchObject({
      values: expect.arrayContaining([expect.objectContaining({ labels: { alert: "circuit_breaker_open" }, value: 1 })]),
    });

    breakers.anthropic = "open";
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("unavailable");
    expect(down.body.checks.providers?.ok).toBe(false);

    breakers.openai = "closed";
    breakers.anthropic = "closed";
    await clock.advance(15_000);
    await alerts.evaluate();
    await alerts.evaluate();
    expect(receiver.posts).toHaveLength(2);
    expect(receiver.posts[1]?.text).toBe("[RESOLVED] Octoflow circuit_breaker_open: all circuit breakers closed");
    expect(lines.filter((l) => l.alert === "circuit_breaker_open").map((l) => l.state)).toEqual(["firing", "resolved"]);
    const after = await readyz();
    expect(after.status).toBe(200);
    expect(after.body.checks.alerts?.detail?.firing).toEqual([]);
    expect((await metrics.alertsFiring.get()).values.find((v) => v.labels.alert === "circuit_breaker_open")?.value).toBe(0);
  });

  it("rate-limits posts per alert and sends no resolved message for a suppressed episode", async () => {
    const metrics = createMetrics({ defaults: false });
    const { log } = capturingLog();
    const receiver = await alertReceiver();
    const clock = manualClock();
    const breakers: BreakerStates = { openai: "closed" };
    const alerts = createAlertEvaluator({
      metrics,
      log,
      clock,
      webhookUrl: receiver.url,
      notifyIntervalMs: 10 * 60_000,
      sources: { breakerStates: () => breakers },
    });
    const flap = async (state: "open" | "closed") => {
      breakers.openai = state;
      await clock.advance(60_000);
      await alerts.evaluate();
    };
    await flap("open"); // posted
    await flap("closed"); // resolved posted
    await flap("open"); // within 10 min: suppressed
    await flap("closed"); // nothing: its firing was never announced
    expect(receiver.posts.map((p) => p.text.split(" ")[0])).toEqual(["[FIRING]", "[RESOLVED]"]);
    await clock.advance(10 * 60_000);
    await flap("open"); // interval passed: posted again
    expect(receiver.posts.map((p) => p.text.split(" ")[0])).toEqual(["[FIRING]", "[RESOLVED]", "[FIRING]"]);
  });

  it("judges run and agent error rates over the window only", async () => {
    const metrics = createMetrics({ defaults: false });
    const { log, lines } = capturingLog();
    const clock = manualClock();
    const alerts = createAlertEvaluator({ metrics, log, clock, thresholds: { windowSeconds: 600, minEvents: 5, runErrorRate: 0.25 } });
    const firing = () => alerts.firing().map((a) => a.alert).sort();

    metrics.runs.inc({ workflow: "bug-fix", conclusion: "failed" }, 2);
    metrics.runs.inc({ workflow: "bug-fix", conclusion: "succeeded" }, 2);
    await alerts.evaluate();
    expect(firing()).toEqual([]); // 4 runs: below minEvents

    metrics.runs.inc({ workflow: "code-review", conclusion: "succeeded" }, 1);
    metrics.agentRequests.inc({ provider: "openai", outcome: "error" }, 3);
    metrics.agentRequests.inc({ provider: "openai", outcome: "success" }, 2);
    metrics.agentRequests.inc({ provider: "openai", outcome: "cancelled" }, 1); // the user's choice, not an error
    await clock.advance(60_000);
    const states = await alerts.evaluate();
    expect(firing()).toEqual(["agent_error_rate", "run_error_rate"]);
    expect(states.find((s) => s.alert === "run_error_rate")?.value).toBeCloseTo(0.4);
    expect(states.find((s) => s.alert === "agent_error_rate")?.value).toBeCloseTo(0.5);

    // eleven minutes later, twenty successful runs and no agent failures inside the window
    await clock.advance(11 * 60_000);
    await alerts.evaluate();
    metrics.runs.inc({ workflow: "bug-fix", conclusion: "succeeded" }, 20);
    metrics.agentRequests.inc({ provider: "openai", outcome: "success" }, 10);
    await clock.advance(60_000);
    const later = await alerts.evaluate();
    expect(firing()).toEqual([]);
    expect(later.find((s) => s.alert === "run_error_rate")?.value).toBe(0);
    expect(lines.filter((l) => l.state === "resolved").map((l) => l.alert).sort()).toEqual(["agent_error_rate", "run_error_rate"]);
  });

  it("fires on p95 step latency and on queue backlog age", async () => {
    const metrics = createMetrics({ defaults: false });
    const { log } = capturingLog();
    const clock = manualClock();
    let oldestAgeMs = 10_000;
    const alerts = createAlertEvaluator({
      metrics,
      log,
      clock,
      thresholds: { stepLatencyP95Seconds: 60, queueBacklogAgeSeconds: 300 },
      sources: { queueStats: async () => ({ depth: 3, oldestAgeMs }) },
    });
    for (let i = 0; i < 18; i++) metrics.stepDuration.observe({ role: "review", outcome: "succeeded" }, 4);
    metrics.stepDuration.observe({ role: "generate", outcome: "succeeded" }, 200);
    metrics.stepDuration.observe({ role: "generate", outcome: "succeeded" }, 250);
    oldestAgeMs = 301_000;
    const states = await alerts.evaluate();
    const p95 = states.find((s) => s.alert === "step_latency_p95");
    expect(p95?.firing).toBe(true);
    expect(p95?.value).toBeGreaterThan(60);
    expect(states.find((s) => s.alert === "queue_backlog_age")).toMatchObject({ firing: true, value: 301 });
  });

  it("keeps evaluating when a source throws", async () => {
    const metrics = createMetrics({ defaults: false });
    const { log, lines } = capturingLog();
    const alerts = createAlertEvaluator({
      metrics,
      log,
      sources: { breakerStates: () => Promise.reject(new Error("resilience not ready")) },
    });
    const states = await alerts.evaluate();
    expect(states.map((s) => s.alert)).not.toContain("circuit_breaker_open");
    expect(lines.some((l) => l.msg === "breaker states unavailable for alert evaluation")).toBe(true);
  });
});

describe("histogramQuantile", () => {
  it("interpolates like PromQL", () => {
    const buckets = [
      { le: 1, count: 90 },
      { le: 5, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(3);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.5556, 3);
    expect(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(histogramQuantile(0.95, [])).toBeUndefined();
  });
});
