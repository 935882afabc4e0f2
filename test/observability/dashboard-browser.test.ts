/**
 * The dashboard in a real headless Chromium: the page loads, takes the token from the URL once,
 * lists runs made by the test, opens a run's detail, renders hostile text inertly, and screenshots
 * are saved under test-results/ for a human to look at.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createDashboardHandler } from "../../src/observability/dashboard-handler.ts";
import { seedRun } from "./seed-runs.ts";
import { service, skipNote, skips } from "../helpers/services.ts";

const TOKEN = "browser-test-token-5f2c9a";
const HOSTILE = `<img src=x onerror="window.__pwned=1">`;
let server: Server;
let browser: Browser;
let base = "";
const chromiumBinary = service("chromium");

beforeAll(async () => {
  if (skips(chromiumBinary)) return;
  const store = createMemoryRunStore();
  const t0 = Date.now() - 3_600_000;
  await seedRun(store, { id: "run-7f3a", owner: "acme", name: "widgets", status: "succeeded", createdAt: t0, durationMs: 184_000, checkRunId: 9001, pullRequestNumber: 43 });
  await seedRun(store, {
    id: "run-8b1c",
    owner: "acme",
    name: "payments-api",
    workflow: "code-review",
    status: "failed",
    createdAt: t0 + 600_000,
    durationMs: 95_000,
    isPullRequest: true,
    number: 128,
    checkRunId: 9002,
    error: `review step failed: ${HOSTILE}`,
    stepError: `provider answered 503 ${HOSTILE}`,
  });
  await seedRun(store, { id: "run-9d2e", owner: "acme", name: "docs", workflow: "bug-fix", status: "running", createdAt: Date.now() - 40_000 });
  const handler = createDashboardHandler({
    store,
    metrics: createMetrics({ defaults: false }),
    token: TOKEN,
    breakerStates: () => ({ openai: "closed", anthropic: "half_open" }),
  });
  server = createServer(async (req, res) => {
    if (!(await handler(req, res))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: chromiumBinary.value ?? "chromium", // missing but required (OCTOFLOW_REQUIRE_SERVICES): fails here
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  mkdirSync("test-results", { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
});

describe.skipIf(skips(chromiumBinary))(`dashboard in Chromium${skipNote(chromiumBinary)}`, () => {
  it("lists the runs, opens a run's detail and renders hostile text as text", async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });

    await page.goto(`${base}/dashboard?token=${TOKEN}`);
    await page.locator("#runs tr.run").nth(2).waitFor();
    expect(new URL(page.url()).search).toBe(""); // the token left the address bar
    const rows = await page.locator("#runs tr.run").allInnerTexts();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain("acme/docs");
    expect(rows[1]).toContain("acme/payments-api");
    expect(rows[1]).toContain("code-review");
    expect(rows[1]).toContain("failed");
    expect(rows[2]).toContain("acme/widgets");
    expect(rows[2]).toContain("3m 4s");
    expect(await page.locator("#summary").innerText()).toContain("50.0%");
    expect(await page.locator("#summary").innerText()).toContain("half-open");
    const prLink = page.locator('#runs tr[data-run-id="run-8b1c"] a', { hasText: "PR #128" });
    expect(await prLink.getAttribute("href")).toBe("https://github.com/acme/payments-api/pull/128");
    expect(await page.locator('#runs a[href="https://github.com/acme/widgets/runs/9001"]').count()).toBe(1);
    expect(await page.locator("img").count()).toBe(0);
    await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });

    await page.selectOption("#filter-status", "failed");
    await page.locator("#runs tr.run").first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#runs tr.run").length === 1);
    expect(await page.locator("#runs tr.run").first().getAttribute("data-run-id")).toBe("run-8b1c");

    await page.locator('#runs tr[data-run-id="run-8b1c"] td').first().click();
    await page.locator("#steps tbody tr").nth(1).waitFor();
    const detail = await page.locator("#view").innerText();
    expect(detail).toContain("Review change");
    expect(detail).toContain(`provider answered 503 ${HOSTILE}`); // shown literally
    expect(await page.locator("#events tr").count()).toBe(4);
    expect(await page.locator(".timeline .bar").count()).toBe(2);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: "test-results/dashboard-run.png", fullPage: true });

    // reload: the token kept in sessionStorage still works without ?token=
    await page.reload();
    await page.locator("#steps tbody tr").first().waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });

  it("asks for the token when none is stored and rejects a wrong one", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/dashboard`);
    await page.locator("#login").waitFor({ state: "visible" });
    await page.fill("#token", "wrong-token");
    await page.click("#login-form button");
    await page.locator("#login-error", { hasText: "not accepted" }).waitFor();
    await page.fill("#token", TOKEN);
    await page.click("#login-form button");
    await page.locator("#runs tr.run").first().waitFor();
    expect(await page.locator("#runs tr.run").count()).toBe(3);
    await page.close();
  });
});
