import { describe, expect, it } from "vitest";
import { describePlan, formatPlanTable, formatPromptSize, formatStepChain } from "../../src/cli/format-plan.ts";
import { githubWebUrl, runLinksOf } from "../../src/cli/web-url.ts";
import { loadBuiltinTemplates } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import type { Trigger } from "../../src/workflows/types.ts";

const trigger: Trigger = {
  kind: "cli",
  repo: { owner: "acme", name: "api", defaultBranch: "main" },
  number: 12,
  isPullRequest: false,
  actor: "octocat",
  inputs: {},
  issue: { title: "Add a health endpoint", body: "x".repeat(2000) },
};
const template = (name: string) => {
  const found = loadBuiltinTemplates().find((t) => t.template.name === name);
  if (!found) throw new Error(name);
  return found.template;
};

describe("format-plan", () => {
  it("shows the DAG of feature-development in dependency levels", () => {
    expect(formatStepChain(planRun(template("feature-development"), trigger))).toBe("analyse → generate → (review, tests, docs) → finalise → verify ×3");
    expect(formatStepChain(planRun(template("bug-fix"), trigger))).toBe("diagnose → fix → regression-test → (review, verify ×3)");
  });

  it("measures each step's prompt rendered with the trigger's data", () => {
    const plan = planRun(template("bug-fix"), trigger);
    const steps = describePlan(plan, trigger, "anthropic:claude-sonnet-4-5");
    const diagnose = steps[0];
    expect(diagnose?.id).toBe("diagnose");
    expect(diagnose?.model).toBe("anthropic:claude-sonnet-4-5");
    // the issue body (2000 characters) is inside the first prompt, fenced
    expect(diagnose?.promptChars).toBeGreaterThan(2000);
    expect(diagnose?.promptTokens).toBe(Math.ceil((diagnose?.promptChars ?? 0) / 4));
    expect(steps[1]?.promptChars).toBeLessThan(1000);
    const table = formatPlanTable(steps).split("\n");
    expect(table[0]).toMatch(/^ {2}STEP\s+ROLE\s+NEEDS\s+MODEL\s+OUTPUT\s+PROMPT$/);
    expect(table[1]).toMatch(/^ {2}diagnose\s+investigator\s+-\s+anthropic:claude-sonnet-4-5\s+none\s+2\.\d kB \(~\d+ tokens\)$/);
    // a CI check runs no model; its fix is an agent step like any other
    expect(table.find((l) => l.trimStart().startsWith("verify-1 "))).toMatch(/^ {2}verify-1\s+ci\s+regression-test\s+-\s+none\s+0 B \(~0 tokens\)$/);
    expect(table.find((l) => l.trimStart().startsWith("verify-fix-1 "))).toMatch(/^ {2}verify-fix-1\s+generate\s+verify-1\s+anthropic:claude-sonnet-4-5\s+pull_request\s+.*if: steps\.verify-1\.status == 'failed'$/);
  });

  it("formats prompt sizes", () => {
    expect(formatPromptSize(999, 250)).toBe("999 B (~250 tokens)");
    expect(formatPromptSize(18_200, 4_550)).toBe("18.2 kB (~4.5k tokens)");
  });
});

describe("web-url", () => {
  it("derives the web URL from GITHUB_SERVER_URL or the API URL", () => {
    expect(githubWebUrl({}, "https://api.github.com")).toBe("https://github.com");
    expect(githubWebUrl({}, "https://ghe.example.com/api/v3")).toBe("https://ghe.example.com");
    expect(githubWebUrl({ GITHUB_SERVER_URL: "https://ghe.corp/" }, "https://ghe.corp/api/v3")).toBe("https://ghe.corp");
  });

  it("links what exists", () => {
    const run = { trigger: { repo: { owner: "acme", name: "api" }, number: 12, isPullRequest: false }, checkRunId: 5, commentId: 6, pullRequestNumber: 13 };
    expect(runLinksOf("https://github.com", run)).toEqual([
      "pull request https://github.com/acme/api/pull/13",
      "check run https://github.com/acme/api/runs/5",
      "comment https://github.com/acme/api/issues/12#issuecomment-6",
    ]);
    expect(runLinksOf("https://github.com", { trigger: run.trigger })).toEqual([]);
    // a review run: the review it posted, before the check run and comment
    const review = { ...run, trigger: { ...run.trigger, isPullRequest: true }, pullRequestNumber: undefined, outputs: { review: { url: "https://github.com/acme/api/pull/12#pullrequestreview-77" } } };
    expect(runLinksOf("https://github.com", { trigger: review.trigger, checkRunId: 5, outputs: review.outputs })).toEqual([
      "review https://github.com/acme/api/pull/12#pullrequestreview-77",
      "check run https://github.com/acme/api/runs/5",
    ]);
  });
});
