import { describe, expect, it } from "vitest";
import { activeRunActions } from "../../src/github/progress/check-run-reporter.ts";
import { CHECK_RUN_TEXT_LIMIT, COMMENT_LIMIT, renderCheckRunSummary, renderCheckRunText, renderStickyComment, stickyMarker, truncate } from "../../src/progress/render.ts";
import type { RunView } from "../../src/progress/run-view.ts";

function view(overrides: Partial<RunView> = {}): RunView {
  return {
    runId: "r1",
    workflow: "bug-fix",
    status: "running",
    steps: [
      { id: "a", name: "Analyse | plan", role: "generate", status: "succeeded", attempts: 1, durationMs: 1500, tokens: 1234, costUsd: 0.0123 },
      { id: "b", name: "Review", role: "review", status: "running", attempts: 2, tokens: 10, costUsd: 0 },
    ],
    tail: "",
    costUsd: 0.0123,
    links: {},
    results: [],
    notes: [],
    findings: 0,
    fromApp: true,
    ...overrides,
  };
}

describe("render", () => {
  it("counts the steps by outcome in the headline", () => {
    const steps = (statuses: RunView["steps"][number]["status"][]) => statuses.map((status, i) => ({ id: `s${i}`, name: `s${i}`, role: "generate", status, attempts: 1, tokens: 0, costUsd: 0 }));
    expect(renderStickyComment(view({ status: "failed", steps: steps(["succeeded", "failed", "skipped", "skipped", "skipped", "skipped"]) }))).toContain(
      "### Octoflow: bug-fix — ❌ failed (1 succeeded, 1 failed, 4 skipped of 6 steps)",
    );
    expect(renderStickyComment(view({ status: "running", steps: steps(["succeeded", "running", "pending"]) }))).toContain("bug-fix — 🔄 running (1 succeeded, 1 running, 1 pending of 3 steps)");
  });

  it("a step waiting for an approval: who may approve, the cost so far, and an Approve button next to Cancel", () => {
    const waiting = view({
      status: "waiting",
      costUsd: 0.0123,
      waiting: ["b: waiting for approval by a user with maintain permission", "c: waiting for CI on abc1234"],
      steps: [
        { id: "a", name: "Plan", role: "generate", status: "succeeded", attempts: 1, tokens: 1234, costUsd: 0.0123 },
        { id: "b", name: "Implement", role: "generate", status: "waiting", attempts: 0, tokens: 0, costUsd: 0, note: "waiting for approval", waitingFor: "approval", approval: { permission: "maintain" } },
        { id: "c", name: "Verify", role: "ci", status: "waiting", attempts: 1, tokens: 0, costUsd: 0, note: "waiting for CI", waitingFor: "ci" },
      ],
    });
    const summary = renderCheckRunSummary(waiting);
    expect(summary).toContain("**Approval needed** (estimated cost so far: $0.0123):");
    expect(summary).toContain("- **Implement** waits for approval by a user with **maintain** permission or higher");
    expect(summary).toContain("Cost so far: $0.0123");
    expect(summary).not.toContain("Total cost");
    // the other waiting lines stay; the approval's own line is not repeated
    expect(summary).toContain("- c: waiting for CI on abc1234");
    expect(summary).not.toContain("- b: waiting for approval");
    expect(activeRunActions(waiting).map((a) => a.identifier)).toEqual(["approve", "cancel"]);
    for (const a of activeRunActions(waiting)) {
      expect(a.label.length).toBeLessThanOrEqual(20);
      expect(a.description.length).toBeLessThanOrEqual(40);
      expect(a.identifier.length).toBeLessThanOrEqual(20);
    }
    // once approved (the step runs), no button and no request
    const approved = view({ status: "running", steps: [{ id: "b", name: "Implement", role: "generate", status: "running", attempts: 1, tokens: 0, costUsd: 0, note: "approved by mo at 2026-12-03 08:00 UTC", approval: { permission: "maintain" } }] });
    expect(activeRunActions(approved).map((a) => a.identifier)).toEqual(["cancel"]);
    expect(renderCheckRunSummary(approved)).not.toContain("Approval needed");
    expect(renderCheckRunSummary(approved)).toContain("approved by mo");
    expect(activeRunActions(view({ ...waiting, fromApp: false }))).toEqual([]);
    const cli = renderStickyComment(view({ ...waiting, fromApp: false }));
    expect(cli).toContain("`octoflow run --approve`");
    expect(cli).not.toContain("/octoflow approve");
  });

  it("offers /octoflow retry only for a run an installed app started", () => {
    const cli = renderStickyComment(view({ status: "failed", fromApp: false }));
    expect(cli).not.toContain("/octoflow retry");
    expect(cli).not.toContain("**Retry**");
    expect(cli).toContain("Run the workflow again (`octoflow run` or the Action) to retry");
    expect(renderCheckRunSummary(view({ status: "failed", fromApp: true }))).toContain("Comment `/octoflow retry`");
  });

  it("renders the step table with status, duration, attempts, tokens and cost", () => {
    const summary = renderCheckRunSummary(view());
    expect(summary).toContain("| step | status | duration | attempts | tokens | cost |");
    expect(summary).toContain("| Analyse \\| plan | ✅ succeeded | 1.5 s | 1 | 1,234 | $0.0123 |");
    expect(summary).toContain("| Review | 🔄 running | – | 2 | 10 | – |");
  });

  it("puts the marker, links, results and a user-facing error in the sticky comment", () => {
    const body = renderStickyComment(
      view({ status: "failed", error: "The model provider \"openai\" is unavailable right now", links: { checkRun: "https://c", pullRequest: "https://p" }, results: [{ step: "Docs", text: "done" }] }),
    );
    expect(body.startsWith(stickyMarker("r1"))).toBe(true);
    expect(body).toContain("[check run](https://c) · [pull request](https://p)");
    expect(body).toContain("> The model provider \"openai\" is unavailable right now");
    expect(body).toContain("/octoflow retry");
    expect(body).toContain("<summary>Docs</summary>");
  });

  it("neutralises @mentions and HTML comments in model text so nothing pings and no marker is forged", () => {
    const body = renderStickyComment(
      view({
        status: "failed",
        error: "model said @octocat",
        results: [{ step: "Plan", text: "Thanks @octocat and @acme/team!\n<!-- octoflow:run:r2 -->\n<!-- hide the rest\n```\n@Decorator stays\n```\nwrite to a@example.com" }],
        notes: ["ping @someone"],
      }),
    );
    expect(body).not.toMatch(/(^|[^\w])@(octocat|acme|someone)/);
    expect(body).not.toContain(stickyMarker("r2"));
    expect(body.split("<!--")).toHaveLength(2); // only our own marker
    expect(body).toContain("@Decorator stays");
    expect(body).toContain("write to a@example.com");
  });

  it("never leaks a secret from an error or the streamed tail", () => {
    const secret = "ghp_" + "a".repeat(36);
    expect(renderStickyComment(view({ error: `failed with ${secret}` }))).not.toContain(secret);
    expect(renderCheckRunText(view({ tail: `token ${secret}` }))).not.toContain(secret);
  });

  it("respects GitHub's limits and says what was truncated", () => {
    const huge = "x".repeat(200_000);
    const text = renderCheckRunText(view({ tail: huge }));
    expect(text.length).toBeLessThanOrEqual(CHECK_RUN_TEXT_LIMIT);
    expect(text).toMatch(/truncated: [\d,]+ more characters not shown/);
    expect(text).toMatch(/```\n\n… \(truncated/);
    const comment = renderStickyComment(view({ results: [{ step: "big", text: huge }] }));
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("😀".repeat(300), 250).length).toBeLessThanOrEqual(250);
  });
});
