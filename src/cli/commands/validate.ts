/**
 * `octoflow validate <file|dir>…` — validates workflow templates and `.github/octoflow.yml` files and
 * prints `file:line: key.path: message` per problem. Exit 0 when everything is valid, 1 on problems,
 * 2 on usage errors. Meant for a repository's own CI.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConfigError } from "../../errors/config-error.ts";
import { checkRepoConfigWorkflows, parseRepoConfig, type RepoConfig } from "../../config/repo-config.ts";
import { YAML_LIMITS } from "../../config/load-yaml.ts";
import { loadBuiltinTemplates, parseWorkflowTemplate } from "../../workflows/load-template.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";

const USAGE = `Usage: octoflow validate [--kind template|config] <file|directory>…

Validates workflow templates (workflows/*.yml, .github/octoflow/workflows/*.yml) and repository
configuration files (.github/octoflow.yml). Directories are searched for *.yml / *.yaml.
Prints one line per problem: file:line: key.path: message. Exit code 0 = valid, 1 = problems.`;

type Kind = "template" | "config";

function kindOf(path: string, forced: Kind | undefined): Kind {
  if (forced) return forced;
  const name = basename(path);
  return name === "octoflow.yml" || name === "octoflow.yaml" || name === ".octoflow.yml" ? "config" : "template";
}

function expand(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => join(path, f));
}

/**
 * Reads one file for validation. A file that cannot be read (a directory named `x.yml`, no
 * permission) or is too large is a problem of that file, reported like any other: the rest are
 * still validated. `shown` is the path as the user should see it.
 */
function readText(path: string, shown: string): string {
  try {
    const size = statSync(path).size;
    if (size > YAML_LIMITS.maxBytes) {
      throw new ConfigError("too large", { problems: [`${shown}:1: (root): file is ${(size / 1_000_000).toFixed(1)} MB; the limit is ${YAML_LIMITS.maxBytes / 1_000_000} MB`] });
    }
    return readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new ConfigError("unreadable", { problems: [`${shown}: cannot be read (${typeof code === "string" ? code : "read error"})`], cause: error });
  }
}

/** Finds `.github/octoflow.yml` for a template under `.github/octoflow/workflows/`. */
function siblingConfig(templatePath: string): string | undefined {
  const dir = dirname(resolve(templatePath));
  if (basename(dir) !== "workflows" || basename(dirname(dir)) !== "octoflow") return undefined;
  const candidate = join(dirname(dirname(dir)), "octoflow.yml");
  return existsSync(candidate) ? candidate : undefined;
}

export const validateCommand: CliCommand = {
  summary: "Validate workflow templates and .github/octoflow.yml files",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    let forced: Kind | undefined;
    const paths: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] ?? "";
      if (arg === "--kind") {
        const value = args[++i];
        if (value !== "template" && value !== "config") {
          io.stderr(`octoflow validate: --kind must be "template" or "config"\n`);
          return 2;
        }
        forced = value;
      } else if (arg.startsWith("-")) {
        io.stderr(`octoflow validate: unknown option ${arg}\n${USAGE}\n`);
        return 2;
      } else paths.push(arg);
    }
    if (paths.length === 0) {
      io.stderr(`${USAGE}\n`);
      return 2;
    }

    const problems: string[] = [];
    const display = (p: string) => {
      const rel = relative(io.cwd, resolve(io.cwd, p));
      return rel.startsWith("..") ? p : rel;
    };
    const files: { path: string; kind: Kind }[] = [];
    for (const path of paths) {
      const absolute = resolve(io.cwd, path);
      if (!existsSync(absolute)) {
        problems.push(`${path}: no such file or directory`);
        continue;
      }
      for (const file of expand(absolute)) files.push({ path: file, kind: kindOf(file, forced) });
    }

    const configs = new Map<string, RepoConfig>();
    const loadConfig = (path: string): RepoConfig | undefined => {
      if (configs.has(path)) return configs.get(path);
      try {
        const config = parseRepoConfig(readText(path, display(path)), display(path));
        configs.set(path, config);
        return config;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return undefined;
      }
    };
    const knownWorkflows = new Set(loadBuiltinTemplates().map((t) => t.template.name));
    let valid = 0;

    for (const file of files.filter((f) => f.kind === "template")) {
      const configPath = siblingConfig(file.path);
      const extraRoles = configPath ? loadConfig(configPath)?.roles : [...configs.values()][0]?.roles;
      try {
        const template = parseWorkflowTemplate(readText(file.path, display(file.path)), display(file.path), extraRoles ? { extraRoles } : {});
        knownWorkflows.add(template.name);
        valid++;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
      }
    }
    for (const file of files.filter((f) => f.kind === "config")) {
      try {
        const config = parseRepoConfig(readText(file.path, display(file.path)), display(file.path));
        const repoTemplates = join(dirname(file.path), "octoflow", "workflows");
        const known = new Set(knownWorkflows);
        if (existsSync(repoTemplates)) {
          for (const t of expand(repoTemplates)) {
            try {
              known.add(parseWorkflowTemplate(readText(t, display(t)), display(t), { extraRoles: config.roles }).name);
            } catch {
              // reported when the template itself is validated
            }
          }
        }
        const unknown = checkRepoConfigWorkflows(config, known, display(file.path));
        if (unknown.length > 0) problems.push(...unknown);
        else valid++;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
      }
    }

    for (const problem of problems) io.stdout(`${problem}\n`);
    const failed = files.length + paths.filter((p) => !existsSync(resolve(io.cwd, p))).length - valid;
    io.stderr(problems.length === 0 ? `${valid} file(s) valid\n` : `${problems.length} problem(s) in ${failed} file(s)\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
