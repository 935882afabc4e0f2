/**
 * The state a progress surface shows for one run, folded from engine events (or rebuilt from the
 * store when a run resumes on another replica).
 */
import { sumUsage } from "../workflows/summarize-run.ts";
import type { ApprovalPermission, RunEvent, RunRecord, RunStatus, StepRecord, StepStatus, StepWait } from "../workflows/types.ts";

export interface StepView {
  id: string;
  name: string;
  role: string;
  /** Ids of the steps this one waits for (from the plan). */
  needs?: string[];
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  durationMs?: number;
  tokens: number;
  costUsd: number;
  error?: string;
  /** What a waiting step waits for, or who approved its gate. */
  note?: string;
  /** Why the step waits, while it is `waiting`. */
  waitingFor?: StepWait["reason"];
  /** The step's approval gate (from the plan): the least permission of who may approve it. */
  approval?: { permission: ApprovalPermission };
}

export interface RunView {
  runId: string;
  workflow: string;
  status: RunStatus;
  steps: StepView[];
  /** The last streamed text, and the step it came from. */
  tail: string;
  tailStep?: string;
  error?: string;
  /** While the run is parked: what it waits for, one line per waiting step. */
  waiting?: string[];
  costUsd: number;
  durationMs?: number;
  links: { checkRun?: string; pullRequest?: string; review?: string };
  /** Texts of `comment`-output steps, shown in the sticky comment. */
  results: { step: string; text: string }[];
  /** Notes about outputs (e.g. an edit that could not be applied). */
  notes: string[];
  /** Review findings the run delivered without a pull request (a review run with findings ends neutral). */
  findings: number;
  /**
   * True when an installed app started the run, so `/octoflow retry` and the check run's buttons reach
   * something. A run of the CLI or the Action (token auth, installation id 0) has no app listening.
   */
  fromApp: boolean;
}

/** A view of a run before any event (all steps pending), or rebuilt from stored step records. */
export function createRunView(run: RunRecord, records: StepRecord[] = []): RunView {
  const byId = new Map(records.map((r) => [String(r.stepId), r]));
  const view: RunView = {
    runId: String(run.id),
    workflow: run.workflow,
    status: run.status,
    steps: run.plan.steps.map((s) => {
      const r = byId.get(String(s.id));
      const usage = r?.output?.usage;
      return {
        id: String(s.id),
        name: s.name || String(s.id),
        role: s.role,
        needs: s.needs.map(String),
        status: r?.status ?? "pending",
        attempts: r?.attempts ?? 0,
        ...(r?.startedAt === undefined ? {} : { startedAt: r.startedAt }),
        ...(r?.startedAt !== undefined && r.finishedAt !== undefined ? { durationMs: r.finishedAt - r.startedAt } : {}),
        tokens: usage ? usage.inputTokens + usage.outputTokens : 0,
        costUsd: r?.output?.costUsd ?? 0,
        ...(r?.error === undefined ? {} : { error: r.error }),
        ...(noteOf(r) === undefined ? {} : { note: noteOf(r) as string }),
        ...(r?.status === "waiting" && r.waiting && !(r.waiting.reason === "approval" && r.approval) ? { waitingFor: r.waiting.reason } : {}),
        ...(s.approval ? { approval: { permission: s.approval.permission } } : {}),
      };
    }),
    ...(run.status === "waiting" && run.waiting ? { waiting: run.waiting.messages } : {}),
    tail: "",
    ...(run.error === undefined ? {} : { error: run.error }),
    // What the steps spent so far, failed attempts included (the run's cost so far while it is active).
    costUsd: sumUsage(records).costUsd,
    links: {},
    results: [],
    notes: [],
    findings: 0,
    fromApp: (run.trigger.repo.installationId ?? 0) > 0,
  };
  return applyOutputsToView(view, run);
}

/**
 * Copies what the run delivered (stored on the run by the engine's finaliser) into the view: links to
 * the pull request and review, comment texts, notes, findings.
 */
