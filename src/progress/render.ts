/**
 * Markdown rendering of a run for the check run and the sticky comment, within GitHub's limits.
 */
import { neutralizeMarkdown } from "./neutralize-markdown.ts";
import { scrubSecrets } from "../observability/logger.ts";
import type { RunStatus, StepStatus } from "../workflows/types.ts";
import { renderMermaidGraph } from "./mermaid.ts";
import { formatCost, formatDuration } from "./format.ts";
import { awaitingApproval, type RunView } from "./run-view.ts";

/** GitHub's limits: check-run `output.summary` / `output.text` and issue-comment bodies. */
export const CHECK_RUN_TEXT_LIMIT = 65_535;
export const COMMENT_LIMIT = 65_536;

const STATUS_ICON: Record<StepStatus, string> = {
  pending: "⏳ pending",
  running: "🔄 running",
  waiting: "⏸️ waiting",
  succeeded: "✅ succeeded",
  failed: "❌ failed",
  skipped: "⏭️ skipped",
  cancelled: "🚫 cancelled",
};

/** The hidden marker that identifies a run's sticky comment. */
export function stickyMarker(runId: string): string {
  return `<!-- octoflow:run:${runId} -->`;
}

/** Escapes text for a markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ").replace(/</g, "&lt;");
}

/** A step's or run's duration in the GitHub tables (`–` when unknown). */
function duration(ms: number | undefined): string {
  return ms === undefined ? "–" : formatDuration(ms);
}

const cost = (usd: number) => formatCost(usd, { zero: "–" });

