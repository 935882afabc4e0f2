/**
 * The template language for steps that run no agent (`uses: ci | command`), approval gates and
 * bounded fix loops: what the schema and the validator accept and refuse (with file, key and line),
 * and how the planner unrolls a loop into rows.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/config-error.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { parseWorkflowTemplate } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { rewriteLoopRefs } from "../../src/workflows/unroll-loop.ts";
import { issueTrigger } from "./fakes/triggers.ts";

function problemsOf(content: string, file = "t.yml"): string[] {
  try {
    parseWorkflowTemplate(content, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the template to be refused");
}

/** A template whose last step is `last` (YAML lines indented as list items of `steps:`). */
const withStep = (last: string) => `name: t
steps:
  - id: generate
    role: generate
    prompt: Do it
${last}`;

const LOOP = withStep(`  - id: verify
    needs: generate
    loop:
      max: 2
      verify: { uses: ci, noChecksAfter: 5m, timeout: 30m }
      fix:
        role: generate
        prompt: |
          CI failed. Fix it.
          {{ steps.verify.output }} ({{ steps.verify.status }}) after {{ steps.generate.output }}
`);

describe("uses: steps", () => {
  it("accept ci and command with defaults: 10m without checks, 1h wait, command test, no retries", () => {
    const template = parseWorkflowTemplate(withStep("  - { id: ci, uses: ci, needs: generate }\n  - { id: test, uses: command, needs: generate, timeout: 20m }\n"), "t.yml");
    expect(template.steps.slice(1)).toEqual([
      { kind: "uses", id: "ci", needs: ["generate"], use: { kind: "ci", noChecksAfterMs: 600_000 }, timeout: 3_600_000 },
      { kind: "uses", id: "test", needs: ["generate"], use: { kind: "command", command: "test" }, timeout: 1_200_000 },
    ]);
    const plan = planRun(template, issueTrigger());
    expect(plan.steps.slice(1)).toEqual([
      { id: "ci", name: "ci", role: "ci", prompt: "", needs: ["generate"], retries: 0, timeoutMs: 3_600_000, output: "none", uses: { kind: "ci", noChecksAfterMs: 600_000 } },
      { id: "test", name: "test", role: "command", prompt: "", needs: ["generate"], retries: 0, timeoutMs: 1_200_000, output: "none", uses: { kind: "command", command: "test" } },
    ]);
  });

  it("refuse agent keys, misplaced options and bad durations, each at its line", () => {
    expect(problemsOf(withStep("  - id: ci\n    uses: ci\n    role: generate\n    prompt: x\n    retries: 1\n"))).toEqual([
      't.yml:8: steps[1].role: a "uses: ci" step runs no agent: remove role (role, prompt, retries, model, output and tools are for agent steps)',
      't.yml:9: steps[1].prompt: a "uses: ci" step runs no agent: remove prompt (role, prompt, retries, model, output and tools are for agent steps)',
      't.yml:10: steps[1].retries: a "uses: ci" step runs no agent: remove retries (role, prompt, retries, model, output and tools are for agent steps)',
    ]);
    expect(problemsOf(withStep("  - id: t\n    uses: command\n    noChecksAfter: 5m\n"))).toEqual(["t.yml:8: steps[1].noChecksAfter: noChecksAfter applies to uses: ci only"]);
    expect(problemsOf(withStep("  - id: t\n    uses: ci\n    command: lint\n"))).toEqual(["t.yml:8: steps[1].command: command applies to uses: command only"]);
    expect(problemsOf(withStep("  - id: t\n    role: generate\n    prompt: x\n    command: lint\n"))).toEqual(["t.yml:9: steps[1].command: command needs uses: command"]);
    expect(problemsOf(withStep("  - id: t\n    uses: ci\n    noChecksAfter: soon\n"))).toEqual([
      't.yml:8: steps[1].noChecksAfter: "soon" is not a duration (use seconds, or e.g. 90s, 10m, 1h30m)',
    ]);
    expect(problemsOf(withStep("  - id: t\n    uses: ci\n    timeout: 7h\n"))).toEqual(["t.yml:8: steps[1].timeout: must be at most 6h"]);
    expect(problemsOf(withStep("  - id: t\n    uses: deploy\n"))[0]).toMatch(/^t\.yml:7: steps\[1\]\.uses: Invalid option: expected one of "ci"\|"command"/);
  });

  it("a step with neither role nor uses nor loop says what it needs", () => {
    expect(problemsOf(withStep("  - id: t\n    needs: generate\n"))).toEqual([
      "t.yml:6: steps[1].role: a step needs role (with prompt), or uses: ci | command, or loop:",
      "t.yml:6: steps[1].prompt: a step needs prompt (with role), or uses: ci | command, or loop:",
    ]);
    expect(problemsOf(withStep("  - id: t\n    role: generate\n"))).toEqual(["t.yml:6: steps[1].prompt: a step needs prompt (with role), or uses: ci | command, or loop:"]);
  });

  it("a custom role may not take the name of a uses kind", () => {
    const text = "name: t\nroles:\n  ci:\n    systemPrompt: x\nsteps:\n  - { id: a, role: ci, prompt: x }\n";
    expect(problemsOf(text)).toEqual(['t.yml:3: roles.ci: "ci" names the uses: ci steps; choose another name for a custom role']);
  });
});

