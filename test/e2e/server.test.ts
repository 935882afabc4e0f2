/**
 * The real start-up path (`node src/main.ts`, what `npm start` runs): setup flow without
 * credentials, signed webhooks with credentials, operational endpoints, readable start-up errors.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runApp, spawnApp, type SpawnedApp } from "../helpers/spawn-app.ts";
import { parsePrometheusText } from "../observability/prometheus-text.ts";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const SECRET = "test-webhook-secret";

describe("npm start without credentials", () => {
  let app: SpawnedApp;
  beforeAll(async () => {
    app = await spawnApp({}, { readyPath: "/" });
  });
  afterAll(() => app?.stop());

  it("serves Probot's setup flow built from app.yml", async () => {
    const root = await fetch(`${app.baseUrl}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/probot");
    const page = await fetch(`${app.baseUrl}/probot`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Register GitHub App");
    // the manifest posted to GitHub carries app.yml's events and permissions
    expect(html).toContain("issue_comment");
    expect(html).toContain("pull_requests");
  });

  it("warns that no webhook proxy is set, saying what to do", () => {
    const warning = app.output().split("\n").find((line) => line.includes("no webhook proxy"));
    expect(warning).toContain("https://smee.io/new");
    expect(warning).toContain("/api/github/webhooks");
  });
});

describe("npm start with credentials", () => {
  let app: SpawnedApp;
  const dataDir = mkdtempSync(join(tmpdir(), "octoflow-start-"));
  beforeAll(async () => {
    app = await spawnApp({
      APP_ID: "4242",
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET: SECRET,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      DATABASE_URL: `sqlite:${join(dataDir, "octoflow.db")}`,
      OPENAI_API_KEY: "sk-test-not-used",
    });
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1, hook: { type: "App", id: 1, events: [] } });

  async function deliver(body: string, signature: string) {
    return fetch(`${app.baseUrl}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": signature,
      },
      body,
    });
  }

  it("answers a signed webhook with 2xx", async () => {
    const res = await deliver(ping, await sign(SECRET, ping));
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
  });

  it("answers a wrongly signed webhook with 400", async () => {
    const res = await deliver(ping, await sign("not-the-secret", ping));
    expect(res.status).toBe(400);
  });

  it("serves /healthz, /readyz and /metrics", async () => {
    const health = await fetch(`${app.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });

    const ready = await fetch(`${app.baseUrl}/readyz`);
    const report = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(["ok", "unavailable"]).toContain(report.status);
    expect(ready.status).toBe(report.status === "ok" ? 200 : 503);
    expect(Object.keys(report.checks).sort()).toEqual(["alerts", "providers", "queue", "store"]);

    const metrics = await fetch(`${app.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const families = parsePrometheusText(await metrics.text());
    expect(families.get("process_cpu_user_seconds_total")?.type).toBe("counter");
    const webhooks = families.get("octoflow_webhooks_received_total");
    expect(webhooks?.type).toBe("counter");
    expect(webhooks?.samples.some((s) => s.labels.event === "ping" && s.value >= 1)).toBe(true);
  });

  it("says in one line where webhooks are expected", () => {
    const lines = app.output().split("\n").filter((line) => line.includes("webhooks:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`expected at ${app.baseUrl}/api/github/webhooks`);
    expect(lines[0]).toContain("WEBHOOK_PROXY_URL");
  });

  it("keeps the webhook secret and private key out of its logs", () => {
    const out = app.output();
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(PEM.split("\n")[1]);
  });
});

describe("npm start behind a webhook proxy (WEBHOOK_PROXY_URL, as smee.io)", () => {
  // a local stand-in for a smee.io channel: an event stream that relays deliveries as smee does
  let channel: Server;
  let channelUrl = "";
  const listeners = new Set<ServerResponse>();
  let connected: () => void = () => undefined;
  const firstConnection = new Promise<void>((resolve) => (connected = resolve));
  let app: SpawnedApp;
  const dataDir = mkdtempSync(join(tmpdir(), "octoflow-proxy-"));

  beforeAll(async () => {
    channel = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write("event: ready\ndata: {}\n\n");
      listeners.add(res);
      req.on("close", () => listeners.delete(res));
      connected();
    });
    await new Promise<void>((resolve) => channel.listen(0, "127.0.0.1", resolve));
    channelUrl = `http://127.0.0.1:${(channel.address() as AddressInfo).port}/channel-4f9a2c`;
    app = await spawnApp({
      APP_ID: "4242",
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: "info",
      DATABASE_URL: `sqlite:${join(dataDir, "octoflow.db")}`,
      OPENAI_API_KEY: "sk-test-not-used",
      WEBHOOK_PROXY_URL: channelUrl,
    });
  });
  afterAll(async () => {
    await app?.stop();
    for (const res of listeners) res.destroy();
    await new Promise((resolve) => channel?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("receives a delivery relayed through the channel and names the channel's host, not its path", async () => {
    await firstConnection;
    const body = { zen: "Relayed.", hook_id: 2, hook: { type: "App", id: 2, events: [] } };
    const signature = await sign(SECRET, JSON.stringify(body));
    const event = { "x-github-event": "ping", "x-github-delivery": crypto.randomUUID(), "x-hub-signature-256": signature, body };
    for (const res of listeners) res.write(`data: ${JSON.stringify(event)}\n\n`);

    let received = 0;
    for (const deadline = Date.now() + 20_000; received < 1 && Date.now() < deadline; ) {
      const families = parsePrometheusText(await (await fetch(`${app.baseUrl}/metrics`)).text());
      received = families.get("octoflow_webhooks_received_total")?.samples.find((s) => s.labels.event === "ping" && s.labels.outcome === "received")?.value ?? 0;
      if (received < 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(received).toBe(1);

    const lines = app.output().split("\n").filter((line) => line.includes("webhooks:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`GitHub → http://127.0.0.1:${(channel.address() as AddressInfo).port}/… (WEBHOOK_PROXY_URL) → ${app.baseUrl}/api/github/webhooks`);
    expect(lines[0]).not.toContain("channel-4f9a2c");
  });
});

describe("start-up with bad configuration", () => {
  it("PORT=abc fails with a readable line and exit code 1", async () => {
    const { code, stderr } = await runApp({ PORT: "abc" });
    expect(code).toBe(1);
    expect(stderr).toContain("PORT: must be a whole number between 1 and 65535");
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("a malformed PRIVATE_KEY fails without echoing it", async () => {
    const { code, stderr } = await runApp({ APP_ID: "1", PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnotakeyXYZ123\n-----END RSA PRIVATE KEY-----" });
    expect(code).toBe(1);
    expect(stderr).toContain("PRIVATE_KEY: is not a valid PEM private key");
    expect(stderr).not.toContain("notakeyXYZ123");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
