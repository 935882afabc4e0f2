/**
 * The run's graph as a Mermaid flowchart for the sticky comment (GitHub renders ```mermaid blocks):
 * one node per step, one edge per `needs`, coloured by status.
 *
 * Step names come from templates and repository config, so they are treated as untrusted: node ids
 * are generated (`s0`, `s1`, …), and every label character outside a small safe set becomes a Mermaid
 * entity code (`#34;`), so no name can close the label, the code fence or the diagram, nor add
 * markup, links or click handlers.
 */
import type { StepStatus } from "../workflows/types.ts";

/** What the diagram needs of a step (a subset of the progress `StepView`). */
export interface MermaidStep {
  id: string;
  name: string;
  status: StepStatus;
  /** Ids of the steps this one waits for; unknown ids draw no edge. */
  needs?: readonly string[];
}

/** Above this many steps the diagram is left out (GitHub stops rendering large diagrams). */
export const MERMAID_MAX_STEPS = 60;
const MAX_LABEL = 60;

const ICON: Record<StepStatus, string> = {
  pending: "⏳",
  running: "🔄",
  waiting: "⏸️",
  succeeded: "✅",
  failed: "❌",
  skipped: "⏭️",
  cancelled: "🚫",
};

/** GitHub's palette, readable in light and dark themes. */
const CLASS_STYLE: Record<StepStatus, string> = {
  pending: "fill:#f6f8fa,stroke:#8c959f,color:#1f2328",
  running: "fill:#fff8c5,stroke:#9a6700,color:#1f2328",
  waiting: "fill:#ddf4ff,stroke:#0969da,color:#1f2328",
  succeeded: "fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
  failed: "fill:#ffebe9,stroke:#cf222e,color:#1f2328",
  skipped: "fill:#f6f8fa,stroke:#d1d9e0,color:#59636e,stroke-dasharray:4 3",
  cancelled: "fill:#eaeef2,stroke:#59636e,color:#59636e",
};

/**
 * Escapes text for a quoted Mermaid label: letters, digits, spaces and plain punctuation stay; every
 * other character (quotes, brackets, backticks, `#`, `;`, `<`, `@`, `%`, emoji, controls) becomes its
 * decimal entity code, and whitespace runs collapse to one space.
 *
 * @example
 * mermaidLabel('say "hi" <b>') // "say #34;hi#34; #60;b#62;"
 */
export function mermaidLabel(text: string): string {
  const flat = [...text.replace(/\s+/g, " ").trim()];
  const cut = flat.length > MAX_LABEL ? flat.slice(0, MAX_LABEL - 1) : flat;
  const safe = cut.map((ch) => (/^[\p{L}\p{N} .,:_/+?!'=()-]$/u.test(ch) ? ch : `#${ch.codePointAt(0) ?? 63};`)).join("");
  return flat.length > MAX_LABEL ? `${safe}…` : safe;
}

/**
 * The ```mermaid block for a run's steps, or "" when there is nothing worth drawing (fewer than two
 * steps, or more than `MERMAID_MAX_STEPS`).
 *
 * @example
 * renderMermaidGraph([
 *   { id: "plan", name: "Plan", status: "succeeded" },
 *   { id: "code", name: "Code", status: "running", needs: ["plan"] },
 * ]);
 * // ```mermaid
 * // flowchart LR
 * //   s0["✅ Plan"]:::succeeded
 * //   s1["🔄 Code"]:::running
 * //   s0 --> s1
 * //   classDef succeeded …
 * // ```
 */
export function renderMermaidGraph(steps: readonly MermaidStep[]): string {
  if (steps.length < 2 || steps.length > MERMAID_MAX_STEPS) return "";
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (!index.has(s.id)) index.set(s.id, i);
  });
  const nodes = steps.map((s, i) => `  s${i}["${ICON[s.status]} ${mermaidLabel(s.name || s.id)}"]:::${s.status}`);
  const edges: string[] = [];
  steps.forEach((s, i) => {
    for (const need of new Set(s.needs ?? [])) {
      const from = index.get(need);
      if (from !== undefined && from !== i) edges.push(`  s${from} --> s${i}`);
    }
  });
  const used = [...new Set(steps.map((s) => s.status))];
  const classes = used.map((status) => `  classDef ${status} ${CLASS_STYLE[status]}`);
  return ["```mermaid", "flowchart LR", ...nodes, ...edges, ...classes, "```"].join("\n");
}