describe("approval", () => {
  it("true means write; an object names the permission; false is no gate; the plan carries it", () => {
    const text = withStep("  - { id: a, role: review, prompt: x, needs: generate, approval: true }\n  - { id: b, uses: ci, needs: a, approval: { permission: admin } }\n  - { id: c, role: docs, prompt: x, needs: a, approval: false }\n");
    const steps = planRun(parseWorkflowTemplate(text, "t.yml"), issueTrigger()).steps;
    expect(steps.map((s) => [s.id, s.approval])).toEqual([["generate", undefined], ["a", { permission: "write" }], ["b", { permission: "admin" }], ["c", undefined]]);
    expect("approval" in (steps[3] ?? {})).toBe(false);
  });

  it("refuses an unknown permission and unknown keys", () => {
    expect(problemsOf(withStep("  - { id: a, role: review, prompt: x, approval: { permission: read } }\n"))[0]).toMatch(/^t\.yml:6: steps\[1\]\.approval\.permission: Invalid option/);
    expect(problemsOf(withStep("  - { id: a, role: review, prompt: x, approval: { who: me } }\n"))).toEqual(["t.yml:6: steps[1].approval.who: unknown key (check the spelling)"]);
  });

  it("the builder's .approval() writes the same template as YAML", () => {
    const built = workflow("t").step({ id: "generate", role: "generate", prompt: "Do it" }).step({ id: "a", role: "review", prompt: "x" }).needs("generate").approval("maintain").build();
    expect(built).toEqual(parseWorkflowTemplate(withStep("  - { id: a, role: review, prompt: x, needs: generate, approval: { permission: maintain } }\n"), "t.yml"));
  });
});

