/**
 * Regenerates `docs/run-page.png`: the dashboard's run page of a realistic feature-development run
 * (fan-out, a retried step, one failed step, usage and cost), seeded into an in-memory store and
 * opened from the runs list in headless Chromium. Nothing is fetched from the internet.
 *
 *   node test/observability/run-page-screenshot.ts [output.png]
 *
 * Chromium comes from `CHROMIUM_PATH`, else the usual install paths (`test/helpers/services.ts`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createDashboardHandler } from "../../src/observability/dashboard-handler.ts";
import { seedFeatureRun, seedRun } from "./seed-runs.ts";
import { service } from "../helpers/services.ts";

const output = process.argv[2] ?? "docs/run-page.png";
const TOKEN = "screenshot-token";
const RUN_ID = "01JDX4M8Q2-feature";

const chromiumBinary = service("chromium");
if (!chromiumBinary.value) {
  console.error(`run-page-screenshot: ${chromiumBinary.missing}`);
  process.exit(1);
}

const store = createMemoryRunStore();
const now = Date.UTC(2026, 10, 24, 9, 30, 0);
await seedRun(store, { id: "01JDX1-review", owner: "acme", name: "payments-api", workflow: "code-review", status: "succeeded", createdAt: now - 3_000_000, durationMs: 95_000, isPullRequest: true, number: 311, checkRunId: 8801 });
await seedRun(store, { id: "01JDX2-bugfix", owner: "acme", name: "widgets", workflow: "bug-fix", status: "succeeded", createdAt: now - 1_800_000, durationMs: 142_000, number: 40, checkRunId: 8802, pullRequestNumber: 55 });
await seedFeatureRun(store, { id: RUN_ID, createdAt: now - 600_000 });

const handler = createDashboardHandler({ store, metrics: createMetrics({ defaults: false }), token: TOKEN, clock: { now: () => now }, breakerStates: () => ({ anthropic: "closed", openai: "closed" }) });
const server = createServer((req, res) => {
  void handler(req, res).then((handled) => {
    if (!handled) {
      res.writeHead(404);
      res.end();
    }
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({
  executablePath: chromiumBinary.value,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--font-render-hinting=none"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, timezoneId: "UTC", locale: "en-US" });
  await page.goto(`${base}/dashboard?token=${TOKEN}`);
  await page.locator(`#runs tr[data-run-id="${RUN_ID}"] a.open-run`).click();
  await page.locator("#graph g.node").first().waitFor();
  await page.locator("#status").evaluate((n) => (n.textContent = ""));
  // the header, failure, graph and timeline; the steps table and events continue below
  const bottom = await page.locator("#timeline").evaluate((n) => n.getBoundingClientRect().bottom + window.scrollY + 16);
  await page.screenshot({ path: output, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) } });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  server.close();
}
