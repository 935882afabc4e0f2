/**
 * The run page's timeline: every attempt of every step (start, end, outcome, error, tokens, cost)
 * and the waits between them (the queue before the run started, the back-off before a retry),
 * rebuilt from the run's stored events. When the events of a step are missing (the store keeps a
 * bounded tail of a long run's events) the step's own record stands in as one attempt.
 */
import type { RunEvent, RunRecord, StepRecord, StepStatus } from "../workflows/types.ts";
import { truncate } from "./run-view.ts";

const MAX_ERROR = 2000;

export interface AttemptView {
  stepId: string;
  attempt: number;
  startedAt: string;
  endedAt?: string;
  /** Up to `endedAt`, or up to now while the attempt runs. */
  durationMs: number;
  /** `retried` when another attempt followed; otherwise how the step ended, or `running`. */
  outcome: "retried" | StepStatus;
  error?: string;
  /** The back-off before the next attempt (measured when it started, else as scheduled). */
  waitMs?: number;
  /** Tokens reported for the attempt (a retried attempt: the last streamed count). */
  tokens: number;
  costUsd: number;
}

export interface TimelineView {
  /** The axis: from the run's creation to its end (or now). */
  startedAt: string;
  endedAt: string;
  /** Time the run waited in the queue before its first step could start. */
  queuedMs?: number;
  attempts: AttemptView[];
}

interface Open {
  attempt: number;
  start: number;
  tokens: number;
}

/**
 * @example
 * const timeline = buildTimeline(run, await store.getSteps(run.id), await store.listEvents(run.id), Date.now());
 */
export function buildTimeline(run: RunRecord, steps: readonly StepRecord[], events: readonly RunEvent[], now: number): TimelineView {
  const byStep = new Map<string, RunEvent[]>();
  for (const e of events) {
    if (!("stepId" in e)) continue;
    const list = byStep.get(e.stepId) ?? [];
    list.push(e);
    byStep.set(e.stepId, list);
  }
  const order = new Map(run.plan.steps.map((s, i) => [String(s.id), i]));
  const records = [...steps].sort((a, b) => (order.get(a.stepId) ?? 1e9) - (order.get(b.stepId) ?? 1e9));
  const attempts = records.flatMap((record) => stepAttempts(record, byStep.get(record.stepId) ?? [], now));

  const runEnd = run.finishedAt ?? (run.status === "running" || run.status === "queued" ? now : undefined);
  const lastAttempt = Math.max(run.createdAt, ...attempts.map((a) => Date.parse(a.startedAt) + a.durationMs));
  return {
    startedAt: new Date(run.createdAt).toISOString(),
    endedAt: new Date(Math.max(runEnd ?? lastAttempt, lastAttempt)).toISOString(),
    ...(run.startedAt === undefined ? {} : { queuedMs: Math.max(0, run.startedAt - run.createdAt) }),
    attempts,
  };
}

function stepAttempts(record: StepRecord, events: readonly RunEvent[], now: number): AttemptView[] {
  const out: AttemptView[] = [];
  let open: Open | undefined;
  const close = (o: Open, end: number, outcome: AttemptView["outcome"], extra: Partial<AttemptView> = {}) => {
    out.push({
      stepId: record.stepId,
      attempt: o.attempt,
      startedAt: iso(o.start),
      endedAt: iso(end),
      durationMs: Math.max(0, end - o.start),
      outcome,
      tokens: o.tokens,
      costUsd: 0,
      ...extra,
    });
  };
  // an attempt whose start fell outside the stored events began at the step's start, at the latest
  const orphan = (attempt: number): Open | undefined =>
    out.length === 0 && record.startedAt !== undefined ? { attempt, start: record.startedAt, tokens: 0 } : undefined;

  for (const e of events) {
    switch (e.type) {
      case "step.started": {
        const previous = out.at(-1);
        if (previous?.outcome === "retried" && previous.endedAt !== undefined) previous.waitMs = Math.max(0, e.at - Date.parse(previous.endedAt));
        open = { attempt: e.attempt, start: e.at, tokens: 0 };
        break;
      }
      case "step.progress":
        if (open) open.tokens = Math.max(open.tokens, e.tokens);
        break;
      case "step.retrying": {
        const o = open ?? orphan(e.attempt);
        if (o) close(o, e.at, "retried", { error: truncate(e.error, MAX_ERROR), waitMs: e.delayMs });
        open = undefined;
        break;
      }
      case "step.finished": {
        const o = open ?? orphan(e.attempts);
        const usage = e.output?.usage;
        if (o) {
          close(o, e.at, e.status, {
            ...(e.error === undefined ? {} : { error: truncate(e.error, MAX_ERROR) }),
            ...(usage ? { tokens: usage.inputTokens + usage.outputTokens, costUsd: round(e.output?.costUsd ?? 0) } : {}),
          });
        }
        open = undefined;
        break;
      }
    }
  }

  if (open) {
    // still running, or its end fell outside the stored events: the record knows how it ended
    if (record.status === "running" || record.finishedAt === undefined) {
      out.push({ stepId: record.stepId, attempt: open.attempt, startedAt: iso(open.start), durationMs: Math.max(0, now - open.start), outcome: "running", tokens: open.tokens, costUsd: 0 });
    } else close(open, record.finishedAt, record.status, fromRecord(record));
  }
  if (out.length === 0 && record.startedAt !== undefined) {
    const end = record.finishedAt ?? (record.status === "running" ? now : record.startedAt);
    out.push({
      stepId: record.stepId,
      attempt: Math.max(1, record.attempts),
      startedAt: iso(record.startedAt),
      ...(record.finishedAt === undefined ? {} : { endedAt: iso(record.finishedAt) }),
      durationMs: Math.max(0, end - record.startedAt),
      outcome: record.status,
      tokens: 0,
      costUsd: 0,
      ...fromRecord(record),
    });
  }
  return out;
}

function fromRecord(record: StepRecord): Partial<AttemptView> {
  const usage = record.output?.usage;
  return {
    ...(record.error === undefined ? {} : { error: truncate(record.error, MAX_ERROR) }),
    ...(usage ? { tokens: usage.inputTokens + usage.outputTokens, costUsd: round(record.output?.costUsd ?? 0) } : {}),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
