/**
 * A ProgressSink for the terminal: on a TTY a step table redrawn in place (status, attempts,
 * duration, tokens, cost); otherwise (CI logs, pipes) one plain line per step transition.
 * Streaming progress only moves the table; it never floods a log with lines.
 */
import type { ProgressSink } from "../workflows/ports.ts";
import type { RunEvent, StepStatus } from "../workflows/types.ts";
import { applyEvent, createRunView, type RunView } from "../progress/run-view.ts";
import type { CliOutput } from "./terminal.ts";
import { formatCost as formatCostAs, formatDuration as formatDurationAs } from "../progress/format.ts";

export interface TerminalProgressOptions {
  out: CliOutput;
  /** Force plain lines (`--no-tty`); by default decided by `out.isTTY`. */
  plain?: boolean;
  /** Used to show the running time of running steps and to pace redraws. */
  now?: () => number;
  /** Minimum time between two redraws caused by streaming progress (default 100 ms). */
  redrawIntervalMs?: number;
}

export interface TerminalProgress extends ProgressSink {
  /** Final status once `run.finished` was seen. */
  finalStatus(): (RunEvent & { type: "run.finished" }) | undefined;
  /**
   * Writes text (a log line) above the table: on a terminal the table is erased, the text written and
   * the table drawn again below it, so a warning never lands inside a redraw.
   */
  printAbove(text: string): void;
}

const ICON: Record<StepStatus, string> = {
  pending: "·",
  running: "▸",
  waiting: "…",
  succeeded: "✓",
  failed: "✗",
  skipped: "-",
  cancelled: "⊘",
};

/** Durations and costs in the terminal's compact spelling (`850ms`, `12.3s`, `4m05s`, `$0.30`). */
const formatDuration = (ms: number) => formatDurationAs(ms, { compact: true });
const formatCost = (usd: number) => formatCostAs(usd, { compact: true });

/**
 * Creates the terminal renderer.
 *
 * @example
 * const progress = createTerminalProgress({ out: process.stderr });
 * const core = composeCore({ ..., extraSinks: [progress] }); // beside the check run and sticky comment
 */
export function createTerminalProgress(options: TerminalProgressOptions): TerminalProgress {
  const { out } = options;
  const now = options.now ?? Date.now;
  const tty = options.plain !== true && out.isTTY === true;
  const redrawInterval = options.redrawIntervalMs ?? 100;
  // The same folding of engine events as the GitHub surfaces; the terminal adds a short note per step.
  let view: RunView | undefined;
  const notes = new Map<string, string>();
  let drawnLines = 0;
  let lastDraw = -Infinity;
  let finished: (RunEvent & { type: "run.finished" }) | undefined;

  const line = (text: string) => out.write(`${text}\n`);

  const renderTable = (): string[] => {
    const list = view?.steps ?? [];
    const width = Math.max(4, ...list.map((r) => r.id.length));
    const lines = list.map((r) => {
      const duration = r.durationMs ?? (r.startedAt !== undefined && r.status === "running" ? now() - r.startedAt : undefined);
      const cells = [
        `${ICON[r.status]} ${r.id.padEnd(width)}`,
        r.status.padEnd(9),
        r.attempts > 1 ? `×${r.attempts}` : "  ",
        (duration === undefined ? "" : formatDuration(duration)).padStart(7),
        (r.tokens > 0 ? `${r.tokens.toLocaleString("en-US")} tok` : "").padStart(12),
        r.costUsd > 0 ? formatCost(r.costUsd).padStart(8) : "".padStart(8),
        notes.has(r.id) ? ` ${notes.get(r.id)}` : "",
      ];
      return cells.join("  ").trimEnd();
    });
    if (finished) {
      const s = finished.summary;
      const counts = (["succeeded", "failed", "cancelled", "skipped"] as const)
        .map((status) => [status, list.filter((r) => r.status === status).length] as const)
        .filter(([, n]) => n > 0)
        .map(([status, n]) => `${n} ${status}`);
      lines.push(
        `${finished.status} in ${formatDuration(s.durationMs)} · ${counts.length > 0 ? `${counts.join(", ")} of ` : ""}${s.steps} steps · ` +
          `${(s.usage.inputTokens + s.usage.outputTokens).toLocaleString("en-US")} tokens · ${formatCost(s.costUsd)}` +
          (finished.error ? ` · ${finished.error}` : ""),
      );
    }
    const columns = out.columns && out.columns > 20 ? out.columns - 1 : undefined;
    return columns ? lines.map((l) => (l.length > columns ? `${l.slice(0, columns - 1)}…` : l)) : lines;
  };

  const redraw = () => {
    const lines = renderTable();
    let text = drawnLines > 0 ? `\x1b[${drawnLines}A` : "";
    for (const l of lines) text += `\x1b[2K${l}\n`;
    out.write(text);
    drawnLines = lines.length;
    lastDraw = now();
  };

  const plainLine = (event: RunEvent) => {
    switch (event.type) {
      case "run.started":
        return;
      case "step.started":
        line(`▸ ${event.stepId} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`);
        return;
      case "step.retrying":
        line(`↻ ${event.stepId} failed (${oneLine(event.error)}); retrying in ${formatDuration(event.delayMs)}`);
        return;
      case "step.finished": {
        const row = view?.steps.find((step) => step.id === event.stepId);
        const extras = [formatDuration(event.durationMs)];
        if (row && row.tokens > 0) extras.push(`${row.tokens.toLocaleString("en-US")} tokens`);
        if (row && row.costUsd > 0) extras.push(formatCost(row.costUsd));
        line(`${ICON[event.status]} ${event.stepId} ${event.status} in ${extras.join(" · ")}${event.error ? `: ${oneLine(event.error)}` : ""}`);
        return;
      }
      case "run.finished":
        line(renderTable().at(-1) ?? event.status);
        return;
      case "step.progress":
        return;
    }
  };

  return {
    emit(event, run) {
      view ??= createRunView(run);
      applyEvent(view, event);
      switch (event.type) {
        case "step.started":
          notes.delete(event.stepId);
          break;
        case "step.progress":
          if (event.message) notes.set(event.stepId, oneLine(event.message).slice(0, 60));
          break;
        case "step.retrying":
          notes.set(event.stepId, `retrying: ${oneLine(event.error).slice(0, 50)}`);
          break;
        case "step.finished":
          if (event.error) notes.set(event.stepId, oneLine(event.error).slice(0, 80));
          else notes.delete(event.stepId);
          break;
        case "run.finished":
          finished = event;
          break;
        case "run.started":
          break;
      }
      if (!tty) {
        plainLine(event);
        return;
      }
      if (event.type === "step.progress" && now() - lastDraw < redrawInterval) return;
      redraw();
    },
    finalStatus: () => finished,
    printAbove(text) {
      const body = text.endsWith("\n") ? text : `${text}\n`;
      if (!tty || drawnLines === 0) {
        out.write(body);
        return;
      }
      // up over the table, erase it and everything below, write the text, draw the table afresh
      out.write(`\x1b[${drawnLines}A\x1b[J${body}`);
      drawnLines = 0;
      redraw();
    },
  };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
