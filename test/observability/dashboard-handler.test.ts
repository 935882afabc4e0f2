import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createMetrics, BREAKER_STATE } from "../../src/observability/metrics.ts";
import { createDashboardHandler, type DashboardDeps } from "../../src/observability/dashboard-handler.ts";
import { githubWebUrl } from "../../src/observability/run-view.ts";
import { bearerToken, tokensEqual } from "../../src/observability/request-auth.ts";
import { seedRun } from "./seed-runs.ts";

const TOKEN = "dash-token-0123456789abcdef";
const T0 = Date.UTC(2026, 10, 24, 5, 0, 0);
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(deps: Partial<DashboardDeps> & Pick<DashboardDeps, "token">) {
  const store = deps.store ?? createMemoryRunStore();
  const handler = createDashboardHandler({ metrics: createMetrics({ defaults: false }), clock: { now: () => T0 + 60_000 }, ...deps, store });
  const server = createServer(async (req, res) => {
    if (!(await handler(req, res))) {
      res.writeHead(418);
      res.end("not mine");
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { base, get };
}

describe("dashboard handler", () => {
  it("answers 404 on every dashboard path when DASHBOARD_TOKEN is unset", async () => {
    const { get } = await serve({ token: undefined });
    for (const path of ["/dashboard", "/api/runs", "/api/runs/r1"]) {
      expect((await get(path, "anything")).status).toBe(404);
    }
    expect((await get("/healthz")).status).toBe(418); // other paths are left to the next handler
  });

  it("answers 401 without a token, with a wrong one, or with another scheme", async () => {
    const { base, get } = await serve({ token: TOKEN });
    const none = await get("/api/runs");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="octoflow"');
    expect((await get("/api/runs", `${TOKEN}x`)).status).toBe(401);
    expect((await get("/api/runs/r1", TOKEN.slice(0, -1))).status).toBe(401);
    const basic = await fetch(`${base}/api/runs`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` } });
    expect(basic.status).toBe(401);
    expect((await fetch(`${base}/api/runs?token=${TOKEN}`)).status).toBe(401); // the API never reads the query
    expect((await get("/api/runs", TOKEN)).status).toBe(200);
    expect((await fetch(`${base}/api/runs`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  it("serves the page without data and with a nonce CSP", async () => {
    const { get } = await serve({ token: TOKEN });
    const res = await get("/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toContain(TOKEN);
    const again = await get("/dashboard");
    expect(again.headers.get("content-security-policy")).not.toBe(csp); // fresh nonce per response
  });

  it("lists runs with links, usage and a summary", async () => {
    const store = createMemoryRunStore();
    await seedRun(store, { id: "r-ok", status: "succeeded", createdAt: T0, durationMs: 20_000, checkRunId: 555, pullRequestNumber: 77 });
    await seedRun(store, {
      id: "r-bad",
      status: "failed",
      createdAt: T0 + 1000,
      durationMs: 40_000,
      isPullRequest: true,
      number: 9,
      error: "review failed: Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwx",
    });
    await seedRun(store, { id: "r-live", status: "running", createdAt: T0 + 2000 });
    const { get } = await serve({
      token: TOKEN,
      store,
      githubUrl: githubWebUrl({ GHE_HOST: "github.example.com", GHE_PROTOCOL: "https" }),
      breakerStates: () => ({ openai: "closed", anthropic: "open" }),
    });
    const res = await get("/api/runs", TOKEN);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as {
      runs: { id: string; status: string; durationMs?: number; error?: string; links: Record<string, string>; tokens: { total: number }; costUsd: number }[];
      summary: Record<string, unknown>;
    };
    expect(body.runs.map((r) => r.id)).toEqual(["r-live", "r-bad", "r-ok"]);
    const ok = body.runs.find((r) => r.id === "r-ok");
    expect(ok).toMatchObject({
      repository: "acme/widgets",
      workflow: "feature-development",
      trigger: { kind: "label", actor: "octocat", number: 42, isPullRequest: false },
      status: "succeeded",
      durationMs: 20_000,
      tokens: { input: 1800, output: 1000, cached: 100, total: 2800 },
      costUsd: 0.0163,
      steps: { total: 2, succeeded: 2, failed: 0, running: 0 },
      links: {
        issue: "https://github.example.com/acme/widgets/issues/42",
        checkRun: "https://github.example.com/acme/widgets/runs/555",
        pullRequest: "https://github.example.com/acme/widgets/pull/77",
      },
    });
    const bad = body.runs.find((r) => r.id === "r-bad");
    expect(bad?.links.issue).toBe("https://github.example.com/acme/widgets/pull/9");
    expect(bad?.error).toContain("review failed");
    expect(bad?.error).not.toContain("sk-proj-abcdefghijklmnopqrstuvwx");
    expect(body.runs.find((r) => r.id === "r-live")?.durationMs).toBe(60_000 - 2500); // running: measured to now
    expect(body.summary).toMatchObject({
      runs: 3,
      finished: 2,
      successRate: 0.5,
      p95RunSeconds: 40,
      tokens: 2800 + 2000 + 2000, // the failed review and the running step produced no output
      breakers: { openai: "closed", anthropic: "open" },
      p95AgentSeconds: null,
    });

    const failedOnly = (await (await get("/api/runs?status=failed&limit=5", TOKEN)).json()) as { runs: { id: string }[] };
    expect(failedOnly.runs.map((r) => r.id)).toEqual(["r-bad"]);
    const limited = (await (await get("/api/runs?limit=1", TOKEN)).json()) as { runs: unknown[] };
    expect(limited.runs).toHaveLength(1);
  });

  it("returns a run's steps and events, and 404 for an unknown run", async () => {
    const store = createMemoryRunStore();
    await seedRun(store, { id: "r-bad", status: "failed", createdAt: T0, durationMs: 10_000, stepError: "timed out after 60 s" });
    const { get } = await serve({ token: TOKEN, store });
    const detail = (await (await get("/api/runs/r-bad", TOKEN)).json()) as {
      run: { id: string };
      steps: { id: string; name: string; role: string; needs: string[]; status: string; durationMs?: number; tokens: number; error?: string }[];
      events: { type: string; at: string; output?: unknown; tokens?: number }[];
    };
    expect(detail.run.id).toBe("r-bad");
    expect(detail.steps).toEqual([
      expect.objectContaining({ id: "generate", name: "Generate change", role: "generate", needs: [], status: "succeeded", durationMs: 7000, tokens: 2000 }),
      expect.objectContaining({ id: "review", name: "Review change", needs: ["generate"], status: "failed", error: "timed out after 60 s" }),
    ]);
    expect(detail.events.map((e) => e.type)).toEqual(["run.started", "step.started", "step.finished", "run.finished"]);
    const finished = detail.events.find((e) => e.type === "step.finished");
    expect(finished).not.toHaveProperty("output");
    expect(finished?.tokens).toBe(2000);
    expect(detail.events[0]?.at).toBe(new Date(T0 + 500).toISOString());

    expect((await get("/api/runs/nope", TOKEN)).status).toBe(404);
    // a malformed escape is a client's mistake, not a store outage
    const malformed = await get("/api/runs/%E0%A4%A", TOKEN);
    expect(malformed.status).toBe(404);
    expect(await malformed.json()).toEqual({ error: "run not found" });
  });

  it("reads breaker states from the gauge when no source is given", async () => {
    const metrics = createMetrics({ defaults: false });
    metrics.breakerState.set({ provider: "openai" }, BREAKER_STATE.half_open);
    metrics.agentRequestDuration.observe({ provider: "openai", outcome: "success" }, 2);
    const { get } = await serve({ token: TOKEN, metrics });
    const body = (await (await get("/api/runs", TOKEN)).json()) as { summary: { breakers: unknown; successRate: unknown; p95AgentSeconds: number } };
    expect(body.summary.breakers).toEqual({ openai: "half_open" });
    expect(body.summary.successRate).toBeNull();
    expect(body.summary.p95AgentSeconds).toBeGreaterThan(1);
    expect(body.summary.p95AgentSeconds).toBeLessThanOrEqual(2.5);
  });

  it("answers 500 without details when the store fails", async () => {
    const store = createMemoryRunStore();
    await store.close();
    const { get } = await serve({ token: TOKEN, store });
    const res = await get("/api/runs", TOKEN);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "the run store is unavailable" });
  });
});

describe("request auth", () => {
  it("parses bearer tokens and compares in constant time", () => {
    expect(bearerToken({ headers: { authorization: "Bearer abc" } })).toBe("abc");
    expect(bearerToken({ headers: { authorization: "bearer  abc " } })).toBe("abc");
    expect(bearerToken({ headers: { authorization: "Token abc" } })).toBeUndefined();
    expect(bearerToken({ headers: {} })).toBeUndefined();
    expect(tokensEqual("abc", "abc")).toBe(true);
    expect(tokensEqual("abc", "abd")).toBe(false);
    expect(tokensEqual("abc", "abcd")).toBe(false);
  });
});
