/**
 * `.github/octoflow.yml`: per-repository configuration, read from the default branch.
 * Every field is optional; an absent file means all defaults. zod is the single source of truth,
 * and `schema/octoflow-config.schema.json` is generated from it.
 */
import { z } from "zod";
import { formatProblem, parseYaml, parseYamlWithSchema } from "./load-yaml.ts";
import { identifier, modelRef, rolesSchema, workflowName } from "./template-schema.ts";

export const REPO_CONFIG_PATH = ".github/octoflow.yml";
export const REPO_WORKFLOWS_DIR = ".github/octoflow/workflows";

const glob = z.string().min(1).max(500);
const price = z.strictObject({
  inputPerMTok: z.number().min(0).describe("US dollars per million input tokens"),
  outputPerMTok: z.number().min(0).describe("US dollars per million output tokens"),
  cachedPerMTok: z.number().min(0).default(0).describe("US dollars per million cached input tokens"),
});

export const repoConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    defaultWorkflow: workflowName.default("feature-development").describe("Workflow started by the `octoflow` label (a bare `/octoflow` comment shows the help text)"),
    labels: z
      .record(z.string().min(1).max(100), workflowName)
      .default({})
      .describe("Label → workflow. `octoflow` → defaultWorkflow and `octoflow:<name>` → <name> are implicit"),
    commands: z
      .record(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "must be a lower-case word"), workflowName)
      .default({})
      .describe("Command alias → workflow, e.g. `fix: bug-fix` makes `/octoflow fix` start bug-fix"),
    review: z
      .strictObject({
        auto: z.boolean().default(true).describe("Review pull requests automatically when opened or updated"),
        workflow: workflowName.default("code-review"),
        skipDrafts: z.boolean().default(true),
        paths: z
          .strictObject({
            include: z.array(glob).max(100).default([]).describe("Only review when a changed file matches one of these globs (empty: all)"),
            exclude: z.array(glob).max(100).default([]).describe("Ignore changed files matching these globs"),
          })
          .default({ include: [], exclude: [] }),
        maxFiles: z.number().int().min(1).max(10_000).default(100).describe("Skip the automatic review above this many changed files"),
        maxChangedLines: z.number().int().min(1).max(1_000_000).default(5000).describe("Skip the automatic review above this many changed lines"),
      })
      .default({ auto: true, workflow: "code-review", skipDrafts: true, paths: { include: [], exclude: [] }, maxFiles: 100, maxChangedLines: 5000 }),
    trust: z
      .strictObject({
        minPermission: z.enum(["write", "maintain", "admin"]).default("write").describe("Least repository permission of a user who may start runs"),
        allowBots: z.array(z.string().min(1).max(100)).max(50).default([]).describe("Bot logins allowed to start runs, e.g. dependabot[bot]"),
      })
      .default({ minPermission: "write", allowBots: [] }),
    models: z
      .strictObject({
        default: modelRef.optional().describe("Model for every step without a more specific choice"),
        roles: z.record(identifier, modelRef).default({}).describe("Role → model"),
      })
      .default({ roles: {} }),
    roles: rolesSchema.default({}),
    limits: z
      .strictObject({
        maxTokensPerRun: z.number().int().min(1).optional().describe("Stop a run once its steps used this many tokens"),
        maxCostUsdPerRun: z.number().positive().optional().describe("Stop a run once its steps cost this much"),
        stepConcurrency: z.number().int().min(1).max(32).optional().describe("Steps of one run executing at the same time"),
      })
      .default({}),
    protectedPaths: z
      .array(
        z
          .string()
          .min(1)
          .max(500)
          .regex(/^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^*?[\]{}\\]+$/, "must be a repository path (a folder ends with /), without wildcards, `..` or a leading /"),
      )
      .max(200)
      .default([])
      .describe("Paths Octoflow never changes, besides .github/workflows/ and .github/actions/ (always protected): a folder ends with /, e.g. deploy/ or Dockerfile"),
    prices: z.record(z.string().min(1).max(200), price).default({}).describe("Model (`provider:model`) → price, for models the built-in table does not know"),
    checkout: z
      .strictObject({
        commands: z
          .record(identifier, z.string().trim().min(1).max(2000))
          .default({})
          .describe("Name → shell command run by `uses: command` steps (`command: <name>`) in a checkout of the run's change, e.g. `test: npm test`; `test` is also what `uses: ci` runs in the CLI and the Action. Never run by the App (DESIGN D15)"),
        env: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name"))
          .max(100)
          .default([])
          .describe("Environment variables passed to the commands although they look secret (tokens, keys, passwords are withheld by default), e.g. DATABASE_URL"),
      })
      .default({ commands: {}, env: [] })
      .describe("Commands that test the run's change in a checkout (the CLI and the Action only)"),
    autofix: z
      .strictObject({
        ci: z
          .boolean()
          .default(false)
          .describe("When CI fails on the branch of a pull request Octoflow opened, start a run (address-review) that fixes it on the same branch"),
        maxRunsPerPullRequest: z.number().int().min(1).max(20).default(2).describe("At most this many CI fix runs per pull request; then Octoflow says so once and stops"),
      })
      .default({ ci: false, maxRunsPerPullRequest: 2 })
      .describe("Fixing Octoflow's own pull requests without being asked (off by default)"),
    instructions: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Give the agents AGENTS.md, CLAUDE.md, .github/copilot-instructions.md and .github/instructions/*.instructions.md (from the default branch)"),
        files: z.array(z.string().min(1).max(500)).max(20).default([]).describe("Further repository files given to every agent as instructions, e.g. docs/CONTRIBUTING.md"),
      })
      .default({ enabled: true, files: [] })
      .describe("Repository instructions for the agents"),
  })
  .describe("Octoflow repository configuration (.github/octoflow.yml)");

export type RepoConfig = z.output<typeof repoConfigSchema>;
export type RepoConfigInput = z.input<typeof repoConfigSchema>;

/** The configuration of a repository without `.github/octoflow.yml`. */
export function defaultRepoConfig(): RepoConfig {
  return repoConfigSchema.parse({});
}