describe("loops: validation", () => {
  it("a valid loop parses with its defaults", () => {
    const step = parseWorkflowTemplate(LOOP, "t.yml").steps[1];
    expect(step).toMatchObject({
      kind: "loop",
      id: "verify",
      loop: { max: 2, verify: { use: { kind: "ci", noChecksAfterMs: 300_000 }, timeout: 1_800_000 }, fix: { role: "generate", output: "pull_request", retries: 2, timeout: 900_000 } },
    });
    const minimal = parseWorkflowTemplate(withStep("  - { id: v, needs: generate, loop: { verify: { uses: command }, fix: { role: generate, prompt: fix } } }\n"), "t.yml").steps[1];
    expect(minimal).toMatchObject({ loop: { max: 3, verify: { use: { kind: "command", command: "test" }, timeout: 3_600_000 } } });
  });

  it("refuses a loop without verify or fix, and max out of range", () => {
    expect(problemsOf(withStep("  - id: v\n    loop:\n      fix: { role: generate, prompt: x }\n"))).toEqual([
      "t.yml:7: steps[1].loop.verify: a loop needs verify: what to check, e.g. { uses: ci }",
    ]);
    expect(problemsOf(withStep("  - id: v\n    loop:\n      verify: { uses: ci }\n"))).toEqual([
      "t.yml:7: steps[1].loop.fix: a loop needs fix: the agent step that repairs a failed check, with role and prompt",
    ]);
    for (const max of [0, 11, 2.5]) {
      expect(problemsOf(withStep(`  - id: v\n    loop:\n      max: ${max}\n      verify: { uses: ci }\n      fix: { role: generate, prompt: x }\n`))[0]).toMatch(/^t\.yml:8: steps\[1\]\.loop\.max: /);
    }
    expect(problemsOf(withStep("  - id: v\n    loop:\n      verify: { uses: ci, noChecksAfter: 10x }\n      fix: { role: generate }\n"))).toEqual([
      't.yml:8: steps[1].loop.verify.noChecksAfter: "10x" is not a duration (use seconds, or e.g. 90s, 10m, 1h30m)',
      "t.yml:9: steps[1].loop.fix.prompt: Invalid input: expected string, received undefined",
    ]);
  });

  it("refuses keys that belong inside the loop, with where to put them", () => {
    expect(problemsOf(withStep("  - id: v\n    role: generate\n    uses: ci\n    approval: true\n    loop:\n      verify: { uses: ci }\n      fix: { role: generate, prompt: x }\n"))).toEqual([
      "t.yml:7: steps[1].role: a loop step has no role of its own: it belongs under loop.fix",
      "t.yml:8: steps[1].uses: a loop step has no uses of its own: it belongs under loop.verify",
      "t.yml:9: steps[1].approval: a loop step has no approval of its own: put approval under loop.fix to ask before each fix",
    ]);
  });

  it("nothing may need a loop; no other step may take a row's id; unknown fix roles are named", () => {
    const text = `${LOOP}  - { id: after, role: docs, prompt: x, needs: [generate, verify] }\n  - { id: verify-2, role: docs, prompt: x }\n  - { id: verify-fix-x, role: docs, prompt: x }\n`;
    expect(problemsOf(text)).toEqual([
      't.yml:16: steps[2].needs[1]: "verify" is a loop; nothing may need it yet',
      't.yml:17: steps[3].id: "verify-2" looks like a row of loop "verify" (verify-1, verify-fix-1, …); choose another id',
    ]);
    expect(problemsOf(withStep("  - id: v\n    loop:\n      verify: { uses: ci }\n      fix: { role: fixer, prompt: x }\n"))).toEqual([
      't.yml:9: steps[1].loop.fix.role: unknown role "fixer" (built-in: generate, review, test, docs; declare custom roles under roles:)',
    ]);
  });

  it("the rows of two loops may not collide, and loops count by their rows against the step limit", () => {
    const two = withStep("  - { id: v, loop: { verify: { uses: ci }, fix: { role: generate, prompt: x } } }\n  - { id: v-fix, loop: { max: 1, verify: { uses: ci }, fix: { role: generate, prompt: x } } }\n");
    expect(problemsOf(two)).toEqual(['t.yml:7: steps[2].id: the rows of loops "v" and "v-fix" would both be called "v-fix-1"; rename one loop']);
    const many = `name: t\nsteps:\n${Array.from({ length: 10 }, (_, i) => `  - { id: l${i}, loop: { max: 10, verify: { uses: ci }, fix: { role: generate, prompt: x } } }\n`).join("")}`;
    expect(problemsOf(many)).toEqual(["t.yml:2: steps: the loops unroll into 210 steps; a workflow may have at most 200"]);
    expect(problemsOf(withStep(`  - { id: ${"l".repeat(60)}, loop: { verify: { uses: ci }, fix: { role: generate, prompt: x } } }\n`))).toEqual([
      "t.yml:6: steps[1].id: a loop id may have at most 56 characters (its rows add -fix-<n>)",
    ]);
  });

  it("fix prompts may read the loop's own id and its upstream, not other steps; the loop's if is checked", () => {
    const text = withStep("  - { id: side, role: docs, prompt: x }\n  - id: v\n    needs: generate\n    if: steps.side.status == 'succeeded'\n    loop:\n      verify: { uses: ci }\n      fix: { role: generate, prompt: '{{ steps.side.output }}' }\n");
    expect(problemsOf(text)).toEqual([
      `t.yml:9: steps[2].if: "steps.side.status": step "side" must be listed in needs (directly or through another step) to be read here`,
      't.yml:12: steps[2].loop.fix.prompt: {{ steps.side.output }}: step "side" must be listed in needs (directly or through another step) to be used here',
    ]);
  });
});

