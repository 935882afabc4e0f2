import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createHealth } from "../../src/observability/health.ts";
import { createMetrics, type BreakerStates } from "../../src/observability/metrics.ts";
import { setupOperations, type Handler } from "../../src/observability/setup-operations.ts";
import { parsePrometheusText, sampleValue } from "./prometheus-text.ts";
import { seedRun } from "./seed-runs.ts";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handlers: Handler[]): Promise<string> {
  const server = createServer(async (req, res) => {
    for (const handler of handlers) if (await handler(req, res)) return;
    res.writeHead(404);
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("setupOperations", () => {
  it("wires readiness, metrics refresh, the dashboard and alert posts from the runtime's parts", async () => {
    const posts: { text: string }[] = [];
    const receiver = await serve([
      async (req, res) => {
        let body = "";
        for await (const chunk of req) body += String(chunk);
        posts.push(JSON.parse(body) as { text: string });
        res.writeHead(200);
        res.end("ok");
        return true;
      },
    ]);
    const store = createMemoryRunStore();
    await seedRun(store, { id: "r1", status: "succeeded", createdAt: Date.now() - 60_000, durationMs: 30_000 });
    let running = true;
    let breakers: BreakerStates = { openai: "closed" };
    const closers: (() => Promise<void>)[] = [];
    const operations = setupOperations({
      env: { DASHBOARD_TOKEN: "t0ken-for-dashboard", ALERT_WEBHOOK_URL: `${receiver}/hook`, GHE_PROTOCOL: "https" },
      log: pino({ level: "silent" }),
      metrics: createMetrics({ defaults: false }),
      health: createHealth(),
      closers,
      store,
      queue: { running: () => running, stats: async () => ({ depth: 2, oldestAgeMs: 4000 }) },
      resilience: { breakerStates: () => breakers },
      alertIntervalMs: 0,
    });
    const base = await serve([operations.opsHandler, operations.dashboardHandler]);
    const readyz = async () => {
      const res = await fetch(`${base}/readyz`);
      return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; detail?: unknown }> } };
    };

    let ready = await readyz();
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks).sort()).toEqual(["alerts", "providers", "queue", "store"]);
    expect(ready.body.checks.queue?.detail).toEqual({ running: true, depth: 2, oldestAgeSeconds: 4 });

    const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(families, "octoflow_queue_depth", "octoflow_queue_depth")).toBe(2);
    expect(sampleValue(families, "octoflow_circuit_breaker_state", "octoflow_circuit_breaker_state", { provider: "openai" })).toBe(0);

    const runs = await fetch(`${base}/api/runs`, { headers: { authorization: "Bearer t0ken-for-dashboard" } });
    expect(((await runs.json()) as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual(["r1"]);

    breakers = { openai: "open" };
    await operations.alerts.evaluate();
    ready = await readyz();
    expect(ready.status).toBe(503); // the only provider is unavailable
    expect(ready.body.checks.providers?.ok).toBe(false);
    expect(JSON.stringify(ready.body.checks.alerts?.detail)).toContain("circuit_breaker_open");
    expect(posts.map((p) => p.text)).toEqual(["[FIRING] Octoflow circuit_breaker_open: circuit breaker open for openai"]);

    running = false;
    breakers = { openai: "closed" };
    ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.queue).toMatchObject({ ok: false, detail: { running: false } });
    await Promise.all(closers.map((close) => close()));
  });

  it("alerts on an open breaker from the breaker gauge when no live source is wired", async () => {
    const metrics = createMetrics({ defaults: false });
    const health = createHealth();
    health.register("providers", async () => ({ ok: true, detail: "registered by the runtime" }));
    const operations = setupOperations({
      env: { GHE_PROTOCOL: "https" },
      log: pino({ level: "silent" }),
      metrics,
      health,
      closers: [],
      alertIntervalMs: 0,
    });
    metrics.breakerState.set({ provider: "anthropic" }, 2); // what src/resilience writes on a state change
    await operations.alerts.evaluate();
    expect(operations.alerts.firing().map((a) => a.summary)).toEqual(["circuit breaker open for anthropic"]);
    const report = await health.readiness();
    expect(report.checks.providers?.detail).toBe("registered by the runtime"); // not replaced
    expect(JSON.stringify(report.checks.alerts?.detail)).toContain("circuit_breaker_open");
  });

  it("keeps the dashboard disabled without a store or without a token", async () => {
    const common = { log: pino({ level: "silent" }), metrics: createMetrics({ defaults: false }), health: createHealth(), closers: [], alertIntervalMs: 0 };
    const noStore = setupOperations({ ...common, env: { DASHBOARD_TOKEN: "abc", GHE_PROTOCOL: "https" } });
    const noToken = setupOperations({ ...common, health: createHealth(), env: { GHE_PROTOCOL: "https" }, store: createMemoryRunStore() });
    for (const operations of [noStore, noToken]) {
      const base = await serve([operations.dashboardHandler]);
      expect((await fetch(`${base}/dashboard`)).status).toBe(404);
      expect((await fetch(`${base}/api/runs`, { headers: { authorization: "Bearer abc" } })).status).toBe(404);
    }
  });
});
