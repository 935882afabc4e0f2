/** The check run's final text shows what a step produced in words, not a cut of its streamed JSON. */
import { describe, expect, it } from "vitest";
import { applyEvent, awaitingApproval, createRunView } from "../../src/progress/run-view.ts";
import { renderCheckRunText } from "../../src/progress/render.ts";
import { asRunId, asStepId, type RunRecord } from "../../src/workflows/types.ts";

const runId = asRunId("run-1");
const run: RunRecord = {
  id: runId,
  workflow: "code-review",
  status: "running",
  plan: {
    workflow: "code-review",
    description: "",
    steps: [
      { id: asStepId("review"), name: "review", role: "review", prompt: "p", needs: [], retries: 0, timeoutMs: 1000, output: "review" },
      { id: asStepId("notes"), name: "notes", role: "generate", prompt: "p", needs: [], retries: 0, timeoutMs: 1000, output: "none" },
    ],
    inputs: {},
    concurrency: { group: "g", cancelInProgress: false },
    customRoles: {},
  },
  trigger: { kind: "label", repo: { owner: "o", name: "r", defaultBranch: "main", installationId: 7 }, number: 1, isPullRequest: true, actor: "me", inputs: {} },
  concurrencyKey: "g",
  createdAt: 0,
};
const usage = { inputTokens: 10, outputTokens: 5, cachedTokens: 0 };

describe("run view tail", () => {
  it("replaces a finished step's streamed JSON with its summary, and drops a failed step's fragment", () => {
    const view = createRunView(run);
    expect(view.fromApp).toBe(true);
    applyEvent(view, { type: "step.progress", runId, stepId: asStepId("review"), tokens: 40, tail: '"line": 12, "severity": "mi', at: 1 });
    expect(renderCheckRunText(view)).toContain('"severity": "mi');
    applyEvent(view, { type: "step.finished", runId, stepId: asStepId("review"), status: "succeeded", attempts: 1, durationMs: 5, output: { text: "2 findings: a missing null check in parse()", usage, costUsd: 0 }, at: 2 });
    const text = renderCheckRunText(view);
    expect(text).toContain("Latest output of **review**");
    expect(text).toContain("2 findings: a missing null check in parse()");
    expect(text).not.toContain('"severity"');

    applyEvent(view, { type: "step.progress", runId, stepId: asStepId("notes"), tokens: 3, tail: '{"summary": "Fix', at: 3 });
    applyEvent(view, { type: "step.finished", runId, stepId: asStepId("notes"), status: "failed", attempts: 1, durationMs: 5, error: "invalid JSON", at: 4 });
    expect(renderCheckRunText(view)).toBe("");
  });

  it("knows a CLI or Action run (installation id 0) from an app run", () => {
    expect(createRunView({ ...run, trigger: { ...run.trigger, kind: "cli", repo: { ...run.trigger.repo, installationId: 0 } } }).fromApp).toBe(false);
  });
});

describe("run view of an approval gate", () => {
  const gated: RunRecord = {
    ...run,
    status: "waiting",
    plan: { ...run.plan, steps: run.plan.steps.map((s) => (s.id === "notes" ? { ...s, approval: { permission: "admin" as const } } : s)) },
  };
  const reviewed = { runId, stepId: asStepId("review"), status: "succeeded" as const, attempts: 2, output: { text: "ok", usage, costUsd: 0.002 }, spent: { usage, costUsd: 0.005 } };
  const wait = { reason: "approval" as const, key: "approval:notes", message: "waiting for approval by a user with admin permission", since: 1 };

  it("rebuilt from the store: the waiting gate, its permission, and the cost so far (failed attempts included)", () => {
    const view = createRunView(gated, [reviewed, { runId, stepId: asStepId("notes"), status: "waiting", attempts: 0, waiting: wait }]);
    expect(awaitingApproval(view).map((s) => [s.id, s.approval?.permission, s.note])).toEqual([["notes", "admin", wait.message]]);
    expect(view.costUsd).toBe(0.005);
  });

  it("an approved gate is not awaiting any more and says who approved it, also once its step runs", () => {
    const at = Date.UTC(2026, 11, 3, 8, 5);
    const view = createRunView(gated, [reviewed, { runId, stepId: asStepId("notes"), status: "waiting", attempts: 0, waiting: wait, approval: { by: "mo", at } }]);
    expect(awaitingApproval(view)).toEqual([]);
    applyEvent(view, { type: "step.started", runId, stepId: asStepId("notes"), attempt: 1, at });
    expect(view.steps.find((s) => s.id === "notes")?.note).toBe("approved by mo at 2026-12-03 08:05 UTC");
    // a waiting event marks a step as awaiting; its start clears it
    applyEvent(view, { type: "step.waiting", runId, stepId: asStepId("review"), reason: "approval", message: "waiting", at });
    expect(awaitingApproval(view).map((s) => s.id)).toEqual(["review"]);
    applyEvent(view, { type: "step.started", runId, stepId: asStepId("review"), attempt: 3, at });
    expect(awaitingApproval(view)).toEqual([]);
  });
});