/** The step table: status, duration, attempts, tokens, cost. */
export function renderStepTable(view: RunView): string {
  const rows = view.steps.map(
    (s) =>
      `| ${cell(s.name)} | ${STATUS_ICON[s.status]}${s.note ? ` — ${cell(untrusted(s.note)).slice(0, 300)}` : ""} | ${duration(s.durationMs)} | ${s.attempts || "–"} | ${s.tokens ? s.tokens.toLocaleString("en-US") : "–"} | ${cost(s.costUsd)} |`,
  );
  return ["| step | status | duration | attempts | tokens | cost |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

const RUN_STATUS_TEXT = {
  queued: "⏳ queued",
  running: "🔄 running",
  waiting: "⏸️ waiting",
  succeeded: "✅ succeeded",
  failed: "❌ failed",
  cancelled: "🚫 cancelled",
} as const satisfies Record<RunStatus, string>;

const COUNT_ORDER: readonly StepStatus[] = ["succeeded", "failed", "cancelled", "skipped", "running", "waiting", "pending"];

/**
 * One-line headline with the steps counted by outcome, e.g.
 * `bug-fix — ❌ failed (1 succeeded, 1 failed, 4 skipped of 6 steps)`.
 */
export function renderTitle(view: RunView): string {
  const counts = COUNT_ORDER.map((status) => [status, view.steps.filter((s) => s.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  const total = `${view.steps.length} step${view.steps.length === 1 ? "" : "s"}`;
  return `${view.workflow} — ${RUN_STATUS_TEXT[view.status]} (${counts.length > 0 ? `${counts.join(", ")} of ${total}` : total})`;
}

/**
 * What a run parked at an approval gate asks for: which steps wait, for whom, what the run cost so
 * far, and how to approve. Empty when no step waits for an approval.
 *
 * @example
 * renderApprovalRequest(view)
 * // ["**Approval needed** (estimated cost so far: $0.0123):", "", "- **Generate** waits for approval by a user with **maintain** permission or higher", …]
 */
export function renderApprovalRequest(view: RunView): string[] {
  const gates = awaitingApproval(view);
  if (gates.length === 0) return [];
  const how = view.fromApp
    ? "Approve with the check run's **Approve** button or comment `/octoflow approve`; `/octoflow cancel` stops the run."
    : "This run was not started by an installed app, so nothing here can approve it: run it again with `octoflow run --approve`, or start it in the App.";
  return [
    `**Approval needed** (estimated cost so far: ${formatCost(view.costUsd)}):`,
    "",
    ...gates.map((s) => `- **${cell(s.name)}** waits for approval by a user with **${s.approval?.permission ?? "write"}** permission or higher`),
    "",
    how,
  ];
}

/**
 * What a parked run waits for: the approval request, then the other waiting steps' lines (each starts
 * with a blank line). Empty when the run does not wait.
 */
export function renderWaiting(view: RunView): string[] {
  const out: string[] = [];
  const approval = renderApprovalRequest(view);
  if (approval.length > 0) out.push("", ...approval);
  // The waiting lines of the run (`<step>: <what it waits for>`), less those the approval request says.
  const gated = awaitingApproval(view).map((s) => `${s.id}: `);
  const waiting = view.status === "waiting" ? (view.waiting ?? []).filter((w) => !gated.some((prefix) => w.startsWith(prefix))) : [];
  if (waiting.length > 0) {
    out.push("", "**Waiting** (no worker is held; an event or a scheduled check resumes the run; `/octoflow cancel` stops it):", "", ...waiting.map((w) => `- ${cell(untrusted(w))}`));
  }
  return out;
}

function renderProblems(view: RunView): string[] {
  const out = renderWaiting(view);
  if (view.error) out.push("", "**What went wrong:**", "", quote(untrusted(view.error)));
  const failed = view.steps.filter((s) => s.error && (s.status === "failed" || s.status === "running"));
  for (const s of failed) out.push("", `**${cell(s.name)}:** ${cell(untrusted(s.error ?? "").slice(0, 2000))}`);
  if (view.status === "failed") {
    out.push("", view.fromApp ? "Comment `/octoflow retry` (or use the check run's **Retry** button) to re-run the failed steps." : "Run the workflow again (`octoflow run` or the Action) to retry: this run was not started by an installed app.");
  }
  for (const note of view.notes) out.push("", `> [!NOTE]\n> ${cell(untrusted(note))}`);
  return out;
}

/** Text that may come from a model or a user: no secrets, no @mentions, no HTML comments. */
function untrusted(text: string): string {
  return neutralizeMarkdown(scrubSecrets(text));
}

function quote(text: string): string {
  return text
    .slice(0, 4000)
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");
}

/** `Total cost: $0.0123 · wall time 2 m 0 s` once the run finished, `Cost so far: …` while it is active. */
export function renderCostLine(view: RunView): string {
  const label = view.status === "queued" || view.status === "running" || view.status === "waiting" ? "Cost so far" : "Total cost";
  return `${label}: ${cost(view.costUsd)}${view.durationMs === undefined ? "" : ` · wall time ${duration(view.durationMs)}`}`;
}

/** The check run's `output.summary`: the table, totals and problems. */
export function renderCheckRunSummary(view: RunView): string {
  const lines = [renderStepTable(view), "", renderCostLine(view)];
  if (view.links.pullRequest) lines.push("", `Pull request: ${view.links.pullRequest}`);
  if (view.links.review) lines.push("", `Review: ${view.links.review}`);
  lines.push(...renderProblems(view));
  return truncate(lines.join("\n"), CHECK_RUN_TEXT_LIMIT);
}

/** The check run's `output.text`: the live tail of the streaming output. */
export function renderCheckRunText(view: RunView): string {
  if (!view.tail) return "";
  const tail = scrubSecrets(view.tail).replace(/```/g, "ˋˋˋ");
  return truncate(`Latest output${view.tailStep ? ` of **${cell(view.tailStep)}**` : ""}:\n\n\`\`\`\n${tail}\n\`\`\``, CHECK_RUN_TEXT_LIMIT);
}

/** The sticky comment: marker, headline, graph, table, links, results and problems. */
export function renderStickyComment(view: RunView): string {
  const graph = renderMermaidGraph(view.steps);
  const lines = [stickyMarker(view.runId), `### Octoflow: ${renderTitle(view)}`, ...(graph ? ["", graph] : []), "", renderStepTable(view)];
  const links = [
    view.links.checkRun ? `[check run](${view.links.checkRun})` : undefined,
    view.links.pullRequest ? `[pull request](${view.links.pullRequest})` : undefined,
    view.links.review ? `[review](${view.links.review})` : undefined,
  ].filter((l): l is string => l !== undefined);
  if (links.length > 0) lines.push("", links.join(" · "));
  lines.push(...renderProblems(view));
  for (const result of view.results) lines.push("", `<details open><summary>${cell(result.step)}</summary>`, "", untrusted(result.text), "", "</details>");
  return truncate(lines.join("\n"), COMMENT_LIMIT);
}

/** Cuts text to `limit` characters (UTF-16 units), ending with a note saying so. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = Math.max(0, limit - 200);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  const head = text.slice(0, cut);
  const note = `\n\n… (truncated: ${(text.length - cut).toLocaleString("en-US")} more characters not shown)`;
  const openFences = (head.match(/^```/gm) ?? []).length % 2 === 1;
  return `${head}${openFences ? "\n```" : ""}${note}`.slice(0, limit);
}
