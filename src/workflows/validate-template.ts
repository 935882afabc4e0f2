/**
 * Semantic checks a schema cannot express: duplicate ids, unknown roles, unknown needs, cycles,
 * conditions and prompt variables. Each problem carries the key path it belongs to, so the loader
 * can add the file and line.
 */
import type { CustomRoleConfig, WorkflowTemplate } from "../config/template-schema.ts";
import { BUILTIN_ROLES } from "./types.ts";
import { ancestors, findCycle } from "./dag.ts";
import { checkConditionRefs, parseCondition } from "./expression.ts";
import { checkPromptVariables, promptVariables } from "./render-prompt.ts";
import { ExpressionError } from "../errors/expression-error.ts";

export interface TemplateProblem {
  path: (string | number)[];
  message: string;
}

export interface ValidateOptions {
  /** Roles declared outside the template (the repo config's `roles`). */
  extraRoles?: Readonly<Record<string, CustomRoleConfig>>;
}

const CONCURRENCY_VARIABLES = new Set(["repo", "repo.owner", "repo.name", "number", "workflow"]);

/**
 * Returns every semantic problem of a schema-valid template (empty when it is valid).
 *
 * @example
 * const problems = validateTemplate(template, { extraRoles: repoConfig.roles });
 */
export function validateTemplate(template: WorkflowTemplate, options: ValidateOptions = {}): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const builtins = new Set<string>(BUILTIN_ROLES);
  for (const name of Object.keys(template.roles)) {
    if (builtins.has(name)) problems.push({ path: ["roles", name], message: `"${name}" is a built-in role; choose another name for a custom role` });
  }
  const roles = new Set([...builtins, ...Object.keys(options.extraRoles ?? {}), ...Object.keys(template.roles)]);
  const inputs = new Set(Object.keys(template.inputs));

  const firstIndex = new Map<string, number>();
  template.steps.forEach((step, index) => {
    const first = firstIndex.get(step.id);
    if (first !== undefined) problems.push({ path: ["steps", index, "id"], message: `duplicate step id "${step.id}" (first used by steps[${first}])` });
    else firstIndex.set(step.id, index);
  });
  const stepIds = new Set(firstIndex.keys());

  template.steps.forEach((step, index) => {
    if (!roles.has(step.role)) {
      problems.push({
        path: ["steps", index, "role"],
        message: `unknown role "${step.role}" (built-in: ${BUILTIN_ROLES.join(", ")}; declare custom roles under roles:)`,
      });
    }
    const seen = new Set<string>();
    step.needs.forEach((need, n) => {
      const path = ["steps", index, "needs", ...(step.needs.length > 1 ? [n] : [])];
      if (need === step.id) problems.push({ path, message: `step "${step.id}" cannot need itself` });
      else if (!stepIds.has(need)) problems.push({ path, message: `"${need}" is not a step id in this workflow (steps: ${[...stepIds].join(", ")})` });
      if (seen.has(need)) problems.push({ path, message: `"${need}" is listed twice` });
      seen.add(need);
    });
  });

  const nodes = template.steps.map((s) => ({ id: s.id, needs: s.needs.filter((n) => n !== s.id) }));
  const cycle = findCycle(nodes);
  if (cycle) {
    const index = template.steps.findIndex((s) => s.id === cycle[0]);
    problems.push({ path: ["steps", Math.max(0, index), "needs"], message: `dependency cycle: ${cycle.join(" → ")}` });
    return problems;
  }

  const upstream = ancestors(nodes);
  template.steps.forEach((step, index) => {
    const known = { inputs, upstream: upstream.get(step.id) ?? new Set<string>(), steps: stepIds };
    if (step.if !== undefined) {
      try {
        const expr = parseCondition(step.if);
        for (const message of checkConditionRefs(expr, known)) problems.push({ path: ["steps", index, "if"], message });
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        problems.push({ path: ["steps", index, "if"], message: `invalid condition: ${error.message}` });
      }
    }
    for (const message of checkPromptVariables(step.prompt, known)) problems.push({ path: ["steps", index, "prompt"], message });
  });

  const group = template.concurrency?.group;
  if (group !== undefined) {
    for (const { name } of promptVariables(group)) {
      const [head, second] = name.split(".");
      const ok = CONCURRENCY_VARIABLES.has(name) || (head === "inputs" && second !== undefined && inputs.has(second));
      if (!ok) problems.push({ path: ["concurrency", "group"], message: `{{ ${name} }}: unknown variable (use repo, repo.owner, repo.name, number, workflow or inputs.<name>)` });
    }
  }
  return problems;
}
