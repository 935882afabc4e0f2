/**
 * Loading workflow templates: YAML → schema → semantic validation, with every problem naming the
 * file, key path and line. The catalog merges built-in templates with a repository's own
 * `.github/octoflow/workflows/*.yml` (repository templates add to or replace built-ins by name).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors/config-error.ts";
import { formatProblem, parseYaml, throwProblems, zodProblems, type ParsedYaml } from "../config/load-yaml.ts";
import { TEMPLATE_LIMITS, workflowTemplateSchema, type WorkflowTemplate } from "../config/template-schema.ts";
import { validateTemplate, type ValidateOptions } from "./validate-template.ts";

/** Directory of the built-in templates shipped with Octoflow. */
export const BUILTIN_WORKFLOWS_DIR = fileURLToPath(new URL("../../workflows/", import.meta.url));

export interface LoadedTemplate {
  template: WorkflowTemplate;
  /** Where it came from: `builtin:<file>` or the repository path. */
  source: string;
}

/** Templates by name. */
export interface WorkflowCatalog {
  get(name: string): LoadedTemplate | undefined;
  names(): string[];
  list(): LoadedTemplate[];
}

function validated(parsed: Pick<ParsedYaml, "file" | "lineOf" | "value">, options: ValidateOptions): WorkflowTemplate {
  const { file, value } = parsed;
  if (value && typeof value === "object" && Array.isArray((value as { steps?: unknown }).steps)) {
    const count = ((value as { steps: unknown[] }).steps).length;
    if (count > TEMPLATE_LIMITS.maxSteps) {
      throwProblems(file, [formatProblem(file, parsed.lineOf(["steps"]), ["steps"], `${count} steps; a workflow may have at most ${TEMPLATE_LIMITS.maxSteps}`)]);
    }
  }
  const result = workflowTemplateSchema.safeParse(value);
  if (!result.success) throwProblems(file, zodProblems(result.error, parsed));
  const problems = validateTemplate(result.data, options)
    .map((p) => ({ line: parsed.lineOf(p.path), p }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    .map(({ line, p }) => formatProblem(file, line, p.path, p.message));
  if (problems.length > 0) throwProblems(file, problems);
  return result.data;
}

/**
 * Parses and validates one template file. Throws a ConfigError whose `problems` read
 * `file:line: key.path: message`.
 *
 * @example
 * const template = parseWorkflowTemplate(readFileSync(path, "utf8"), path);
 */
export function parseWorkflowTemplate(content: string, file: string, options: ValidateOptions = {}): WorkflowTemplate {
  const parsed = parseYaml(content, file);
  if (parsed.value === null || parsed.value === undefined) throwProblems(file, [formatProblem(file, 1, [], "the file is empty; a workflow needs a name and steps")]);
  return validated(parsed, options);
}

/**
 * Validates a template given as a value (the TypeScript builder, JSON). Problems name `source`
 * and the key path (no line numbers).
 */
export function checkWorkflowTemplate(value: unknown, source: string, options: ValidateOptions = {}): WorkflowTemplate {
  return validated({ file: source, value, lineOf: () => undefined }, options);
}

/**
 * Reads the built-in templates from `workflows/*.yml`. Throws when one of them is invalid
 * (a packaging error, caught by the test suite).
 */
export function loadBuiltinTemplates(dir: string = BUILTIN_WORKFLOWS_DIR): LoadedTemplate[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => ({ template: parseWorkflowTemplate(readFileSync(join(dir, name), "utf8"), `workflows/${name}`), source: `builtin:${name}` }));
}

function catalogOf(entries: Map<string, LoadedTemplate>): WorkflowCatalog {
  return {
    get: (name) => entries.get(name),
    names: () => [...entries.keys()].sort(),
    list: () => [...entries.values()],
  };
}

/**
 * Builds the catalog for one repository: built-ins, then the repository's templates (already fetched
 * from its default branch) replacing or adding by name. Throws one ConfigError listing the problems of
 * every invalid repository file.
 *
 * @example
 * const catalog = loadWorkflowCatalog(builtins, [{ path: ".github/octoflow/workflows/triage.yml", content }], { extraRoles: config.roles });
 * const template = catalog.get("triage")?.template;
 */
export function loadWorkflowCatalog(
  builtins: readonly (LoadedTemplate | WorkflowTemplate)[],
  repoFiles: readonly { path: string; content: string }[],
  options: ValidateOptions = {},
): WorkflowCatalog {
  const entries = new Map<string, LoadedTemplate>();
  for (const item of builtins) {
    const loaded = "template" in item ? item : { template: item, source: `builtin:${item.name}` };
    entries.set(loaded.template.name, loaded);
  }
  const problems: string[] = [];
  const fromRepo = new Map<string, string>();
  for (const file of repoFiles) {
    if (!/\.ya?ml$/.test(file.path)) continue;
    try {
      const template = parseWorkflowTemplate(file.content, file.path, options);
      const earlier = fromRepo.get(template.name);
      if (earlier) {
        problems.push(`${file.path}: name: workflow "${template.name}" is also defined in ${earlier}`);
        continue;
      }
      fromRepo.set(template.name, file.path);
      entries.set(template.name, { template, source: file.path });
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid workflow templates:\n${problems.map((p) => `  ${p}`).join("\n")}`, { problems });
  }
  return catalogOf(entries);
}
