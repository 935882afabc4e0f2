/**
 * The dashboard's run page in a real headless Chromium: opened by clicking a run in the list, it
 * draws the workflow graph (one node per step, one edge per need, coloured by status), the attempt
 * timeline with retries and waits, the failed step's error and the links to GitHub, fetching
 * nothing but the page and its API.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service, skipNote, skips } from "../helpers/services.ts";
import { chromium, type Browser } from "playwright-core";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createDashboardHandler } from "../../src/observability/dashboard-handler.ts";
import type { RunRecord } from "../../src/workflows/types.ts";
import { seedFeatureRun, seedRun } from "./seed-runs.ts";

const TOKEN = "run-page-token-3c9e1b";
let server: Server;
let browser: Browser;
let base = "";
let feature: RunRecord;

const chromiumBinary = service("chromium");

beforeAll(async () => {
  if (skips(chromiumBinary)) return;
  const store = createMemoryRunStore();
  const t0 = Date.now() - 3_600_000;
  await seedRun(store, { id: "run-old", status: "succeeded", createdAt: t0, durationMs: 60_000, checkRunId: 1 });
  feature = await seedFeatureRun(store, { id: "run-feature", createdAt: t0 + 600_000 });
  await seedRun(store, { id: "run-new", owner: "acme", name: "docs", workflow: "bug-fix", status: "running", createdAt: Date.now() - 30_000 });
  await seedRun(store, { id: "run-parked", owner: "acme", name: "docs", workflow: "bug-fix", status: "waiting", createdAt: Date.now() - 60_000 });
  const handler = createDashboardHandler({ store, metrics: createMetrics({ defaults: false }), token: TOKEN });
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
});

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
});

describe.skipIf(skips(chromiumBinary))(`run page in Chromium${skipNote(chromiumBinary)}`, () => {
  it("opens from the list and draws the graph, the attempts, the failed step's error and the links", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(base)) foreign.push(r.url());
    });

    await page.goto(`${base}/dashboard?token=${TOKEN}`);
    await page.locator('#runs tr[data-run-id="run-feature"] a.open-run').click();
    await page.locator("#graph g.node").first().waitFor();
    expect(new URL(page.url()).hash).toBe("#run/run-feature");
    expect(await page.locator("#summary").isVisible()).toBe(false);

    // the graph: exactly one node per planned step, one edge per need, coloured by status
    const nodes = await page.locator("#graph g.node").evaluateAll((els) => els.map((n) => [n.getAttribute("data-step-id"), n.getAttribute("data-status"), n.getAttribute("class")]));
    expect(nodes.map((n) => n[0])).toEqual(feature.plan.steps.map((s) => s.id));
    expect(Object.fromEntries(nodes.map((n) => [n[0], n[1]]))).toEqual({ analyse: "succeeded", generate: "succeeded", review: "succeeded", tests: "failed", docs: "succeeded", finalise: "skipped" });
    for (const [, status, cls] of nodes) expect(cls).toBe(`node s-${status}`);
    const edges = await page.locator("#graph path.edge").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-from")}->${e.getAttribute("data-to")}`));
    const needs = feature.plan.steps.flatMap((s) => s.needs.map((n) => `${n}->${s.id}`));
    expect(edges.sort()).toEqual(needs.sort());
    expect(edges).toHaveLength(7);
    const fill = (id: string) => page.locator(`#graph g.node[data-step-id="${id}"] rect.box`).evaluate((r) => getComputedStyle(r).fill);
    expect(await fill("tests")).not.toBe(await fill("review"));
    expect(await page.locator('#graph g.node[data-step-id="tests"]').textContent()).toContain("Write tests");

    // the failed step's error, above the graph and in the steps table
    const failure = page.locator('.failure[data-step-id="tests"]');
    expect(await failure.innerText()).toContain("Write tests failed after 2 attempts");
    expect(await failure.innerText()).toContain("the search block");
    expect(await page.locator('#steps tr[data-step-id="tests"]').innerText()).toContain("do not apply after 2 attempts");
    expect(await page.locator(".failure").count()).toBe(1);

    // the timeline: attempts with their outcome, back-off waits, the queue wait, the skipped step
    const bars = (id: string) => page.locator(`#timeline .lane[data-step-id="${id}"] .bar.attempt`).evaluateAll((els) => els.map((b) => b.className.replace("bar attempt ", "")));
    expect(await bars("generate")).toEqual(["s-retried", "s-succeeded"]);
    expect(await bars("tests")).toEqual(["s-retried", "s-failed"]);
    expect(await bars("finalise")).toEqual([]);
    expect(await page.locator('#timeline .lane[data-step-id="generate"] .wait').count()).toBe(1);
    expect(await page.locator('#timeline .lane[data-step-id="generate"] .bar.attempt').first().getAttribute("title")).toContain("429 Too Many Requests");
    expect(await page.locator('#timeline .lane[data-step-id="generate"]').innerText()).toContain("44,520 tok · $0.2070");
    expect(await page.locator('#timeline .lane[data-step-id="finalise"]').innerText()).toContain("skipped: condition is false");
    expect(await page.locator("#timeline .lane").first().innerText()).toContain("waited 1.2 s");

    // links to the issue, the check run, the sticky comment and the pull request
    const hrefs = await page.locator(".run-head .links a").evaluateAll((els) => els.map((a) => [a.textContent, a.getAttribute("href")]));
    expect(hrefs).toEqual([
      ["issue #42", "https://github.com/acme/widgets/issues/42"],
      ["check run", "https://github.com/acme/widgets/runs/31415926"],
      ["progress comment", "https://github.com/acme/widgets/issues/42#issuecomment-2718281828"],
      ["result pull request", "https://github.com/acme/widgets/pull/57"],
    ]);

    // a node leads to its row; the back link returns to the list
    await page.locator('#graph g.node[data-step-id="docs"]').click();
    await page.locator('#steps tr.flash[data-step-id="docs"]').waitFor();
    await page.locator("#back").click();
    await page.locator("#runs tr.run").nth(2).waitFor();
    expect(await page.locator("#summary").isVisible()).toBe(true);

    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it("opens a running run's page directly by its address", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/dashboard?token=${TOKEN}#run/run-new`);
    await page.locator("#graph g.node").nth(1).waitFor();
    expect(await page.locator("#graph g.node").count()).toBe(2);
    expect(await page.locator("#graph path.edge").count()).toBe(1);
    expect(await page.locator('#graph g.node[data-step-id="review"]').getAttribute("data-status")).toBe("running");
    expect(await page.locator('#timeline .lane[data-step-id="review"] .bar.s-running').count()).toBe(1);
    expect(await page.locator(".failure").count()).toBe(0);
    await page.close();
  });

  it("shows what a parked run waits for, in its header and on the waiting step's row", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/dashboard?token=${TOKEN}#run/run-parked`);
    await page.locator("#run-waiting li").first().waitFor();
    expect(await page.locator("#run-waiting li").allTextContents()).toEqual(["waiting — review: waiting for approval by a user with maintain permission (the Approve button, or `/octoflow approve`)"]);
    const row = page.locator('#steps tr[data-step-id="review"]');
    expect(await row.locator(".note").textContent()).toContain("waiting for approval by a user with maintain permission");
    expect(await page.locator('#steps tr[data-step-id="generate"] .note').count()).toBe(0);
    await page.close();
  });
});
