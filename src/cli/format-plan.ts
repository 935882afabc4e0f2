/**
 * The plan of a run as text: what `octoflow run --dry-run` and `octoflow replay` print — the steps
 * in order with role, dependencies, model, output and the size of each step's rendered prompt.
 */
import { estimateTokens } from "../workflows/untrusted-text.ts";
import { renderPrompt } from "../workflows/render-prompt.ts";
import type { RunPlan, Trigger } from "../workflows/types.ts";

export interface PlannedStepView {
  id: string;
  role: string;
  needs: string[];
  model: string;
  output: string;
  if?: string;
  /** Characters of the step prompt rendered with the trigger's data (upstream outputs still empty). */
  promptChars: number;
  promptTokens: number;
}

/**
 * Renders every step's prompt as far as it can be before the run (trigger data and inputs; the
 * outputs of earlier steps are empty) and measures it.
 *
 * @example
 * const steps = describePlan(plan, trigger, "openai:gpt-4.1-mini");
 */
export function describePlan(plan: RunPlan, trigger: Trigger, defaultModel: string): PlannedStepView[] {
  return plan.steps.map((step) => {
    const prompt = renderPrompt(step.prompt, { trigger, workflow: plan.workflow, inputs: plan.inputs, steps: {} });
    return {
      id: step.id,
      role: step.role,
      needs: step.needs.map(String),
      model: step.uses ? "-" : (step.model ?? defaultModel),
      output: step.output,
      ...(step.if === undefined ? {} : { if: step.if }),
      promptChars: prompt.length,
      promptTokens: estimateTokens(prompt),
    };
  });
}

/** `18.2 kB (~4.6k tokens)`. */
export function formatPromptSize(chars: number, tokens: number): string {
  const size = chars < 1000 ? `${chars} B` : `${(chars / 1000).toFixed(1)} kB`;
  const tok = tokens < 1000 ? String(tokens) : `${(tokens / 1000).toFixed(1)}k`;
  return `${size} (~${tok} tokens)`;
}

/** The step table, one line per step, indented by two spaces. */
export function formatPlanTable(steps: readonly PlannedStepView[]): string {
  const header = ["STEP", "ROLE", "NEEDS", "MODEL", "OUTPUT", "PROMPT"];
  const rows = steps.map((s) => [
    s.id,
    s.role,
    s.needs.length > 0 ? s.needs.join(",") : "-",
    s.model,
    s.output,
    `${formatPromptSize(s.promptChars, s.promptTokens)}${s.if ? `  if: ${s.if}` : ""}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/**
 * `analyse → generate → (review, test, docs) → finalise → verify ×3`: the DAG in dependency levels; a
 * loop's rows are shown once, as its id and its fixes at most.
 */
export function formatStepChain(plan: RunPlan): string {
  const level = new Map<string, number>();
  const depth = (id: string, seen: Set<string>): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const step = plan.steps.find((s) => s.id === id);
    const d = step && step.needs.length > 0 ? Math.max(...step.needs.map((n) => depth(n, seen))) + 1 : 0;
    level.set(id, d);
    return d;
  };
  const levels: string[][] = [];
  for (const step of plan.steps) {
    if (step.loop && (step.loop.kind !== "verify" || step.loop.iteration !== 1)) continue;
    (levels[depth(step.id, new Set())] ??= []).push(step.loop ? `${step.loop.id} ×${step.loop.max}` : step.id);
  }
  return levels
    .filter((ids) => ids.length > 0)
    .map((ids) => (ids.length === 1 ? (ids[0] ?? "") : `(${ids.join(", ")})`))
    .join(" → ");
}
