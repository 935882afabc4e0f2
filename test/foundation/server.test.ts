/**
 * The real start-up path (`node src/main.ts`, what `npm start` runs): setup flow without
 * credentials, signed webhooks with credentials, operational endpoints, readable start-up errors.
 */
import { generateKeyPairSync } from "node:crypto";
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

  it("keeps the webhook secret and private key out of its logs", () => {
    const out = app.output();
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(PEM.split("\n")[1]);
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
