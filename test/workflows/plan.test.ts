import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/config-error.ts";
import { parseRepoConfig } from "../../src/config/repo-config.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { parseWorkflowTemplate } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { issueTrigger } from "./fakes/triggers.ts";

const triageYaml = readFileSync(join(import.meta.dirname, "../fixtures/templates/valid/triage.yml"), "utf8");

const triageBuilt = () =>
  workflow("triage")
    .describe("Label and answer new issues")
    .on({ labels: ["octoflow:triage"], commands: ["triage"] })
    .input("tone", { description: "How to answer", default: "friendly" })
    .role("triager", { systemPrompt: "You sort issues into bug, feature or question.", output: "comment", result: "text" })
    .concurrency("triage-{{ repo }}-{{ number }}", { cancelInProgress: true })
    .step({ id: "classify", role: "triager", prompt: "Classify: {{ issue.title }} {{ issue.body }}", timeout: 90 })
    .step({ id: "answer", name: "Answer the reporter", role: "docs", prompt: "Answer in a {{ inputs.tone }} tone. Class: {{ steps.classify.output }}" })
    .needs("classify")
    .if("steps.classify.status == 'succeeded' && inputs.tone != 'silent'")
    .retries(0)
    .timeout("2m30s")
    .model("anthropic:claude-haiku-4-5")
    .output("comment");

describe("builder", () => {
  it("produces the same template and plan as the YAML file", () => {
    const fromYaml = parseWorkflowTemplate(triageYaml, "triage.yml");
    const fromBuilder = triageBuilt().build();
    expect(fromBuilder).toEqual(fromYaml);
    expect(planRun(fromBuilder, issueTrigger())).toEqual(planRun(fromYaml, issueTrigger()));
  });

  it("validates like the loader, naming the key path", () => {
    expect(() => workflow("bad").step({ id: "a", role: "generate", prompt: "x" }).needs("a").build()).toThrow('workflow("bad"): steps[0].needs: step "a" cannot need itself');
    expect(() => workflow("bad").needs("a")).toThrow(/needs a step first/);
    expect(() => workflow("Bad Name").step({ id: "a", role: "generate", prompt: "x" }).build()).toThrow(/name: must be lower-case/);
  });
});

describe("planRun", () => {
  const template = parseWorkflowTemplate(triageYaml, "triage.yml");

  it("resolves steps, outputs, inputs, custom roles and the concurrency group", () => {
    const plan = planRun(template, issueTrigger({ inputs: { tone: "formal" } }));
    expect(plan).toMatchObject({
      workflow: "triage",
      description: "Label and answer new issues",
      inputs: { tone: "formal" },
      concurrency: { group: "triage-acme/widgets-42", cancelInProgress: true },
      customRoles: { triager: { name: "triager", output: "comment", result: "text" } },
    });
    expect(plan.steps).toEqual([
      { id: "classify", name: "classify", role: "triager", prompt: "Classify: {{ issue.title }} {{ issue.body }}", needs: [], retries: 2, timeoutMs: 90_000, output: "comment" },
      {
        id: "answer", name: "Answer the reporter", role: "docs", prompt: "Answer in a {{ inputs.tone }} tone. Class: {{ steps.classify.output }}", needs: ["classify"],
        if: "steps.classify.status == 'succeeded' && inputs.tone != 'silent'", retries: 0, timeoutMs: 150_000, model: "anthropic:claude-haiku-4-5", output: "comment",
      },
    ]);
  });

  it("defaults the concurrency key to owner/name#number:workflow and outputs from the role", () => {
    const plan = planRun(workflow("x").step({ id: "g", role: "generate", prompt: "p" }).step({ id: "r", role: "review", prompt: "p" }).step({ id: "n", role: "test", prompt: "p", output: "none" }).build(), issueTrigger());
    expect(plan.concurrency).toEqual({ group: "acme/widgets#42:x", cancelInProgress: false });
    expect(plan.steps.map((s) => s.output)).toEqual(["pull_request", "review", "none"]);
  });

  it("inserts input values into the concurrency group verbatim (no $& patterns, no second expansion)", () => {
    const template = workflow("scoped").input("scope").concurrency("{{ inputs.scope }}|{{ number }}|{{ workflow }}").step({ id: "a", role: "generate", prompt: "p" }).build();
    const group = (scope: string) => planRun(template, issueTrigger({ inputs: { scope } })).concurrency.group;
    expect(group("api")).toBe("api|42|scoped");
    expect(group("$&-$1-$$")).toBe("$&-$1-$$|42|scoped");
    expect(group("{{ workflow }}")).toBe("{{ workflow }}|42|scoped");
  });

  it("refuses missing required inputs and unknown inputs with a ConfigError", () => {
    const needsInput = workflow("needs-input").input("path", { required: true, description: "file to cover" }).step({ id: "a", role: "test", prompt: "{{ inputs.path }}" }).build();
    expect(() => planRun(needsInput, issueTrigger())).toThrow(ConfigError);
    let problems: string[] = [];
    try {
      planRun(needsInput, issueTrigger({ inputs: { colour: "red" } }));
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    {
      expect(problems).toEqual([
        'input "path" is required (file to cover): add path=<value> to the command',
        'unknown input "colour" for workflow needs-input (known: path)',
      ]);
    }
    expect(planRun(needsInput, issueTrigger({ inputs: { path: "src" } })).inputs).toEqual({ path: "src" });
  });

  it("takes custom roles, models and limits from the repo config", () => {
    const repoConfig = parseRepoConfig(
      "roles:\n  auditor:\n    systemPrompt: audit\n    output: review\n    result: findings\nmodels:\n  roles:\n    auditor: openai:o3\nlimits:\n  maxCostUsdPerRun: 2.5\n  stepConcurrency: 2\n",
    );
    const template = workflow("audit").step({ id: "a", role: "auditor", prompt: "x" }).build({ extraRoles: repoConfig.roles });
    const plan = planRun(template, issueTrigger(), { repoConfig });
    expect(plan.steps[0]).toMatchObject({ role: "auditor", model: "openai:o3", output: "review" });
    expect(plan.limits).toEqual({ maxCostUsdPerRun: 2.5, stepConcurrency: 2 });
    expect(() => planRun(template, issueTrigger())).toThrow('step "a": unknown role "auditor"');
  });
});
