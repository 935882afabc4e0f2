/**
 * Before a CLI run starts (and writes its check run and comment), checks that every model the plan
 * uses has its credentials in the environment, so a forgotten key is a usage error on the terminal
 * instead of a failed run on GitHub.
 */
import { parseModelRef } from "../agents/model-provider.ts";
import type { Env } from "../config/env.ts";
import type { RunPlan } from "../workflows/types.ts";

const NEEDS: Record<string, (keyof Env)[]> = {
  openai: ["OPENAI_API_KEY"],
  anthropic: ["ANTHROPIC_API_KEY"],
  "openai-compatible": ["OPENAI_COMPATIBLE_BASE_URL"],
  codegen: ["CODEGEN_TOKEN", "CODEGEN_ORG_ID"],
};

/**
 * One line per provider whose variables are missing, naming the steps that use it; empty when
 * everything is set.
 *
 * @example
 * missingModelCredentials(plan, env); // ['openai:gpt-4.1-mini (steps diagnose, fix) needs OPENAI_API_KEY']
 */
export function missingModelCredentials(plan: RunPlan, env: Env): string[] {
  const byModel = new Map<string, string[]>();
  for (const step of plan.steps) {
    const model = step.model ?? env.OCTOFLOW_MODEL;
    byModel.set(model, [...(byModel.get(model) ?? []), String(step.id)]);
  }
  const problems: string[] = [];
  for (const [model, steps] of byModel) {
    let provider: string;
    try {
      provider = parseModelRef(model).provider;
    } catch {
      problems.push(`model "${model}" (steps ${steps.join(", ")}) is not <provider>:<model>`);
      continue;
    }
    const needed = NEEDS[provider];
    if (!needed) {
      problems.push(`model "${model}" (steps ${steps.join(", ")}): unknown provider "${provider}"`);
      continue;
    }
    const missing = needed.filter((key) => !env[key]);
    if (missing.length > 0) problems.push(`${model} (step${steps.length > 1 ? "s" : ""} ${steps.join(", ")}) needs ${missing.join(" and ")}`);
  }
  return problems;
}