describe("loops: the planner unrolls them", () => {
  const plan = planRun(parseWorkflowTemplate(LOOP.replace("needs: generate", "needs: generate\n    if: inputs.x != 'no'").replace("name: t\n", "name: t\ninputs:\n  x: { default: yes }\n"), "t.yml"), issueTrigger(), { defaultModel: "openai:gpt-4.1" });

  it("into verify-1, verify-fix-1, …, verify-<max+1> with needs, conditions and loop metadata", () => {
    expect(plan.steps.map((s) => [s.id, s.name, s.needs, s.if, s.loop])).toEqual([
      ["generate", "generate", [], undefined, undefined],
      ["verify-1", "Verify (CI) #1", ["generate"], "inputs.x != 'no'", { id: "verify", iteration: 1, max: 2, kind: "verify" }],
      ["verify-fix-1", "Fix CI #1", ["verify-1"], "steps.verify-1.status == 'failed'", { id: "verify", iteration: 1, max: 2, kind: "fix" }],
      ["verify-2", "Verify (CI) #2", ["verify-fix-1"], undefined, { id: "verify", iteration: 2, max: 2, kind: "verify" }],
      ["verify-fix-2", "Fix CI #2", ["verify-2"], "steps.verify-2.status == 'failed'", { id: "verify", iteration: 2, max: 2, kind: "fix" }],
      ["verify-3", "Verify (CI) #3", ["verify-fix-2"], undefined, { id: "verify", iteration: 3, max: 2, kind: "verify" }],
    ]);
  });

  it("verify rows wait for CI; fix rows are agent steps whose prompt reads the verify row they follow", () => {
    expect(plan.steps[3]).toEqual({
      id: "verify-2", name: "Verify (CI) #2", role: "ci", prompt: "", needs: ["verify-fix-1"], retries: 0, timeoutMs: 1_800_000, output: "none",
      uses: { kind: "ci", noChecksAfterMs: 300_000 }, loop: { id: "verify", iteration: 2, max: 2, kind: "verify" },
    });
    expect(plan.steps[4]).toEqual({
      id: "verify-fix-2", name: "Fix CI #2", role: "generate", needs: ["verify-2"], if: "steps.verify-2.status == 'failed'", retries: 2, timeoutMs: 900_000,
      model: "openai:gpt-4.1", output: "pull_request", loop: { id: "verify", iteration: 2, max: 2, kind: "fix" },
      prompt: "CI failed. Fix it.\n{{ steps.verify-2.output }} ({{ steps.verify-2.status }}) after {{ steps.generate.output }}\n",
    });
  });

  it("names, models, output and approval come from the loop's parts; a command loop is named after its command", () => {
    const template = parseWorkflowTemplate(
      withStep(`  - id: check
    name: Run the tests
    needs: generate
    loop:
      max: 1
      verify: { uses: command, command: unit }
      fix: { name: Repair, role: generate, prompt: x, model: "anthropic:claude-sonnet-4-5", output: comment, retries: 0, timeout: 5m, approval: { permission: maintain }, tools: { maxRounds: 5 } }
  - id: again
    loop:
      max: 1
      verify: { uses: command, command: lint }
      fix: { role: generate, prompt: x }
`),
      "t.yml",
    );
    const steps = planRun(template, issueTrigger()).steps;
    expect(steps.map((s) => [s.id, s.name, s.role, s.uses, s.approval])).toEqual([
      ["generate", "generate", "generate", undefined, undefined],
      ["check-1", "Run the tests #1", "command", { kind: "command", command: "unit" }, undefined],
      ["check-fix-1", "Repair #1", "generate", undefined, { permission: "maintain" }],
      ["check-2", "Run the tests #2", "command", { kind: "command", command: "unit" }, undefined],
      ["again-1", "Verify (lint) #1", "command", { kind: "command", command: "lint" }, undefined],
      ["again-fix-1", "Fix lint #1", "generate", undefined, undefined],
      ["again-2", "Verify (lint) #2", "command", { kind: "command", command: "lint" }, undefined],
    ]);
    expect(steps[2]).toMatchObject({ model: "anthropic:claude-sonnet-4-5", output: "comment", retries: 0, timeoutMs: 300_000, toolLimits: { maxRounds: 5 } });
    expect(steps[4]?.needs).toEqual([]);
  });

  it("rewrites only steps.<loop id>.output / .status, in both placeholder forms", () => {
    expect(rewriteLoopRefs("{{steps.v.output}} ${{ steps.v.status }} {{ steps.vv.output }} {{ steps.v.output.x }} {{ issue.title }}", "v", "v-3")).toBe(
      "{{steps.v-3.output}} ${{ steps.v-3.status }} {{ steps.vv.output }} {{ steps.v.output.x }} {{ issue.title }}",
    );
  });

  it("the builder writes the same loop as YAML", () => {
    const built = workflow("t")
      .step({ id: "generate", role: "generate", prompt: "Do it" })
      .step({
        id: "verify",
        needs: "generate",
        loop: { max: 2, verify: { uses: "ci", noChecksAfter: "5m", timeout: "30m" }, fix: { role: "generate", prompt: "CI failed. Fix it.\n{{ steps.verify.output }} ({{ steps.verify.status }}) after {{ steps.generate.output }}\n" } },
      })
      .build();
    expect(built).toEqual(parseWorkflowTemplate(LOOP, "t.yml"));
    expect(() => workflow("t").step({ id: "v", uses: "ci", role: "generate" }).build()).toThrow('workflow("t"): steps[0].role: a "uses: ci" step runs no agent');
  });
});
