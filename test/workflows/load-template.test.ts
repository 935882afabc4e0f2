import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/config-error.ts";
import { parseYaml, YAML_LIMITS } from "../../src/config/load-yaml.ts";
import { parseDuration } from "../../src/config/template-schema.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { loadBuiltinTemplates, loadWorkflowCatalog, parseWorkflowTemplate } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { issueTrigger } from "./fakes/triggers.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/templates");
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");

/** Parses and returns the problems (fails the test when the template is valid). */
function problemsOf(content: string, file = "t.yml"): string[] {
  try {
    parseWorkflowTemplate(content, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the template to be refused");
}

describe("built-in templates", () => {
  const builtins = loadBuiltinTemplates();
  it("are all valid, and cover the documented workflows", () => {
    expect(builtins.map((b) => b.template.name).sort()).toEqual([
      "address-review", "bug-fix", "code-review", "documentation", "feature-development", "refactor", "security-audit", "test-generation",
    ]);
  });

  it("feature-development is analyse → generate → (review, tests, docs) → finalise → verify loop", () => {
    const feature = builtins.find((b) => b.template.name === "feature-development")?.template;
    expect(feature?.steps.map((s) => [s.id, s.kind, s.needs])).toEqual([
      ["analyse", "agent", []], ["generate", "agent", ["analyse"]], ["review", "agent", ["generate"]], ["tests", "agent", ["generate"]], ["docs", "agent", ["generate"]],
      ["finalise", "agent", ["review", "tests", "docs"]], ["verify", "loop", ["finalise"]],
    ]);
  });

  it("feature-development and bug-fix verify against CI and fix what fails, at most 3 times", () => {
    for (const [name, after] of [["feature-development", "finalise"], ["bug-fix", "regression-test"]] as const) {
      const template = builtins.find((b) => b.template.name === name)?.template;
      const verify = template?.steps.at(-1);
      expect(verify).toMatchObject({ kind: "loop", id: "verify", needs: [after], loop: { max: 3, verify: { use: { kind: "ci", noChecksAfterMs: 600_000 }, timeout: 3_600_000 }, fix: { role: "generate", output: "pull_request" } } });
      const rows = planRun(template!, issueTrigger()).steps.filter((s) => s.loop);
      expect(rows.map((s) => s.name)).toEqual(["Verify (CI) #1", "Fix CI #1", "Verify (CI) #2", "Fix CI #2", "Verify (CI) #3", "Fix CI #3", "Verify (CI) #4"]);
      expect(rows[3]?.prompt).toContain("{{ steps.verify-2.output }}");
    }
    // finalise may be skipped (review or tests failed); the change pushed so far is still checked
    const feature = builtins.find((b) => b.template.name === "feature-development")!.template;
    expect(planRun(feature, issueTrigger()).steps.find((s) => s.id === "verify-1")?.if).toBe("steps.generate.status == 'succeeded' && steps.finalise.status != 'failed'");
  });

  it("security-audit declares its custom role with findings", () => {
    const audit = builtins.find((b) => b.template.name === "security-audit")?.template;
    expect(audit?.roles["security-auditor"]).toMatchObject({ output: "review", result: "findings" });
    const plan = planRun(audit!, issueTrigger());
    expect(plan.steps[0]).toMatchObject({ role: "security-auditor", output: "review" });
    expect(plan.customRoles["security-auditor"]?.result).toBe("findings");
  });
});

describe("fixtures", () => {
  it("valid templates load with defaults applied and durations in ms", () => {
    const triage = parseWorkflowTemplate(fixture("valid/triage.yml"), "triage.yml");
    expect(triage.steps.map((s) => [s.id, s.kind, s.kind === "agent" ? [s.timeout, s.retries] : undefined])).toEqual([["classify", "agent", [90_000, 2]], ["answer", "agent", [150_000, 0]]]);
    expect(parseWorkflowTemplate(fixture("valid/minimal.yml"), "minimal.yml").steps[0]).toMatchObject({ kind: "agent", needs: [], retries: 2, timeout: 900_000 });
  });

  it("names a cycle a → c → b → a, with file and line", () => {
    expect(problemsOf(fixture("malformed/cycle.yml"), "cycle.yml")).toEqual(["cycle.yml:6: steps[0].needs: dependency cycle: a → c → b → a"]);
  });

  it("reports every semantic problem with file, key path and line, in line order", () => {
    expect(problemsOf(fixture("malformed/many-problems.yml"), "many.yml")).toEqual([
      'many.yml:4: steps[0].role: unknown role "generator" (built-in: generate, review, test, docs; declare custom roles under roles:)',
      expect.stringMatching(/^many\.yml:5: steps\[0\]\.prompt: \{\{ issue\.tilte \}\}: unknown variable/),
      'many.yml:5: steps[0].prompt: {{ inputs.missing }}: "missing" is not a declared input',
      'many.yml:5: steps[0].prompt: {{ steps.b.output }}: step "b" must be listed in needs (directly or through another step) to be used here',
      'many.yml:6: steps[1].id: duplicate step id "a" (first used by steps[0])',
      'many.yml:9: steps[1].needs: "ghost" is not a step id in this workflow (steps: a, b)',
      'many.yml:13: steps[2].if: invalid condition: unexpected "&&" at column 13',
    ]);
  });

  it("reports wrong types and unknown keys at their lines", () => {
    const problems = problemsOf(fixture("malformed/wrong-types.yml"), "types.yml");
    expect(problems.map((p) => p.split(": ").slice(0, 2).join(": "))).toEqual([
      "types.yml:1: name", "types.yml:2: description", "types.yml:7: steps[0].retries", "types.yml:8: steps[0].timeout",
      "types.yml:9: steps[0].model", "types.yml:10: steps[0].output", "types.yml:11: steps[0].colour",
    ]);
    expect(problems[6]).toBe("types.yml:11: steps[0].colour: unknown key (check the spelling)");
  });

  it("reports YAML syntax errors and empty files with a line", () => {
    expect(problemsOf(fixture("malformed/syntax.yml"), "syntax.yml")[0]).toMatch(/^syntax\.yml:\d+: /);
    expect(problemsOf(fixture("malformed/empty.yml"), "empty.yml")).toEqual(["empty.yml:1: (root): the file is empty; a workflow needs a name and steps"]);
    expect(problemsOf("name: x\nname: y\nsteps: []\n", "dup.yml")[0]).toBe('dup.yml:2: duplicate key "name" (map keys must be unique)');
  });

  it("treats template expressions as data: no code runs, the names are refused", () => {
    const problems = problemsOf(fixture("hostile/prompt-injection.yml"), "inject.yml");
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toContain("unknown variable");
    expect(problems.join("\n")).toContain('steps[1].if: invalid condition: unexpected "(" at column 13');
  });
});

describe("hostile input is refused quickly with a clear error", () => {
  it("alias bomb", () => {
    expect(problemsOf(fixture("hostile/alias-bomb.yml"), "bomb.yml")).toEqual(["bomb.yml:1: (root): YAML aliases expand too much (alias bomb refused)"]);
    const manyAliases = `name: x\na: &a 1\nlist: [${Array.from({ length: 500 }, () => "*a").join(", ")}]\nsteps: []\n`;
    expect(problemsOf(manyAliases, "aliases.yml")[0]).toMatch(/aliases/);
  });

  it("100k steps (compact enough to fit the size limit, and as a value)", () => {
    const step = "- {id: s, role: generate, prompt: x}\n";
    const huge = `name: big\nsteps:\n${step.repeat(100_000)}`;
    expect(problemsOf(huge, "big.yml")).toEqual([expect.stringMatching(/^big\.yml:1: \(root\): file is 3\.\d MB; the limit is 1 MB$/)]);
    const flow = `name: big\nsteps: [${Array.from({ length: 3000 }, (_, i) => `{id: s${i}}`).join(",")}]\n`;
    expect(problemsOf(flow, "flow.yml")).toEqual(["flow.yml:2: steps: 3000 steps; a workflow may have at most 200"]);
    const flowNodes = `name: big\nsteps: [${Array.from({ length: 30_000 }, (_, i) => `{id: s${i}}`).join(",")}]\n`;
    expect(flowNodes.length).toBeLessThan(YAML_LIMITS.maxBytes);
    expect(problemsOf(flowNodes, "flow.yml")).toEqual(["flow.yml:2: (root): more than 10,000 YAML nodes (keys, values and list items); the limit is 10,000"]);
    const built = workflow("big");
    for (let i = 0; i < 100_000; i++) built.step({ id: `s${i}`, role: "generate", prompt: "x" });
    expect(() => built.build()).toThrow(/100000 steps; a workflow may have at most 200/);
  });

  it("10 MB string", () => {
    const big = `name: x\nsteps:\n  - id: a\n    role: generate\n    prompt: "${"A".repeat(10_000_000)}"\n`;
    expect(problemsOf(big, "big.yml")).toEqual(["big.yml:1: (root): file is 10.0 MB; the limit is 1 MB"]);
    const longPrompt = `name: x\nsteps:\n  - id: a\n    role: generate\n    prompt: "${"A".repeat(50_000)}"\n`;
    expect(problemsOf(longPrompt, "long.yml")[0]).toMatch(/^long\.yml:5: steps\[0\]\.prompt: Too big: expected string to have <=20000 characters/);
  });

  it("deep nesting, flow and block", () => {
    const flow = `name: x\nsteps: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
    expect(problemsOf(flow, "deep.yml")).toEqual(["deep.yml:2: (root): nesting deeper than 64 levels is not accepted"]);
    const quoteTrick = `name: x\nsteps: [it's, ${"[".repeat(100_000)}${"]".repeat(100_000)}]\n`;
    expect(problemsOf(quoteTrick, "quote.yml")).toEqual(["quote.yml:2: (root): nesting deeper than 64 levels is not accepted"]);
    const compact = `name: x\nsteps:\n${"- ".repeat(5000)}x\n`;
    expect(problemsOf(compact, "compact.yml")).toEqual(["compact.yml:3: (root): nesting deeper than 400 columns of indentation is not accepted"]);
    let block = "name: x\nsteps:\n";
    for (let i = 0; i < 1000; i++) block += `${" ".repeat(i + 1)}k${i}:\n`;
    expect(problemsOf(block, "block.yml")[0]).toMatch(/^block\.yml:\d+: \(root\): nesting deeper than 400 columns of indentation is not accepted$/);
  });
});

describe("YAML tags and documents", () => {
  it("unknown tags are an error at their line, not a string", () => {
    const base = "name: x\nsteps:\n  - id: a\n    role: generate\n";
    expect(problemsOf(`${base}    prompt: !!js/function 'function () { return 1 }'\n`, "fn.yml")).toEqual([
      "fn.yml:5: unknown YAML tag !!js/function: tags are not accepted, write plain data",
    ]);
    expect(problemsOf(`${base}    prompt: !!js/regexp /x+/\n`, "re.yml")).toEqual(["re.yml:5: unknown YAML tag !!js/regexp: tags are not accepted, write plain data"]);
    expect(problemsOf(`name: !!python/object/apply:os.system ["id"]\nsteps: []\n`, "py.yml")).toEqual([
      "py.yml:1: unknown YAML tag !!python/object/apply:os.system: tags are not accepted, write plain data",
    ]);
    expect(problemsOf(`${base}    prompt: !secret {a: 1}\n`, "custom.yml")).toEqual(["custom.yml:5: unknown YAML tag !secret: tags are not accepted, write plain data"]);
  });

  it("the standard tags still work, and a second document is refused", () => {
    expect(parseYaml("a: !!str 1\nb: !!int '2'\n", "std.yml").value).toEqual({ a: "1", b: 2 });
    expect(problemsOf("name: x\nsteps: []\n---\nname: y\n", "two.yml")).toEqual(["two.yml:3: only one YAML document per file is accepted (found a second one after ---)"]);
  });
});

describe("catalog", () => {
  const builtins = loadBuiltinTemplates();
  it("repository templates add to and override built-ins by name", () => {
    const catalog = loadWorkflowCatalog(builtins, [
      { path: ".github/octoflow/workflows/triage.yml", content: fixture("valid/triage.yml") },
      { path: ".github/octoflow/workflows/review.yml", content: "name: code-review\nsteps:\n  - id: r\n    role: review\n    prompt: short review\n" },
      { path: ".github/octoflow/workflows/README.md", content: "# not a template" },
    ]);
    expect(catalog.names()).toContain("triage");
    expect(catalog.get("code-review")).toMatchObject({ source: ".github/octoflow/workflows/review.yml" });
    expect(catalog.get("code-review")?.template.steps).toHaveLength(1);
    expect(catalog.get("bug-fix")?.source).toBe("builtin:bug-fix.yml");
  });

  it("lists the problems of every invalid repository file, and duplicates", () => {
    expect(() =>
      loadWorkflowCatalog(builtins, [
        { path: ".github/octoflow/workflows/a.yml", content: fixture("malformed/cycle.yml") },
        { path: ".github/octoflow/workflows/b.yml", content: fixture("valid/minimal.yml") },
        { path: ".github/octoflow/workflows/c.yml", content: fixture("valid/minimal.yml") },
      ]),
    ).toThrow(ConfigError);
    let problems: string[] = [];
    try {
      loadWorkflowCatalog(builtins, [
        { path: ".github/octoflow/workflows/a.yml", content: fixture("malformed/cycle.yml") },
        { path: ".github/octoflow/workflows/b.yml", content: fixture("valid/minimal.yml") },
        { path: ".github/octoflow/workflows/c.yml", content: fixture("valid/minimal.yml") },
      ]);
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    {
      expect(problems).toEqual([
        ".github/octoflow/workflows/a.yml:6: steps[0].needs: dependency cycle: a → c → b → a",
        '.github/octoflow/workflows/c.yml: name: workflow "minimal" is also defined in .github/octoflow/workflows/b.yml',
      ]);
    }
  });

  it("custom roles from the repo config satisfy templates", () => {
    const content = "name: uses-repo-role\nsteps:\n  - id: a\n    role: auditor\n    prompt: x\n";
    expect(() => loadWorkflowCatalog([], [{ path: "w.yml", content }])).toThrow(/unknown role "auditor"/);
    const catalog = loadWorkflowCatalog([], [{ path: "w.yml", content }], { extraRoles: { auditor: { systemPrompt: "audit", output: "review", result: "findings" } } });
    expect(catalog.get("uses-repo-role")).toBeDefined();
  });
});

describe("durations", () => {
  it("parses seconds and unit strings, refuses nonsense", () => {
    expect([parseDuration(600), parseDuration("90s"), parseDuration("10m"), parseDuration("1h30m"), parseDuration("500ms"), parseDuration("45")]).toEqual([
      600_000, 90_000, 600_000, 5_400_000, 500, 45_000,
    ]);
    for (const bad of ["", "soon", "10x", "-5", "0", "m", "0.0001", 0.0004, Number.POSITIVE_INFINITY]) expect(parseDuration(bad), String(bad)).toBeUndefined();
    expect(problemsOf("name: x\nsteps:\n  - id: a\n    role: generate\n    prompt: x\n    timeout: 7h\n")).toEqual(["t.yml:6: steps[0].timeout: must be at most 6h"]);
  });
});
