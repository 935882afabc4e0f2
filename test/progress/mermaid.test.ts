import { describe, expect, it } from "vitest";
import { MERMAID_MAX_STEPS, mermaidLabel, renderMermaidGraph, type MermaidStep } from "../../src/progress/mermaid.ts";
import { renderStickyComment } from "../../src/progress/render.ts";
import { createRunView } from "../../src/progress/run-view.ts";
import { asRunId, asStepId, type RunRecord } from "../../src/workflows/types.ts";

const FEATURE: MermaidStep[] = [
  { id: "analyse", name: "Analyse the request", status: "succeeded", needs: [] },
  { id: "generate", name: "Implement the change", status: "succeeded", needs: ["analyse"] },
  { id: "review", name: "Review the change", status: "failed", needs: ["generate"] },
  { id: "tests", name: "Write tests", status: "running", needs: ["generate"] },
  { id: "docs", name: "Update the documentation", status: "skipped", needs: ["generate"] },
  { id: "finalise", name: "Finalise the pull request", status: "pending", needs: ["review", "tests", "docs"] },
];

/** The lines between the fences, without the `classDef` lines. */
function body(block: string): string[] {
  const lines = block.split("\n");
  expect(lines[0]).toBe("```mermaid");
  expect(lines.at(-1)).toBe("```");
  return lines.slice(1, -1);
}

describe("renderMermaidGraph", () => {
  it("draws one node per step, one edge per need and a class per status", () => {
    const lines = body(renderMermaidGraph(FEATURE));
    expect(lines[0]).toBe("flowchart LR");
    const nodes = lines.filter((l) => /^ {2}s\d+\[/.test(l));
    const edges = lines.filter((l) => l.includes("-->"));
    expect(nodes).toEqual([
      '  s0["✅ Analyse the request"]:::succeeded',
      '  s1["✅ Implement the change"]:::succeeded',
      '  s2["❌ Review the change"]:::failed',
      '  s3["🔄 Write tests"]:::running',
      '  s4["⏭️ Update the documentation"]:::skipped',
      '  s5["⏳ Finalise the pull request"]:::pending',
    ]);
    expect(edges).toEqual(["  s0 --> s1", "  s1 --> s2", "  s1 --> s3", "  s1 --> s4", "  s2 --> s5", "  s3 --> s5", "  s4 --> s5"]);
    const classes = lines.filter((l) => l.startsWith("  classDef "));
    expect(classes.map((l) => l.split(" ")[3]).sort()).toEqual(["failed", "pending", "running", "skipped", "succeeded"]);
    expect(lines.find((l) => l.startsWith("  classDef failed"))).toContain("stroke:#cf222e");
    expect(lines).toHaveLength(1 + nodes.length + edges.length + classes.length);
  });

  it("ignores unknown and repeated needs and self-loops", () => {
    const lines = body(
      renderMermaidGraph([
        { id: "a", name: "A", status: "succeeded" },
        { id: "b", name: "B", status: "pending", needs: ["a", "a", "ghost", "b"] },
      ]),
    );
    expect(lines.filter((l) => l.includes("-->"))).toEqual(["  s0 --> s1"]);
  });

  it("draws nothing for a single step or an oversized graph", () => {
    expect(renderMermaidGraph([{ id: "a", name: "A", status: "running" }])).toBe("");
    const many = Array.from({ length: MERMAID_MAX_STEPS + 1 }, (_, i): MermaidStep => ({ id: `s${i}`, name: `S${i}`, status: "pending" }));
    expect(renderMermaidGraph(many)).toBe("");
    expect(renderMermaidGraph(many.slice(0, MERMAID_MAX_STEPS))).not.toBe("");
  });

  it("escapes hostile step names so they cannot leave the label, the fence or the diagram", () => {
    const hostile = [
      'x"] --> evil["pwned',
      "```\n@octocat <img src=x onerror=alert(1)>",
      "a]; click s0 href \"javascript:alert(1)\"",
      "%% comment #quot; & `code` {brace} |pipe| 🚀",
    ];
    const block = renderMermaidGraph(hostile.map((name, i): MermaidStep => ({ id: `h${i}`, name, status: "failed", needs: i ? [`h${i - 1}`] : [] })));
    const lines = body(block);
    const labels = lines.filter((l) => /^ {2}s\d+\[/.test(l)).map((l) => /^ {2}s\d+\["❌ (.*)"\]:::failed$/.exec(l)?.[1]);
    expect(labels).toHaveLength(4);
    for (const label of labels) {
      expect(label).toBeDefined();
      expect(label).toMatch(/^[\p{L}\p{N} .,:_/+?!'=()#;…-]*$/u); // nothing that Mermaid or markdown reads as syntax
    }
    expect(labels[0]).toBe("x#34;#93; --#62; evil#91;#34;pwned");
    expect(labels[1]).toBe("#96;#96;#96; #64;octocat #60;img src=x onerror=alert(1)#62;");
    expect(labels[3]).toContain("#35;quot#59;"); // a literal entity code stays literal text
    expect(labels[3]).toContain("#128640;"); // the emoji survives as its code point
    expect(block.match(/```/g)).toHaveLength(2); // only our own fences
    expect(lines.filter((l) => l.includes("-->"))).toEqual(["  s0 --> s1", "  s1 --> s2", "  s2 --> s3"]);
    expect(lines.some((l) => /^\s*click\b/.test(l))).toBe(false);
  });
});

describe("mermaidLabel", () => {
  it("keeps plain text, collapses whitespace and bounds the length", () => {
    expect(mermaidLabel("Übersetze die Doku: v2.1 (beta)")).toBe("Übersetze die Doku: v2.1 (beta)");
    expect(mermaidLabel("  two\n\tlines  ")).toBe("two lines");
    const long = mermaidLabel("x".repeat(200));
    expect([...long]).toHaveLength(60);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("sticky comment", () => {
  it("shows the plan's graph with each step's status above the table", () => {
    const a = asStepId("analyse");
    const g = asStepId("generate");
    const run = {
      id: asRunId("r1"),
      workflow: "feature-development",
      status: "running",
      plan: {
        workflow: "feature-development",
        description: "",
        inputs: {},
        concurrency: { group: "g", cancelInProgress: false },
        customRoles: {},
        steps: [
          { id: a, name: "Analyse", role: "analyst", prompt: "p", needs: [], retries: 0, timeoutMs: 1000, output: "none" },
          { id: g, name: "Generate", role: "generate", prompt: "p", needs: [a], retries: 0, timeoutMs: 1000, output: "pull_request" },
        ],
      },
      trigger: { kind: "label", repo: { owner: "o", name: "r", defaultBranch: "main" }, number: 1, isPullRequest: false, actor: "u", inputs: {} },
      concurrencyKey: "k",
      createdAt: 0,
    } satisfies RunRecord;
    const view = createRunView(run, [
      { runId: run.id, stepId: a, status: "succeeded", attempts: 1, startedAt: 0, finishedAt: 1000 },
      { runId: run.id, stepId: g, status: "running", attempts: 1, startedAt: 1000 },
    ]);
    const comment = renderStickyComment(view);
    const graph = comment.indexOf("```mermaid\nflowchart LR\n");
    expect(graph).toBeGreaterThan(0);
    expect(graph).toBeLessThan(comment.indexOf("| step | status |"));
    expect(comment).toContain('  s0["✅ Analyse"]:::succeeded\n  s1["🔄 Generate"]:::running\n  s0 --> s1\n');
  });
});
