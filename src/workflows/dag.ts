/**
 * Graph helpers over steps with `needs`: cycle detection (with the cycle named), transitive
 * dependencies, and the critical path (longest chain by duration).
 */

export interface DagNode {
  id: string;
  needs: readonly string[];
}

/**
 * Finds one dependency cycle, returned as the ids along it with the first repeated at the end
 * (`["a", "b", "a"]`), or undefined when the graph is acyclic. Unknown needs are ignored.
 */
export function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, "visiting" | "done">();
  for (const start of nodes) {
    if (state.get(start.id) === "done") continue;
    // Iterative DFS so deep graphs cannot overflow the stack.
    const stack: { id: string; next: number }[] = [{ id: start.id, next: 0 }];
    state.set(start.id, "visiting");
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (!frame) break;
      const node = byId.get(frame.id);
      const need = node?.needs[frame.next];
      if (need === undefined) {
        state.set(frame.id, "done");
        stack.pop();
        continue;
      }
      frame.next++;
      if (!byId.has(need)) continue;
      const seen = state.get(need);
      if (seen === "visiting") {
        const from = stack.findIndex((f) => f.id === need);
        return [...stack.slice(from).map((f) => f.id), need];
      }
      if (seen === undefined) {
        state.set(need, "visiting");
        stack.push({ id: need, next: 0 });
      }
    }
  }
  return undefined;
}

/** For each node, the set of every node it depends on (directly or transitively). Assumes no cycle. */
export function ancestors(nodes: readonly DagNode[]): Map<string, Set<string>> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string, guard: Set<string>): Set<string> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const out = new Set<string>();
    if (guard.has(id)) return out;
    guard.add(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      out.add(need);
      for (const a of visit(need, guard)) out.add(a);
    }
    guard.delete(id);
    memo.set(id, out);
    return out;
  };
  for (const node of nodes) visit(node.id, new Set());
  return memo;
}

/** Steps in an order where every step comes after its needs (stable with respect to input order). */
export function topologicalOrder<T extends DagNode>(nodes: readonly T[]): T[] {
  const placed = new Set<string>();
  const out: T[] = [];
  const known = new Set(nodes.map((n) => n.id));
  let remaining = [...nodes];
  while (remaining.length > 0) {
    const ready = remaining.filter((n) => n.needs.every((need) => placed.has(need) || !known.has(need)));
    if (ready.length === 0) return [...out, ...remaining];
    for (const n of ready) placed.add(n.id);
    out.push(...ready);
    remaining = remaining.filter((n) => !placed.has(n.id));
  }
  return out;
}

/**
 * The longest chain through the graph by summed duration.
 *
 * @example
 * criticalPath([{ id: "a", needs: [] }, { id: "b", needs: ["a"] }], { a: 10, b: 5 });
 * // { path: ["a", "b"], ms: 15 }
 */
export function criticalPath(nodes: readonly DagNode[], durations: Readonly<Record<string, number>>): { path: string[]; ms: number } {
  const best = new Map<string, { ms: number; path: string[] }>();
  for (const node of topologicalOrder(nodes)) {
    let prev: { ms: number; path: string[] } = { ms: 0, path: [] };
    for (const need of node.needs) {
      const candidate = best.get(need);
      if (candidate && candidate.ms > prev.ms) prev = candidate;
    }
    best.set(node.id, { ms: prev.ms + (durations[node.id] ?? 0), path: [...prev.path, node.id] });
  }
  let top: { ms: number; path: string[] } = { ms: 0, path: [] };
  for (const entry of best.values()) if (entry.ms > top.ms || (entry.ms === top.ms && entry.path.length > top.path.length)) top = entry;
  return top;
}
