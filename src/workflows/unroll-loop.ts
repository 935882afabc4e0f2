/**
 * A template's `loop:` is a bounded construct, not an edge back: the planner unrolls it into rows
 * `<id>-1, <id>-fix-1, <id>-2, …, <id>-<max+1>` so the run stays an acyclic graph. Each fix row runs
 * only when the verify row before it failed; a verify row after a skipped fix is skipped by the
 * engine's ordinary rule (a need that did not succeed), so a green check ends the loop.
 */
import type { LoopTemplateStep, TemplateUse } from "../config/template-schema.ts";
import { PLACEHOLDER_PATTERN } from "./render-prompt.ts";
import { asStepId, type PlannedStep } from "./types.ts";

/** Id of the k-th verify row (1-based). */
export const verifyRowId = (loopId: string, k: number): string => `${loopId}-${k}`;
/** Id of the k-th fix row (1-based). */
export const fixRowId = (loopId: string, k: number): string => `${loopId}-fix-${k}`;

/** Every row id of a loop with `max` fixes, in order. */
export function loopRowIds(loopId: string, max: number): string[] {
  const ids: string[] = [];
  for (let k = 1; k <= max; k++) ids.push(verifyRowId(loopId, k), fixRowId(loopId, k));
  ids.push(verifyRowId(loopId, max + 1));
  return ids;
}

/** True when `id` has the shape of a row of loop `loopId` (whatever its `max`). */
export function isLoopRowId(loopId: string, id: string): boolean {
  return id.startsWith(`${loopId}-`) && /^(?:fix-)?[1-9]\d*$/.test(id.slice(loopId.length + 1));
}

/**
 * Points `{{ steps.<loopId>.output }}` / `.status` at the verify row a fix follows; every other
 * placeholder is left as written.
 *
 * @example
 * rewriteLoopRefs("CI said: {{ steps.verify.output }}", "verify", "verify-2"); // "CI said: {{ steps.verify-2.output }}"
 */
export function rewriteLoopRefs(prompt: string, loopId: string, rowId: string): string {
  return prompt.replace(PLACEHOLDER_PATTERN, (match, raw: string) => {
    const [head, id, field, ...rest] = raw.split(".");
    if (head !== "steps" || id !== loopId || field === undefined || rest.length > 0) return match;
    return match.replace(raw, `steps.${rowId}.${field}`);
  });
}

const useLabel = (use: TemplateUse): string => (use.kind === "ci" ? "CI" : use.command);

/** The agent part of a fix row, resolved by the planner (model, output, limits). */
export type AgentFields = Pick<PlannedStep, "role" | "prompt" | "retries" | "timeoutMs" | "output"> & Partial<Pick<PlannedStep, "model" | "toolLimits">>;

/**
 * Unrolls one loop into its rows. `agent` resolves the fix step's role, model and output like any
 * agent step of the template.
 *
 * @example
 * unrollLoop(step, (fix) => ({ role: fix.role, prompt: fix.prompt, retries: fix.retries, timeoutMs: fix.timeout, output: fix.output }));
 * // verify-1, verify-fix-1, verify-2, verify-fix-2, verify-3, verify-fix-3, verify-4
 */
export function unrollLoop(step: LoopTemplateStep, agent: (fix: LoopTemplateStep["loop"]["fix"]) => AgentFields): PlannedStep[] {
  const { max, verify, fix } = step.loop;
  const fixFields = agent(fix);
  const row = (iteration: number, kind: "verify" | "fix") => ({ id: step.id, iteration, max, kind });
  const rows: PlannedStep[] = [];
  for (let k = 1; k <= max + 1; k++) {
    const verifyId = verifyRowId(step.id, k);
    rows.push({
      id: asStepId(verifyId),
      name: `${verify.name ?? step.name ?? `Verify (${useLabel(verify.use)})`} #${k}`,
      role: verify.use.kind,
      prompt: "",
      needs: k === 1 ? step.needs.map(asStepId) : [asStepId(fixRowId(step.id, k - 1))],
      ...(k === 1 && step.if !== undefined ? { if: step.if } : {}),
      retries: 0,
      timeoutMs: verify.timeout,
      output: "none",
      uses: { ...verify.use },
      loop: row(k, "verify"),
    });
    if (k > max) break;
    rows.push({
      ...fixFields,
      id: asStepId(fixRowId(step.id, k)),
      name: `${fix.name ?? `Fix ${useLabel(verify.use)}`} #${k}`,
      prompt: rewriteLoopRefs(fixFields.prompt, step.id, verifyId),
      needs: [asStepId(verifyId)],
      if: `steps.${verifyId}.status == 'failed'`,
      ...(fix.approval ? { approval: { ...fix.approval } } : {}),
      loop: row(k, "fix"),
    });
  }
  return rows;
}
