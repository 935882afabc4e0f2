/**
 * `octoflow validate <file|dir>…` — validates workflow templates and `.github/octoflow.yml` files and
 * prints `file:line: key.path: message` per problem. Exit 0 when everything is valid, 1 on problems,
 * 2 on usage errors. Meant for a repository's own CI.
 */
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConfigError } from "../../errors/config-error.ts";
import { checkRepoConfigWorkflows, parseRepoConfig, type RepoConfig } from "../../config/repo-config.ts";
import { YAML_LIMITS } from "../../config/load-yaml.ts";
import { loadBuiltinTemplates, parseWorkflowTemplate } from "../../workflows/load-template.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";

const USAGE = `Usage: octoflow validate [--kind template|config] <file|directory>…

Validates workflow templates (workflows/*.yml, .github/octoflow/workflows/*.yml) and repository
configuration files (.github/octoflow.yml). A file is validated as given; a directory is searched at
any depth for .github/octoflow.yml and .github/octoflow/workflows/*.yml (node_modules and dot folders
other than .github are skipped), and a directory named workflows also for its own *.yml.
Prints one line per problem: file:line: key.path: message.

Options:
  --kind template|config   validate every file as this kind (default: by its name)
  -h, --help               this text

Exit code 0 = valid, 1 = problems (or a path that matched no file), 2 = usage error.
Reads no environment variables.`;

type Kind = "template" | "config";

function kindOf(path: string, forced: Kind | undefined): Kind {
  if (forced) return forced;
  const name = basename(path);
  return name === "octoflow.yml" || name === "octoflow.yaml" || name === ".octoflow.yml" ? "config" : "template";
}

const YAML = (name: string) => name.endsWith(".yml") || name.endsWith(".yaml");
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return []; // an unreadable folder holds nothing to validate
  }
}

/** The *.yml / *.yaml entries directly inside `dir` (one that is not a readable file is reported as such). */
function yamlFilesIn(dir: string): string[] {
  return entries(dir)
    .filter((e) => YAML(e.name))
    .map((e) => join(dir, e.name));
}

/**
 * What a path given to `validate` stands for: a file is itself; a directory is searched at any depth
 * for `.github/octoflow.yml` and `.github/octoflow/workflows/*.yml`, and a directory named `workflows`
 * (a templates folder, like this repository's own) also for its own *.yml. Symbolic links to folders
 * are not followed.
 */
function expand(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const found = new Set<string>(basename(path) === "workflows" ? yamlFilesIn(path) : []);
  const visit = (dir: string) => {
    for (const entry of entries(dir)) {
      if (!entry.isDirectory() || SKIPPED_DIRS.has(entry.name)) continue;
      const child = join(dir, entry.name);
      if (entry.name === ".github") {
        for (const name of ["octoflow.yml", "octoflow.yaml"]) if (existsSync(join(child, name))) found.add(join(child, name));
        for (const file of yamlFilesIn(join(child, "octoflow", "workflows"))) found.add(file);
      } else if (!entry.name.startsWith(".")) visit(child);
    }
  };
  if (basename(path) === ".github") {
    visit(dirname(path)); // `validate .github` means this repository's .github
    return [...found].filter((f) => f.startsWith(path));
  }
  visit(path);
  return [...found];
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
      const matched = expand(absolute);
      if (matched.length === 0) problems.push(`${path}: no workflow templates or .github/octoflow.yml found (searched for .github/octoflow.yml and .github/octoflow/workflows/*.yml at any depth)`);
      for (const file of matched) files.push({ path: file, kind: kindOf(file, forced) });
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
        const text = readText(file.path, display(file.path));
        const config = parseRepoConfig(text, display(file.path));
        const repoTemplates = join(dirname(file.path), "octoflow", "workflows");
        const known = new Set(knownWorkflows);
        if (existsSync(repoTemplates)) {
          for (const t of yamlFilesIn(repoTemplates)) {
            try {
              known.add(parseWorkflowTemplate(readText(t, display(t)), display(t), { extraRoles: config.roles }).name);
            } catch {
              // reported when the template itself is validated
            }
          }
        }
        const unknown = checkRepoConfigWorkflows(config, known, display(file.path), text);
        if (unknown.length > 0) problems.push(...unknown);
        else valid++;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
      }
    }

    for (const problem of problems) io.stdout(`${problem}\n`);
    const failed = Math.max(1, files.length - valid);
    io.stderr(problems.length === 0 ? `${valid} file(s) valid\n` : `${problems.length} problem(s) in ${failed} file(s)\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
