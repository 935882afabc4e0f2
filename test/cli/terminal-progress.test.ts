import { describe, expect, it } from "vitest";
import { createTerminalProgress } from "../../src/cli/terminal-progress.ts";
import { formatCost, formatDuration } from "../../src/progress/format.ts";
import { asRunId, asStepId, type PlannedStep, type RunEvent, type RunRecord, type RunSummary } from "../../src/workflows/types.ts";
import { recordingOutput } from "./helpers/recording-io.ts";

const runId = asRunId("run-1");
const step = (id: string, needs: string[] = []): PlannedStep => ({
  id: asStepId(id),
  name: id,
  role: "generate",
  prompt: "p",
  needs: needs.map(asStepId),
  retries: 1,
  timeoutMs: 1000,
  output: "none",
});

const run: RunRecord = {
  id: runId,
  workflow: "wf",
  status: "running",
  plan: { workflow: "wf", description: "", steps: [step("analyse"), step("generate", ["analyse"])], inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} },
  trigger: { kind: "cli", repo: { owner: "o", name: "r", defaultBranch: "main" }, number: 1, isPullRequest: false, actor: "me", inputs: {} },
  concurrencyKey: "o/r#1:wf",
  createdAt: 0,
};

const summary: RunSummary = {
  steps: 2,
  succeeded: 1,
  failed: 1,
  skipped: 0,
  cancelled: 0,
  successRate: 0.5,
  durationMs: 3500,
  criticalPath: [],
  criticalPathMs: 0,
  usage: { inputTokens: 1000, outputTokens: 234, cachedTokens: 0 },
  costUsd: 0.0123,
};

const output = { text: "done", usage: { inputTokens: 1000, outputTokens: 234, cachedTokens: 0 }, costUsd: 0.0123 };

const events: RunEvent[] = [
  { type: "run.started", runId, at: 0 },
  { type: "step.started", runId, stepId: asStepId("analyse"), attempt: 1, at: 0 },
  { type: "step.progress", runId, stepId: asStepId("analyse"), tokens: 10, tail: "…", at: 10 },
  { type: "step.progress", runId, stepId: asStepId("analyse"), tokens: 20, tail: "…", at: 20 },
  { type: "step.finished", runId, stepId: asStepId("analyse"), status: "succeeded", attempts: 1, durationMs: 1500, output, at: 1500 },
  { type: "step.started", runId, stepId: asStepId("generate"), attempt: 1, at: 1500 },
  { type: "step.retrying", runId, stepId: asStepId("generate"), attempt: 1, delayMs: 1000, error: "HTTP 500\nfrom provider", at: 2000 },
  { type: "step.started", runId, stepId: asStepId("generate"), attempt: 2, at: 3000 },
  { type: "step.finished", runId, stepId: asStepId("generate"), status: "failed", attempts: 2, durationMs: 2000, error: "provider said no", at: 3500 },
  { type: "run.finished", runId, status: "failed", at: 3500, summary, error: "step generate failed" },
];

