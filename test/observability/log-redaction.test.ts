/**
 * The dashboard token travels in a query string once (`/dashboard?token=…`) and in an
 * Authorization header afterwards; neither may reach Probot's HTTP access log. The access log is one
 * short line per request, at debug for health probes and metrics scrapes.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Probot, Server } from "probot";
import { createLogger, scrubSecrets } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createDashboardHandler } from "../../src/observability/dashboard-handler.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";

const TOKEN = "dashtoken-7c1f0e9a2b4d";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Probot's Server cannot listen on port 0 (it turns 0 into 3000), so take a free port and try again
 * when another process grabbed it between the probe and the listen.
 */
async function startOnFreePort(build: (port: number) => Server): Promise<{ server: Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = build(port);
    try {
      await server.start();
      return { server, port };
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EADDRINUSE" || attempt >= 5) throw error;
    }
  }
}

describe("secrets in URLs", () => {
  it("scrubs query-string secrets from free text", () => {
    expect(scrubSecrets("GET /dashboard?token=abc123&x=1")).toBe("GET /dashboard?token=[REDACTED]&x=1");
    expect(scrubSecrets("/probot/setup?code=0123456789abcdef")).toBe("/probot/setup?code=[REDACTED]");
    expect(scrubSecrets("/api/runs?limit=5&status=failed")).toBe("/api/runs?limit=5&status=failed");
    // provider keys passed as query parameters (Gemini-style gateways, some OpenAI-compatible proxies)
    expect(scrubSecrets("POST /v1/chat?api_key=abc123&x=1 and ?key=AIzaSyA1234567890abcdefghijklmnopqrstuv")).toBe("POST /v1/chat?api_key=[REDACTED]&x=1 and ?key=[REDACTED]");
    expect(scrubSecrets("failed with AIzaSyA1234567890abcdefghijklmnopqrstuv")).toBe("failed with [REDACTED]");
  });

  it("keeps the dashboard token out of Probot's access log", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    });
    const log = createLogger({ level: "info", destination });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const { server, port } = await startOnFreePort((port) => {
      const candidate = new Server({ host: "127.0.0.1", port, log, Probot: Probot.defaults({ appId: 1, privateKey, secret: "s", log }) });
      candidate.addHandler(createDashboardHandler({ store: createMemoryRunStore(), metrics: createMetrics({ defaults: false }), token: TOKEN }));
      return candidate;
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/dashboard?token=${TOKEN}`)).status).toBe(200);
      expect((await fetch(`${base}/api/runs?limit=5`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await server.stop();
    }
    const access = lines.filter((l) => l.includes("/dashboard") || l.includes("/api/runs"));
    expect(access.length).toBeGreaterThanOrEqual(2);
    expect(access.join("\n")).toContain("/dashboard?token=[REDACTED]");
    for (const line of lines) {
      expect(line).not.toContain(TOKEN);
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });
});

describe("Probot's access log", () => {
  async function serve(level: string, requests: (base: string) => Promise<void>): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    });
    const log = createLogger({ level, destination });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const { server, port } = await startOnFreePort((port) => {
      const candidate = new Server({ host: "127.0.0.1", port, log, Probot: Probot.defaults({ appId: 1, privateKey, secret: "s", log }) });
      candidate.addHandler((req, res) => {
        if (!/^\/(healthz|metrics)/.test(req.url ?? "")) return false;
        res.writeHead(200).end("ok");
        return true;
      });
      return candidate;
    });
    try {
      await requests(`http://127.0.0.1:${port}`);
    } finally {
      await server.stop();
    }
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.name === "http");
  }

  const traffic = async (base: string) => {
    await (await fetch(`${base}/healthz`)).text();
    await (await fetch(`${base}/metrics`)).text();
    const body = JSON.stringify({ zen: "hi" });
    const delivery = await fetch(`${base}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "d-42", "x-hub-signature": "sha1=0123456789abcdef", "x-hub-signature-256": "sha256=00" },
      body,
    });
    await delivery.text();
  };

  it("writes one short line per request, without the request and response objects, and no probe line at info", async () => {
    const lines = await serve("info", traffic);
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^POST \/api\/github\/webhooks 400 - \d+ms$/)]);
    const [webhook] = lines;
    expect(webhook).toMatchObject({ reqId: "d-42", event: "ping", statusCode: 400 });
    expect(webhook).not.toHaveProperty("req");
    expect(webhook).not.toHaveProperty("res");
    expect(JSON.stringify(lines)).not.toContain("0123456789abcdef");
  });

  it("logs health probes and metrics scrapes at debug", async () => {
    const lines = await serve("debug", traffic);
    const probes = lines.filter((l) => /^GET \/(healthz|metrics) 200/.test(String(l.msg)));
    expect(probes).toHaveLength(2);
    for (const probe of probes) expect(probe.level).toBe(20);
  });

  it("redacts the sha1 webhook signature like the sha256 one", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    });
    createLogger({ level: "info", destination }).info({ req: { headers: { "x-hub-signature": "sha1=abc123", "x-hub-signature-256": "sha256=def456" } } }, "delivery");
    expect(lines.join("")).not.toContain("abc123");
    expect(lines.join("")).not.toContain("def456");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ req: { headers: { "x-hub-signature": "[REDACTED]", "x-hub-signature-256": "[REDACTED]" } } });
  });
});
