import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createDashboardHandler } from "../../src/observability/dashboard-handler.ts";
import type { GraphLayout } from "../../src/observability/run-graph-layout.ts";
import type { TimelineView } from "../../src/observability/run-timeline.ts";
import { asRunId, asStepId } from "../../src/workflows/types.ts";
import { seedFeatureRun } from "./seed-runs.ts";

const TOKEN = "run-api-token-0a1b2c3d";
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe("GET /api/runs/:id for the run page", () => {
  it("returns the graph layout, the attempt timeline, the comment link and a bounded event list", async () => {
    const store = createMemoryRunStore();
    await seedFeatureRun(store, { id: "f1", createdAt: T0 });
    // a long run: many progress events after the attempts
    for (let i = 0; i < 700; i++) await store.appendEvent({ type: "step.progress", runId: asRunId("f1"), stepId: asStepId("docs"), at: T0 + 290_000 + i, tokens: i, tail: "" });
    const handler = createDashboardHandler({ store, metrics: createMetrics({ defaults: false }), token: TOKEN, clock: { now: () => T0 + 3_600_000 } });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/runs/f1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { run: { links: Record<string, string> }; graph: GraphLayout; timeline: TimelineView; events: unknown[] };
    expect(body.graph.nodes.map((n) => n.id)).toEqual(["analyse", "generate", "review", "tests", "docs", "finalise"]);
    expect(body.graph.edges).toHaveLength(7);
    expect(body.timeline.attempts.filter((a) => a.stepId === "generate").map((a) => a.outcome)).toEqual(["retried", "succeeded"]);
    expect(body.timeline.queuedMs).toBe(1200);
    expect(body.run.links.comment).toBe("https://github.com/acme/widgets/issues/42#issuecomment-2718281828");
    expect(body.events).toHaveLength(500);
  });
});
