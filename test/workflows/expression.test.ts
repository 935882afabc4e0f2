import { describe, expect, it } from "vitest";
import { checkConditionRefs, evaluateCondition, parseCondition, type ConditionScope } from "../../src/workflows/expression.ts";
import { ExpressionError } from "../../src/errors/expression-error.ts";

const scope: ConditionScope = {
  inputs: { docs: "false", count: "3", name: "it's" },
  steps: { generate: { status: "succeeded" }, review: { status: "failed" } },
  trigger: { kind: "pull_request", actor: "octocat" },
  pr: { draft: true, from_fork: false },
};
const run = (source: string) => evaluateCondition(parseCondition(source), scope);

describe("if conditions", () => {
  it("evaluates comparisons, boolean operators, precedence and parentheses", () => {
    expect(run("steps.generate.status == 'succeeded'")).toBe(true);
    expect(run('steps.review.status != "failed"')).toBe(false);
    expect(run("inputs.count == 3")).toBe(true);
    expect(run("inputs.docs")).toBe(false);
    expect(run("!inputs.docs && pr.draft")).toBe(true);
    expect(run("false || true && false")).toBe(false);
    expect(run("(false || true) && !false")).toBe(true);
    expect(run("pr.draft == true && trigger.kind == 'pull_request'")).toBe(true);
    expect(run("!!pr.from_fork")).toBe(false);
    expect(run("inputs.name == \"it's\"")).toBe(true);
    expect(run("${{ trigger.actor == 'octocat' }}")).toBe(true);
    expect(run("inputs.unknown == ''")).toBe(true);
    expect(run("null == ''")).toBe(true);
  });

  it("refuses malformed conditions with the column", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["a ==", /ends too early/],
      ["(a == 'b'", /expected "\)"/],
      ["a = b", /unexpected character "=" at column 3/],
      ["'open", /unterminated string/],
      ["a == b c", /unexpected "c" at column 8/],
      ["process.exit(1)", /unexpected "\(" at column 13/],
      ["x".repeat(501), /longer than 500/],
      [`${"(".repeat(40)}true${")".repeat(40)}`, /deeper than 32/],
      [`${"!".repeat(40)}true`, /deeper than 32/],
    ];
    for (const [source, message] of cases) {
      expect(() => parseCondition(source), source).toThrow(ExpressionError);
      expect(() => parseCondition(source), source).toThrow(message);
    }
  });

  it("checks names against declared inputs and upstream steps", () => {
    const known = { inputs: new Set(["docs"]), upstream: new Set(["generate"]) };
    expect(checkConditionRefs(parseCondition("inputs.docs == 'x' && steps.generate.status == 'failed' && pr.draft"), known)).toEqual([]);
    expect(checkConditionRefs(parseCondition("inputs.nope || steps.later.status == 'x' || env.SECRET || steps.generate.output"), known)).toEqual([
      '"inputs.nope" is not a declared input (declare it under inputs:)',
      '"steps.later.status": step "later" must be listed in needs (directly or through another step) to be read here',
      expect.stringContaining('unknown name "env.SECRET"'),
      expect.stringContaining('unknown name "steps.generate.output"'),
    ]);
  });
});