/**
 * Parses `.github/octoflow.yml`. An empty file (or only comments) means all defaults.
 * Throws a ConfigError whose problems read `file:line: key.path: message`.
 *
 * @example
 * const config = parseRepoConfig(await reader.readFile(REPO_CONFIG_PATH, branch) ?? "", REPO_CONFIG_PATH);
 */
export function parseRepoConfig(content: string, file = REPO_CONFIG_PATH): RepoConfig {
  return parseYamlWithSchema(repoConfigSchema, content, file, { emptyValue: {} });
}

/** Templates whose `on:` lists labels and commands (a WorkflowCatalog fits). */
export interface TriggerCatalog {
  list(): readonly { template: { name: string; on: { labels: string[]; commands: string[] } } }[];
}

/**
 * The workflow a label starts, or undefined. Precedence: the config's `labels` map, `octoflow` →
 * `defaultWorkflow`, a template whose `on.labels` lists the label (when a catalog is given), then
 * `octoflow:<name>` → `<name>`.
 *
 * @example
 * workflowForLabel(config, "octoflow:bug", setup.catalog); // "bug-fix" (from bug-fix.yml's on.labels)
 */
export function workflowForLabel(config: RepoConfig, label: string, catalog?: TriggerCatalog): string | undefined {
  const explicit = Object.hasOwn(config.labels, label) ? config.labels[label] : undefined;
  if (explicit) return explicit;
  if (label === "octoflow") return config.defaultWorkflow;
  const declared = catalog?.list().find((entry) => entry.template.on.labels.includes(label));
  if (declared) return declared.template.name;
  const match = /^octoflow:([a-z0-9][a-z0-9._-]{0,63})$/.exec(label);
  return match?.[1];
}

/**
 * The workflow a `/octoflow <command>` starts. Precedence: an alias from the config's `commands`,
 * a template whose `on.commands` lists it (when a catalog is given), then the command as a workflow name.
 *
 * @example
 * workflowForCommand(config, "fix", setup.catalog); // "bug-fix"
 */
export function workflowForCommand(config: RepoConfig, command: string | undefined, catalog?: TriggerCatalog): string {
  if (command === undefined || command === "") return config.defaultWorkflow;
  const alias = Object.hasOwn(config.commands, command) ? config.commands[command] : undefined;
  if (alias) return alias;
  const declared = catalog?.list().find((entry) => entry.template.on.commands.includes(command));
  return declared?.template.name ?? command;
}

/**
 * Checks that every workflow the config names exists; returns one problem line per unknown name.
 */
export function checkRepoConfigWorkflows(config: RepoConfig, known: Iterable<string>, file = REPO_CONFIG_PATH, content?: string): string[] {
  const names = new Set(known);
  const problems: string[] = [];
  let lineOf: ((path: readonly string[]) => number | undefined) | undefined;
  const check = (keys: readonly string[], name: string) => {
    if (names.has(name)) return;
    // the line of the key that names the workflow, when the file's text is at hand
    lineOf ??= content === undefined ? () => undefined : parseYaml(content, file).lineOf;
    problems.push(formatProblem(file, lineOf(keys), keys, `unknown workflow "${name}" (known: ${[...names].sort().join(", ")})`));
  };
  check(["defaultWorkflow"], config.defaultWorkflow);
  check(["review", "workflow"], config.review.workflow);
  for (const [label, name] of Object.entries(config.labels)) check(["labels", label], name);
  for (const [command, name] of Object.entries(config.commands)) check(["commands", command], name);
  return problems;
}
