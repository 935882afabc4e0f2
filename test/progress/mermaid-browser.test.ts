/**
 * The sticky comment's diagram through the real Mermaid renderer (the npm package, loaded from
 * node_modules into headless Chromium; nothing is fetched): it parses, draws one node per step and
 * one edge per need, and hostile step names come out as literal text.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service, skipNote, skips } from "../helpers/services.ts";
import { chromium, type Browser, type Page } from "playwright-core";
import { renderMermaidGraph, type MermaidStep } from "../../src/progress/mermaid.ts";

const MERMAID_JS = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");
let browser: Browser;
let page: Page;

const chromiumBinary = service("chromium");

beforeAll(async () => {
  if (skips(chromiumBinary)) return;
  browser = await chromium.launch({
    executablePath: chromiumBinary.value ?? "chromium", // missing but required (OCTOFLOW_REQUIRE_SERVICES): fails here
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage();
  // any request leaving the page would be a defect: the diagram must render offline
  await page.route("**/*", (route) => route.abort());
  await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
  await page.addScriptTag({ path: MERMAID_JS });
  await page.evaluate(() => (window as unknown as { mermaid: { initialize(o: object): void } }).mermaid.initialize({ startOnLoad: false, securityLevel: "strict" }));
});

afterAll(async () => {
  await browser?.close();
});

interface Rendered {
  nodes: number;
  edges: number;
  labels: string[];
  classes: string[];
  images: number;
}

/** Renders the block's diagram source and reads back what Mermaid drew. */
async function render(block: string): Promise<Rendered> {
  const source = block.replace(/^```mermaid\n/, "").replace(/\n```$/, "");
  return page.evaluate(async (text) => {
    const mermaid = (window as unknown as { mermaid: { render(id: string, t: string): Promise<{ svg: string }> } }).mermaid;
    const { svg } = await mermaid.render(`g${Math.random().toString(36).slice(2)}`, text);
    const out = document.getElementById("out") as HTMLElement;
    out.innerHTML = svg;
    const nodes = [...out.querySelectorAll("g.node")];
    return {
      nodes: nodes.length,
      edges: out.querySelectorAll("path.flowchart-link").length,
      labels: nodes.map((n) => (n.textContent ?? "").trim()),
      classes: nodes.map((n) => [...n.classList].filter((c) => c !== "node" && c !== "default").join(" ")),
      images: out.querySelectorAll("img, script, a, foreignObject img").length,
    };
  }, source);
}

describe.skipIf(skips(chromiumBinary))(`the sticky comment's Mermaid diagram in the real renderer${skipNote(chromiumBinary)}`, () => {
  it("draws the feature-development fan-out with one node per step, one edge per need and status classes", async () => {
    const steps: MermaidStep[] = [
      { id: "analyse", name: "Analyse the request", status: "succeeded" },
      { id: "generate", name: "Implement the change", status: "succeeded", needs: ["analyse"] },
      { id: "review", name: "Review the change", status: "failed", needs: ["generate"] },
      { id: "tests", name: "Write tests", status: "running", needs: ["generate"] },
      { id: "docs", name: "Update the documentation", status: "skipped", needs: ["generate"] },
      { id: "finalise", name: "Finalise the pull request", status: "pending", needs: ["review", "tests", "docs"] },
    ];
    const drawn = await render(renderMermaidGraph(steps));
    expect(drawn.nodes).toBe(6);
    expect(drawn.edges).toBe(7);
    expect(drawn.labels).toEqual(["✅ Analyse the request", "✅ Implement the change", "❌ Review the change", "🔄 Write tests", "⏭️ Update the documentation", "⏳ Finalise the pull request"]);
    expect(drawn.classes.map((c) => c.split(" ")[0])).toEqual(["succeeded", "succeeded", "failed", "running", "skipped", "pending"]);
  });

  it("shows hostile step names as literal text without extra nodes, edges or elements", async () => {
    const names = ['x"] --> evil["pwned', "```\n@octocat <img src=x onerror=\"window.__pwned=1\">", 'a]; click s0 href "javascript:alert(1)"', "%% not a comment #quot; & `code` {b} |p| 🚀"];
    const steps = names.map((name, i): MermaidStep => ({ id: `h${i}`, name, status: "failed", needs: i ? [`h${i - 1}`] : [] }));
    const drawn = await render(renderMermaidGraph(steps));
    expect(drawn.nodes).toBe(4);
    expect(drawn.edges).toBe(3);
    expect(drawn.images).toBe(0);
    expect(drawn.labels).toEqual(names.map((n) => `❌ ${n.replace(/\s+/g, " ")}`));
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});
