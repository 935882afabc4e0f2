import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/config-error.ts";
import { YAML_LIMITS } from "../../src/config/load-yaml.ts";
import { checkRepoConfigWorkflows, defaultRepoConfig, parseRepoConfig, workflowForCommand, workflowForLabel } from "../../src/config/repo-config.ts";

describe(".github/octoflow.yml", () => {
  it("an empty or comment-only file means all defaults", () => {
    expect(parseRepoConfig("")).toEqual(defaultRepoConfig());
    expect(parseRepoConfig("# nothing yet\n")).toEqual(defaultRepoConfig());
    expect(defaultRepoConfig()).toMatchObject({
      defaultWorkflow: "feature-development",
      review: { auto: true, workflow: "code-review", skipDrafts: true, paths: { include: [], exclude: [] } },
      trust: { minPermission: "write", allowBots: [] },
      models: { roles: {} },
      limits: {},
    });
  });

  it("parses a full config", () => {
    const config = parseRepoConfig(`
defaultWorkflow: bug-fix
labels:
  needs-tests: test-generation
commands:
  fix: bug-fix
review:
  auto: false
  paths:
    include: ["src/**"]
    exclude: ["**/*.snap"]
  maxFiles: 20
trust:
  minPermission: maintain
  allowBots: ["renovate[bot]"]
models:
  default: openai:gpt-4.1
  roles:
    review: anthropic:claude-sonnet-4-5
limits:
  maxTokensPerRun: 200000
prices:
  "openai-compatible:llama3":
    inputPerMTok: 0
    outputPerMTok: 0
`);
    expect(config.review).toEqual({ auto: false, workflow: "code-review", skipDrafts: true, paths: { include: ["src/**"], exclude: ["**/*.snap"] }, maxFiles: 20, maxChangedLines: 5000 });
    expect(config.prices["openai-compatible:llama3"]).toEqual({ inputPerMTok: 0, outputPerMTok: 0, cachedPerMTok: 0 });
    expect(workflowForLabel(config, "octoflow")).toBe("bug-fix");
    expect(workflowForLabel(config, "octoflow:refactor")).toBe("refactor");
    expect(workflowForLabel(config, "needs-tests")).toBe("test-generation");
    expect(workflowForLabel(config, "bug")).toBeUndefined();
    expect(workflowForCommand(config, "fix")).toBe("bug-fix");
    expect(workflowForCommand(config, "review")).toBe("review");
    expect(workflowForCommand(config, undefined)).toBe("bug-fix");
  });

  it("errors name the file, the key path and the line", () => {
    try {
      parseRepoConfig("trust:\n  minPermission: triage\nreview:\n  auto: sometimes\n  maxfiles: 3\nmodels:\n  roles:\n    review: gpt4\n", ".github/octoflow.yml");
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        '.github/octoflow.yml:2: trust.minPermission: Invalid option: expected one of "write"|"maintain"|"admin"',
        ".github/octoflow.yml:4: review.auto: Invalid input: expected boolean, received string",
        ".github/octoflow.yml:5: review.maxfiles: unknown key (check the spelling)",
        expect.stringMatching(/^\.github\/octoflow\.yml:8: models\.roles\.review: must be <provider>:<model>/),
      ]);
    }
  });

  it("checks that named workflows exist", () => {
    const config = parseRepoConfig("labels:\n  x: nope\ncommands:\n  go: feature-development\n");
    expect(checkRepoConfigWorkflows(config, ["feature-development", "code-review"])).toEqual([
      '.github/octoflow.yml: labels.x: unknown workflow "nope" (known: code-review, feature-development)',
    ]);
  });
});

describe("trigger resolution with the catalog", () => {
  it("uses templates' on.labels and on.commands after the config's own maps", async () => {
    const { loadBuiltinTemplates, loadWorkflowCatalog } = await import("../../src/workflows/load-template.ts");
    const catalog = loadWorkflowCatalog(loadBuiltinTemplates(), []);
    const config = parseRepoConfig("commands:\n  fix: refactor\n");
    expect(workflowForLabel(config, "octoflow:bug", catalog)).toBe("bug-fix");
    expect(workflowForLabel(config, "octoflow:bug")).toBe("bug");
    expect(workflowForLabel(config, "octoflow", catalog)).toBe("feature-development");
    expect(workflowForCommand(config, "security", catalog)).toBe("security-audit");
    expect(workflowForCommand(config, "fix", catalog)).toBe("refactor");
    expect(workflowForCommand(config, "code-review", catalog)).toBe("code-review");
    expect(workflowForLabel(config, "constructor", catalog)).toBeUndefined();
  });
});

describe("hostile configs are refused with a message naming the limit", () => {
  const problemsOf = (content: string): string[] => {
    try {
      parseRepoConfig(content);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error("expected the config to be refused");
  };
  const topLevelKeys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: v\n`).join("");

  it.each([20_000, 40_000, 100_000])("%i top-level keys (under the size limit): the node limit", (n) => {
    const content = topLevelKeys(n);
    expect(Buffer.byteLength(content)).toBeLessThan(YAML_LIMITS.maxBytes);
    // 10,000 nodes are 5,000 key/value pairs: the limit is hit while line 5,001 is tokenised
    expect(problemsOf(content)).toEqual([".github/octoflow.yml:5001: (root): more than 10,000 YAML nodes (keys, values and list items); the limit is 10,000"]);
  });

  it("a mapping past the per-mapping key limit, nested or at the root", () => {
    expect(problemsOf(topLevelKeys(1500))).toEqual([".github/octoflow.yml:1001: a mapping with 1,500 keys; the limit is 1,000 keys per mapping"]);
    const labels = `labels:\n${Array.from({ length: 1200 }, (_, i) => `  l${i}: bug-fix\n`).join("")}`;
    expect(problemsOf(labels)).toEqual([".github/octoflow.yml:1002: a mapping with 1,200 keys; the limit is 1,000 keys per mapping"]);
  });

  it("unknown keys at the limit are reported one per line, capped, with the count of the rest", () => {
    const problems = problemsOf(topLevelKeys(900));
    expect(problems).toHaveLength(YAML_LIMITS.maxProblems + 1);
    expect(problems[0]).toBe(".github/octoflow.yml:1: k0: unknown key (check the spelling)");
    expect(problems.at(-1)).toBe(".github/octoflow.yml: … and 850 more problems");
  });

  it("duplicate keys and unknown tags", () => {
    expect(problemsOf("trust:\n  minPermission: write\ntrust: {}\n")).toEqual(['.github/octoflow.yml:3: duplicate key "trust" (map keys must be unique)']);
    expect(problemsOf("defaultWorkflow: !!js/function 'function () {}'\n")).toEqual([
      ".github/octoflow.yml:1: unknown YAML tag !!js/function: tags are not accepted, write plain data",
    ]);
  });
});