describe("terminal progress", () => {
  it("prints one plain line per transition (no lines for streamed tokens) when not on a TTY", async () => {
    const out = recordingOutput({ isTTY: false });
    const progress = createTerminalProgress({ out });
    for (const event of events) await progress.emit(event, run);
    expect(out.text().split("\n")).toEqual([
      "▸ analyse started",
      "✓ analyse succeeded in 1.5s · 1,234 tokens · $0.01",
      "▸ generate started",
      "↻ generate failed (HTTP 500 from provider); retrying in 1.0s",
      "▸ generate started (attempt 2)",
      "✗ generate failed in 2.0s: provider said no",
      "failed in 3.5s · 1 succeeded, 1 failed of 2 steps · 1,234 tokens · $0.01 · step generate failed",
      "",
    ]);
    expect(out.text()).not.toContain("\x1b[");
    expect(progress.finalStatus()?.status).toBe("failed");
  });

  it("redraws the table in place on a TTY, pacing redraws caused by streamed tokens", async () => {
    const out = recordingOutput({ isTTY: true, columns: 120 });
    let clock = 0;
    const progress = createTerminalProgress({ out, now: () => clock, redrawIntervalMs: 100 });
    const writes: string[] = [];
    for (const event of events) {
      clock = event.at;
      const before = out.text().length;
      await progress.emit(event, run);
      writes.push(out.text().slice(before));
    }
    // progress at t=10 comes 10 ms after the t=0 redraw: skipped; nothing else is skipped.
    expect(writes.filter((w) => w === "")).toHaveLength(2);
    // every redraw after the first moves the cursor back over the previous table
    const redraws = writes.filter((w) => w !== "");
    expect(redraws[0]?.startsWith("\x1b[2K")).toBe(true);
    for (const w of redraws.slice(1, -1)) expect(w.startsWith("\x1b[2A")).toBe(true);
    const last = redraws.at(-1) ?? "";
    expect(last.startsWith("\x1b[2A")).toBe(true);
    const lines = last.slice("\x1b[2A".length).split("\n").map((l) => l.replace("\x1b[2K", ""));
    expect(lines[0]).toMatch(/^✓ analyse\s+succeeded\s+1\.5s\s+1,234 tok\s+\$0\.01$/);
    expect(lines[1]).toMatch(/^✗ generate\s+failed\s+×2\s+2\.0s\s+provider said no$/);
    expect(lines[2]).toBe("failed in 3.5s · 1 succeeded, 1 failed of 2 steps · 1,234 tokens · $0.01 · step generate failed");
  });

  it("writes a log line above the table, then draws the table again below it", async () => {
    const out = recordingOutput({ isTTY: true, columns: 120 });
    const progress = createTerminalProgress({ out, now: () => 0 });
    await progress.emit(events[1] as RunEvent, run); // two rows drawn
    const before = out.text().length;
    progress.printAbove("octoflow: warning: no price configured for openai:gpt-x\n");
    const written = out.text().slice(before);
    // up over the two rows, erase to the end of the screen, the line, then the table without moving up
    expect(written.startsWith("\x1b[2A\x1b[Joctoflow: warning: no price configured for openai:gpt-x\n\x1b[2K▸ analyse")).toBe(true);
    expect(written.split("\x1b[").filter((part) => /^\d+A/.test(part))).toHaveLength(1);
    // the next redraw moves up over the table only, never over the log line
    const next = out.text().length;
    await progress.emit(events[4] as RunEvent, run);
    expect(out.text().slice(next).startsWith("\x1b[2A")).toBe(true);

    const plain = recordingOutput({ isTTY: false });
    const lines = createTerminalProgress({ out: plain });
    lines.printAbove("octoflow: warning: x");
    expect(plain.text()).toBe("octoflow: warning: x\n");
  });

  it("truncates lines to the terminal width", async () => {
    const out = recordingOutput({ isTTY: true, columns: 30 });
    const progress = createTerminalProgress({ out });
    await progress.emit(events[1] as RunEvent, run);
    for (const line of out.text().split("\n").filter(Boolean)) expect(line.replace("\x1b[2K", "").length).toBeLessThanOrEqual(29);
  });

  it("formats durations and costs", () => {
    expect([formatDuration(850, { compact: true }), formatDuration(12_340, { compact: true }), formatDuration(245_000, { compact: true })]).toEqual(["850ms", "12.3s", "4m05s"]);
    // whole seconds are rounded before the minutes are split off
    expect([formatDuration(119_600), formatDuration(59_980), formatDuration(119_600, { compact: true })]).toEqual(["2 m 0 s", "1 m 0 s", "2m00s"]);
    expect([formatCost(0, { compact: true }), formatCost(0.00042, { compact: true }), formatCost(1.5, { compact: true })]).toEqual(["$0", "$0.0004", "$1.50"]);
  });
});
