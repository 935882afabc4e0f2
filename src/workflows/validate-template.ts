/**
 * Semantic checks a schema cannot express: duplicate ids, unknown roles, unknown needs, cycles,
 * conditions, prompt variables, and what loops reserve (their row ids; nothing may need a loop). Each problem carries the key path it belongs to, so the loader
 * can add the file and line.
 */
import { TEMPLATE_LIMITS, USES_KINDS, type CustomRoleConfig, type WorkflowTemplate } from "../config/template-schema.ts";
import { BUILTIN_ROLES } from "./types.ts";
import { isLoopRowId, loopRowIds } from "./unroll-loop.ts";
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

/** A loop's rows add `-fix-<n>` to its id; ids stay within the 64 characters of a step id. */
const MAX_LOOP_ID_CHARS = 56;

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
    if ((USES_KINDS as readonly string[]).includes(name)) problems.push({ path: ["roles", name], message: `"${name}" names the uses: ${name} steps; choose another name for a custom role` });
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

  const loops = new Set(template.steps.filter((s) => s.kind === "loop").map((s) => s.id));
  problems.push(...checkLoops(template));

  template.steps.forEach((step, index) => {
    const role = step.kind === "agent" ? { name: step.role, path: ["steps", index, "role"] } : step.kind === "loop" ? { name: step.loop.fix.role, path: ["steps", index, "loop", "fix", "role"] } : undefined;
    if (role && !roles.has(role.name)) {
      problems.push({ path: role.path, message: `unknown role "${role.name}" (built-in: ${BUILTIN_ROLES.join(", ")}; declare custom roles under roles:)` });
    }
    const seen = new Set<string>();
    step.needs.forEach((need, n) => {
      const path = ["steps", index, "needs", ...(step.needs.length > 1 ? [n] : [])];
      if (need === step.id) problems.push({ path, message: `step "${step.id}" cannot need itself` });
      else if (loops.has(need)) problems.push({ path, message: `"${need}" is a loop; nothing may need it yet` });
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
    if (step.kind === "agent") {
      for (const message of checkPromptVariables(step.prompt, known)) problems.push({ path: ["steps", index, "prompt"], message });
    } else if (step.kind === "loop") {
      // A fix prompt also reads the loop's own id: the verify row it follows.
      const fixKnown = { ...known, upstream: new Set([...known.upstream, step.id]) };
      for (const message of checkPromptVariables(step.loop.fix.prompt, fixKnown)) problems.push({ path: ["steps", index, "loop", "fix", "prompt"], message });
    }
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

/**
 * What loops reserve: the ids of their rows (`<id>-<n>`, `<id>-fix-<n>`), which no other step or
 * loop row may take, and the number of steps once unrolled.
 */
function checkLoops(template: WorkflowTemplate): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const rowOwner = new Map<string, string>();
  let planned = 0;
  template.steps.forEach((step, index) => {
    if (step.kind !== "loop") {
      planned++;
      return;
    }
    if (step.id.length > MAX_LOOP_ID_CHARS) problems.push({ path: ["steps", index, "id"], message: `a loop id may have at most ${MAX_LOOP_ID_CHARS} characters (its rows add -fix-<n>)` });
    const rows = loopRowIds(step.id, step.loop.max);
    planned += rows.length;
    const clashes = new Set<string>();
    for (const row of rows) {
      const owner = rowOwner.get(row);
      if (owner === undefined) rowOwner.set(row, step.id);
      else if (!clashes.has(owner)) {
        clashes.add(owner);
        problems.push({ path: ["steps", index, "id"], message: `the rows of loops "${owner}" and "${step.id}" would both be called "${row}"; rename one loop` });
      }
    }
    template.steps.forEach((other, otherIndex) => {
      if (other.kind !== "loop" && isLoopRowId(step.id, other.id)) {
        problems.push({ path: ["steps", otherIndex, "id"], message: `"${other.id}" looks like a row of loop "${step.id}" (${step.id}-1, ${step.id}-fix-1, …); choose another id` });
      }
    });
  });
  if (planned > TEMPLATE_LIMITS.maxSteps) problems.push({ path: ["steps"], message: `the loops unroll into ${planned} steps; a workflow may have at most ${TEMPLATE_LIMITS.maxSteps}` });
  return problems;
}
