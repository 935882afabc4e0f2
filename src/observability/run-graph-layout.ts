/**
 * A small layered layout of a run's DAG for the dashboard's run page: steps are placed in columns
 * by topological depth (a step sits one column right of its deepest `needs`), ordered within a
 * column by the average row of their parents (fewer crossings), and each column is centred
 * vertically. The page draws the boxes and edges from these coordinates; nothing here knows SVG.
 */

export interface GraphInput {
  id: string;
  needs: readonly string[];
}

export interface GraphNodeBox {
  id: string;
  /** Column (0 for steps without needs). */
  layer: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: GraphNodeBox[];
  /** One edge per `needs` entry that names a step of the graph: from the dependency to the step. */
  edges: { from: string; to: string }[];
}

export const NODE_WIDTH = 226;
export const NODE_HEIGHT = 52;
const GAP_X = 64;
const GAP_Y = 22;
const PAD = 16;

/**
 * @example
 * const { nodes, edges } = layoutRunGraph([{ id: "a", needs: [] }, { id: "b", needs: ["a"] }]);
 * // nodes[1].x > nodes[0].x, edges = [{ from: "a", to: "b" }]
 */
export function layoutRunGraph(steps: readonly GraphInput[]): GraphLayout {
  const known = new Map<string, GraphInput>();
  for (const s of steps) if (!known.has(s.id)) known.set(s.id, s);
  const unique = [...known.values()];
  const parents = new Map(unique.map((s) => [s.id, [...new Set(s.needs)].filter((n) => n !== s.id && known.has(n))]));
  const depth = depths(unique, parents);

  const layers: string[][] = [];
  for (const s of unique) (layers[depth.get(s.id) ?? 0] ??= []).push(s.id);
  const row = new Map<string, number>();
  const order = new Map(unique.map((s, i) => [s.id, i]));
  for (const layer of layers) {
    if (!layer) continue;
    const weight = (id: string) => {
      const ps = (parents.get(id) ?? []).map((p) => row.get(p)).filter((r): r is number => r !== undefined);
      return ps.length === 0 ? (order.get(id) ?? 0) : ps.reduce((a, b) => a + b, 0) / ps.length;
    };
    const weights = new Map(layer.map((id) => [id, weight(id)]));
    layer.sort((a, b) => (weights.get(a) ?? 0) - (weights.get(b) ?? 0) || (order.get(a) ?? 0) - (order.get(b) ?? 0));
    layer.forEach((id, i) => row.set(id, i));
  }

  const tallest = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const columnHeight = (n: number) => n * NODE_HEIGHT + (n - 1) * GAP_Y;
  const boxes = new Map<string, GraphNodeBox>();
  layers.forEach((layer, l) => {
    if (!layer) return;
    const top = PAD + (columnHeight(tallest) - columnHeight(layer.length)) / 2;
    layer.forEach((id, i) => {
      boxes.set(id, { id, layer: l, x: PAD + l * (NODE_WIDTH + GAP_X), y: top + i * (NODE_HEIGHT + GAP_Y), width: NODE_WIDTH, height: NODE_HEIGHT });
    });
  });

  return {
    width: unique.length === 0 ? 0 : PAD * 2 + layers.length * NODE_WIDTH + (layers.length - 1) * GAP_X,
    height: unique.length === 0 ? 0 : PAD * 2 + columnHeight(tallest),
    nodes: unique.map((s) => boxes.get(s.id)).filter((b): b is GraphNodeBox => b !== undefined),
    edges: unique.flatMap((s) => (parents.get(s.id) ?? []).map((from) => ({ from, to: s.id }))),
  };
}

/** Longest path from a root to each step; a step on a cycle (never planned) counts its cyclic needs as 0. */
function depths(steps: readonly GraphInput[], parents: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (start: string) => {
    // iterative post-order so a long chain cannot overflow the stack
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    visiting.add(start);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { id: string; next: number };
      const ps = parents.get(frame.id) ?? [];
      const p = ps[frame.next];
      if (p === undefined) {
        depth.set(frame.id, ps.reduce((d, q) => Math.max(d, (depth.get(q) ?? -1) + 1), 0));
        visiting.delete(frame.id);
        stack.pop();
        continue;
      }
      frame.next++;
      if (!depth.has(p) && !visiting.has(p)) {
        visiting.add(p);
        stack.push({ id: p, next: 0 });
      }
    }
  };
  for (const s of steps) if (!depth.has(s.id)) visit(s.id);
  return depth;
}
