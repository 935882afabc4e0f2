/**
 * The planner: a validated template plus a trigger (plus the repo config) becomes a RunPlan —
 * the DAG the engine executes, with inputs, models, outputs and the concurrency key resolved.
 */
import { ConfigError } from "../errors/config-error.ts";
import type { RepoConfig } from "../config/repo-config.ts";
import type { AgentTemplateStep, WorkflowTemplate } from "../config/template-schema.ts";
import { PLACEHOLDER_PATTERN } from "./render-prompt.ts";
import { unrollLoop, type AgentFields } from "./unroll-loop.ts";
import { asStepId, BUILTIN_ROLES, type CustomRole, type OutputKind, type PlannedStep, type RunPlan, type Trigger } from "./types.ts";

export interface PlanOptions {
  /** The repository's `.github/octoflow.yml` (for models, custom roles and limits). */
  repoConfig?: RepoConfig;
  /** Model used when neither the step, the role map nor the repo's default names one. */
  defaultModel?: string;
}

type AgentSpec = Pick<AgentTemplateStep, "role" | "prompt" | "retries" | "timeout" | "model" | "output" | "tools">;

const ROLE_OUTPUT: Record<string, OutputKind> = { generate: "pull_request", test: "pull_request", docs: "pull_request", review: "review" };

/** `owner/name#number:workflow` — the default concurrency key. */
export function defaultConcurrencyKey(trigger: Trigger, workflow: string): string {
  return `${trigger.repo.owner}/${trigger.repo.name}#${trigger.number}:${workflow}`;
}

function renderGroup(group: string, trigger: Trigger, workflow: string, inputs: Record<string, string>): string {
  const values: Record<string, string> = {
    repo: `${trigger.repo.owner}/${trigger.repo.name}`,
    "repo.owner": trigger.repo.owner,
    "repo.name": trigger.repo.name,
    number: String(trigger.number),
    workflow,
  };
  // One pass with a replacer function: a value is inserted verbatim, never re-scanned for `{{ … }}`
  // and never read as a replacement pattern (`$&`, `$1`), whatever a user typed as an input.
  return group.replace(PLACEHOLDER_PATTERN, (_match, raw: string) => {
    const name = raw.trim();
    const [head, second] = name.split(".");
    if (head === "inputs" && second !== undefined) return Object.hasOwn(inputs, second) ? (inputs[second] ?? "") : "";
    return Object.hasOwn(values, name) ? (values[name] ?? "") : "";
  });
}

/**
 * Resolves a template for one trigger. Throws a ConfigError for missing required inputs, unknown
 * inputs, or roles that neither the template nor the repo config declares. A `uses:` step becomes a
 * step with `uses` set and role `ci` / `command` (no agent runs); a `loop:` is unrolled into its rows
 * (see unroll-loop.ts).
 *
 * Model precedence: `step.model` > `repoConfig.models.roles[role]` > `repoConfig.models.default`
 * > `options.defaultModel` > unset (the agent uses the environment's `OCTOFLOW_MODEL`).
 *
 * @example
 * const plan = planRun(catalog.get("bug-fix")!.template, trigger, { repoConfig });
 * await engine.start(plan, trigger);
 */
export function planRun(template: WorkflowTemplate, trigger: Trigger, options: PlanOptions = {}): RunPlan {
  const config = options.repoConfig;
  const problems: string[] = [];
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(template.inputs)) {
    const given = trigger.inputs[name];
    if (given !== undefined) inputs[name] = given;
    else if (spec.default !== undefined) inputs[name] = spec.default;
    else if (spec.required) problems.push(`input "${name}" is required${spec.description ? ` (${spec.description})` : ""}: add ${name}=<value> to the command`);
  }
  for (const name of Object.keys(trigger.inputs)) {
    if (!(name in template.inputs)) {
      const known = Object.keys(template.inputs);
      problems.push(`unknown input "${name}" for workflow ${template.name} (${known.length > 0 ? `known: ${known.join(", ")}` : "it takes no inputs"})`);
    }
  }

  const customRoles: Record<string, CustomRole> = {};
  for (const [name, role] of [...Object.entries(config?.roles ?? {}), ...Object.entries(template.roles)]) {
    customRoles[name] = { name, systemPrompt: role.systemPrompt, output: role.output, result: role.result };
  }
  const builtins = new Set<string>(BUILTIN_ROLES);
  const agent = (id: string, step: AgentSpec): AgentFields => {
    if (!builtins.has(step.role) && !customRoles[step.role]) problems.push(`step "${id}": unknown role "${step.role}"`);
    const model = step.model ?? config?.models.roles[step.role] ?? config?.models.default ?? options.defaultModel;
    return {
      role: step.role,
      prompt: step.prompt,
      retries: step.retries,
      timeoutMs: step.timeout,
      ...(model !== undefined ? { model } : {}),
      output: step.output ?? customRoles[step.role]?.output ?? ROLE_OUTPUT[step.role] ?? "none",
      ...(step.tools ? { toolLimits: { ...step.tools } } : {}),
    };
  };
  const steps: PlannedStep[] = template.steps.flatMap((step): PlannedStep[] => {
    if (step.kind === "loop") return unrollLoop(step, (fix) => agent(step.id, fix));
    const common = {
      id: asStepId(step.id),
      name: step.name ?? step.id,
      needs: step.needs.map(asStepId),
      ...(step.if !== undefined ? { if: step.if } : {}),
      ...(step.approval ? { approval: { ...step.approval } } : {}),
    };
    if (step.kind === "uses") {
      // No agent runs: the engine's gates wait for CI or run the command; the role names the kind for views and metrics.
      return [{ ...common, role: step.use.kind, prompt: "", retries: 0, timeoutMs: step.timeout, output: "none", uses: { ...step.use } }];
    }
    return [{ ...common, ...agent(step.id, step) }];
  });
  if (problems.length > 0) {
    throw new ConfigError(`Cannot start ${template.name}:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { problems });
  }

  const group = template.concurrency?.group;
  const limits = config?.limits;
  return {
    workflow: template.name,
    description: template.description,
    steps,
    inputs,
    concurrency: {
      group: group ? renderGroup(group, trigger, template.name, inputs) : defaultConcurrencyKey(trigger, template.name),
      cancelInProgress: template.concurrency?.["cancel-in-progress"] ?? false,
    },
    customRoles,
    ...(config && config.protectedPaths.length > 0 ? { protectedPaths: [...config.protectedPaths] } : {}),
    ...(limits && Object.values(limits).some((v) => v !== undefined)
      ? {
          limits: {
            ...(limits.maxTokensPerRun !== undefined ? { maxTokensPerRun: limits.maxTokensPerRun } : {}),
            ...(limits.maxCostUsdPerRun !== undefined ? { maxCostUsdPerRun: limits.maxCostUsdPerRun } : {}),
            ...(limits.stepConcurrency !== undefined ? { stepConcurrency: limits.stepConcurrency } : {}),
          },
        }
      : {}),
  };
}
