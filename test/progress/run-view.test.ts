/** The check run's final text shows what a step produced in words, not a cut of its streamed JSON. */
import { describe, expect, it } from "vitest";
import { applyEvent, createRunView } from "../../src/progress/run-view.ts";
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