export function applyOutputsToView(view: RunView, run: RunRecord): RunView {
  const outputs = run.outputs;
  if (!outputs) return view;
  if (outputs.pullRequest) view.links.pullRequest = outputs.pullRequest.url;
  if (outputs.review) view.links.review = outputs.review.url;
  view.results = outputs.results;
  view.notes = outputs.notes;
  view.findings = outputs.pullRequest ? 0 : outputs.findings;
  return view;
}

/** A step's note: what it waits for, or who approved it. */
function noteOf(record: StepRecord | undefined): string | undefined {
  // An approved gate whose step did not start yet still shows `waiting`: the approval is the news.
  if (record?.approval) return `approved by ${record.approval.by} at ${new Date(record.approval.at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  if (record?.status === "waiting" && record.waiting) return record.waiting.message;
  return undefined;
}

/**
 * The steps of a parked run that wait for an approval (the Approve button and `/octoflow approve`).
 *
 * @example
 * const gates = awaitingApproval(view); // [{ id: "generate", approval: { permission: "maintain" }, … }]
 */
export function awaitingApproval(view: RunView): StepView[] {
  return view.steps.filter((s) => s.status === "waiting" && s.waitingFor === "approval");
}

function stepOf(view: RunView, id: string): StepView {
  let step = view.steps.find((s) => s.id === id);
  if (!step) {
    step = { id, name: id, role: "", status: "pending", attempts: 0, tokens: 0, costUsd: 0 };
    view.steps.push(step);
  }
  return step;
}

/** Folds one engine event into the view (mutates and returns it). */
export function applyEvent(view: RunView, event: RunEvent): RunView {
  switch (event.type) {
    case "run.started":
      view.status = "running";
      delete view.waiting;
      break;
    case "step.waiting": {
      const step = stepOf(view, String(event.stepId));
      step.status = "waiting";
      step.note = event.message;
      step.waitingFor = event.reason;
      break;
    }
    case "run.waiting":
      view.status = "waiting";
      view.waiting = event.messages;
      break;
    case "step.started": {
      const step = stepOf(view, String(event.stepId));
      step.status = "running";
      step.attempts = event.attempt;
      step.startedAt ??= event.at;
      delete step.error;
      delete step.waitingFor;
      if (step.note && !step.note.startsWith("approved by")) delete step.note;
      if (view.status === "queued" || view.status === "waiting") view.status = "running";
      break;
    }
    case "step.progress": {
      const step = stepOf(view, String(event.stepId));
      step.tokens = Math.max(step.tokens, event.tokens);
      view.tail = event.tail;
      view.tailStep = step.name;
      break;
    }
    case "step.retrying": {
      const step = stepOf(view, String(event.stepId));
      step.attempts = event.attempt;
      step.error = event.error;
      break;
    }
    case "step.finished": {
      const step = stepOf(view, String(event.stepId));
      step.status = event.status;
      step.attempts = event.attempts;
      step.durationMs = event.durationMs;
      delete step.waitingFor;
      if (event.output) {
        step.tokens = event.output.usage.inputTokens + event.output.usage.outputTokens;
        step.costUsd = event.output.costUsd;
      }
      // The streamed tail of a finished step is raw model output (for structured roles, a cut of JSON):
      // show the step's own summary instead, or nothing.
      if (event.output?.text.trim()) {
        view.tail = event.output.text.slice(-2000);
        view.tailStep = step.name;
      } else if (view.tailStep === step.name) {
        view.tail = "";
        delete view.tailStep;
      }
      if (event.error === undefined) delete step.error;
      else step.error = event.error;
      break;
    }
    case "run.finished":
      view.status = event.status;
      view.durationMs = event.summary.durationMs;
      view.costUsd = event.summary.costUsd;
      if (event.error !== undefined) view.error = event.error;
      else if (event.status === "succeeded") delete view.error;
      break;
  }
  view.costUsd = Math.max(view.costUsd, view.steps.reduce((sum, s) => sum + s.costUsd, 0));
  return view;
}
