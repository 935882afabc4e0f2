import { describe, expect, it } from "vitest";
import { layoutRunGraph, NODE_HEIGHT, NODE_WIDTH } from "../../src/observability/run-graph-layout.ts";

const FEATURE = [
  { id: "analyse", needs: [] },
  { id: "generate", needs: ["analyse"] },
  { id: "review", needs: ["generate"] },
  { id: "tests", needs: ["generate"] },
  { id: "docs", needs: ["generate"] },
  { id: "finalise", needs: ["review", "tests", "docs"] },
];

function overlaps(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe("layoutRunGraph", () => {
  it("puts each step one column right of its deepest need, with one edge per need", () => {
    const g = layoutRunGraph(FEATURE);
    expect(g.nodes.map((n) => [n.id, n.layer])).toEqual([
      ["analyse", 0],
      ["generate", 1],
      ["review", 2],
      ["tests", 2],
      ["docs", 2],
      ["finalise", 3],
    ]);
    expect(g.edges).toEqual([
      { from: "analyse", to: "generate" },
      { from: "generate", to: "review" },
      { from: "generate", to: "tests" },
      { from: "generate", to: "docs" },
      { from: "review", to: "finalise" },
      { from: "tests", to: "finalise" },
      { from: "docs", to: "finalise" },
    ]);
    const at = new Map(g.nodes.map((n) => [n.id, n]));
    for (const e of g.edges) expect((at.get(e.to)?.x ?? 0) > (at.get(e.from)?.x ?? 0) + NODE_WIDTH).toBe(true);
    // the fan-out keeps plan order top to bottom, centred on its parent
    const [review, tests, docs] = ["review", "tests", "docs"].map((id) => at.get(id)?.y ?? NaN) as [number, number, number];
    expect(review).toBeLessThan(tests);
    expect(tests).toBeLessThan(docs);
    expect(at.get("generate")?.y).toBe(tests);
    expect(at.get("finalise")?.y).toBe(tests);
    for (const a of g.nodes) for (const b of g.nodes) if (a !== b) expect(overlaps(a, b)).toBe(false);
    for (const n of g.nodes) {
      expect(n.x + n.width).toBeLessThanOrEqual(g.width);
      expect(n.y + n.height).toBeLessThanOrEqual(g.height);
      expect(n.height).toBe(NODE_HEIGHT);
    }
  });

  it("places a step by its longest chain, not its first need", () => {
    const g = layoutRunGraph([
      { id: "a", needs: [] },
      { id: "b", needs: ["a"] },
      { id: "c", needs: ["b"] },
      { id: "d", needs: ["a", "c"] },
    ]);
    expect(g.nodes.find((n) => n.id === "d")?.layer).toBe(3);
  });

  it("orders a column by its parents' rows to avoid crossings", () => {
    const g = layoutRunGraph([
      { id: "top", needs: [] },
      { id: "bottom", needs: [] },
      { id: "after-bottom", needs: ["bottom"] },
      { id: "after-top", needs: ["top"] },
    ]);
    const y = (id: string) => g.nodes.find((n) => n.id === id)?.y ?? NaN;
    expect(y("after-top")).toBeLessThan(y("after-bottom"));
  });

  it("ignores unknown needs, duplicates and self-loops, survives a cycle and an empty graph", () => {
    const g = layoutRunGraph([
      { id: "a", needs: ["ghost", "a"] },
      { id: "b", needs: ["a", "a"] },
      { id: "a", needs: [] },
    ]);
    expect(g.nodes.map((n) => n.id)).toEqual(["a", "b"]);
    expect(g.edges).toEqual([{ from: "a", to: "b" }]);
    const cyclic = layoutRunGraph([
      { id: "x", needs: ["y"] },
      { id: "y", needs: ["x"] },
    ]);
    expect(cyclic.nodes).toHaveLength(2);
    expect(cyclic.edges).toHaveLength(2);
    expect(layoutRunGraph([])).toEqual({ width: 0, height: 0, nodes: [], edges: [] });
  });

  it("lays out a long chain without deep recursion", () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, needs: i ? [`s${i - 1}`] : [] }));
    const g = layoutRunGraph(chain);
    expect(g.nodes.at(-1)?.layer).toBe(19_999);
  });
});
