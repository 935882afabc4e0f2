/**
 * `octoflow replay <event> <payload.json>`: feeds a saved webhook payload through the app's own
 * handlers and prints what the app would do — the trigger, the configuration it would read, the
 * trust-gate decision, the workflow and its steps, and every write it would make — writing nothing.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Env } from "../../config/env.ts";
import { parseCommand } from "../../github/command-parser.ts";
import { scrubSecrets } from "../../observability/logger.ts";
import { loadBuiltinTemplates } from "../../workflows/load-template.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";
import { createCliLogger } from "../cli-logger.ts";
import { asGitHubClient } from "../cli-runtime.ts";
import { githubApiUrl } from "../create-rest-client.ts";
import { dispatchWebhook, type DispatchOutcome } from "../dispatch-webhook.ts";
import { EXIT } from "../exit-codes.ts";
import { describePlan, formatPlanTable, formatStepChain, type PlannedStepView } from "../format-plan.ts";
import { cliEnvSource, loadCliEnv } from "../load-cli-env.ts";
import { createReplayClient, type InterceptedWrite } from "../replay-client.ts";
import { createReplayDeps, type ReplayFacts } from "../replay-deps.ts";
import { UsageError } from "../../errors/usage-error.ts";
import { checkEventPayload } from "../webhook-event-check.ts";
import { NeedsTokenError } from "../../errors/needs-token-error.ts";

export const REPLAY_USAGE = "usage: octoflow replay <event> <payload.json> [--json]";

export type ReplayDecision =
  | { kind: "start"; text: string }
  | { kind: "control"; text: string }
  | { kind: "refused"; text: string }
  | { kind: "answer"; text: string }
  | { kind: "ignored"; text: string }
  | { kind: "needs-token"; text: string }
  | { kind: "error"; text: string };

export interface ReplayReport {
  event: string;
  file: string;
  target?: string;
  sender?: string;
  config?: string;
  gate: string;
  writes: { method: string; path: string; summary: string }[];
  reads: string[];
  decision: ReplayDecision;
  runs: { workflow: string; target: string; actor: string; kind: string; chain: string; steps: PlannedStepView[] }[];
}

interface Parsed {
  event: string;
  file: string;
  json: boolean;
  payload: Record<string, unknown>;
}

function parseReplayArgs(args: string[], cwd: string): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: "boolean", default: false } } });
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split("\n")[0] ?? "") : "invalid arguments", REPLAY_USAGE);
  }
  const [event, file, extra] = parsed.positionals;
  if (event === undefined || file === undefined) throw new UsageError("give the event name and the payload file", REPLAY_USAGE);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, REPLAY_USAGE);
  if (!/^[a-z_]{1,64}$/.test(event)) throw new UsageError(`"${event}" is not a webhook event name (e.g. issues, issue_comment, pull_request)`, REPLAY_USAGE);
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`, REPLAY_USAGE);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON (save the delivery's payload, not its headers)`, REPLAY_USAGE);
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new UsageError(`${file} does not hold a webhook payload object`, REPLAY_USAGE);
  const mismatch = checkEventPayload(event, payload as Record<string, unknown>);
  if (mismatch) throw new UsageError(`${file}: ${mismatch}`, REPLAY_USAGE);
  return { event, file, json: parsed.values.json, payload: payload as Record<string, unknown> };
}

function describeTarget(payload: Record<string, unknown>): { target?: string; sender?: string } {
  const repository = payload.repository as { full_name?: string } | undefined;
  const item = (payload.issue ?? payload.pull_request) as { number?: number; pull_request?: unknown } | undefined;
  const sender = payload.sender as { login?: string; type?: string } | undefined;
  const kind = payload.pull_request || item?.pull_request ? "pull request" : payload.issue ? "issue" : undefined;
  return {
    ...(repository?.full_name ? { target: `${repository.full_name}${item?.number !== undefined ? `#${item.number}${kind ? ` (${kind})` : ""}` : ""}` } : {}),
    ...(sender?.login ? { sender: `${sender.login}${sender.type ? ` (${sender.type})` : ""}` } : {}),
  };
}

function summarizeWrite(write: InterceptedWrite): string {
  const body = write.body;
  if (typeof body.body === "string") return `"${oneLine(body.body).slice(0, 140)}"`;
  if (typeof body.content === "string") return `reaction ${body.content}`;
  const fields = Object.keys(body).slice(0, 6).join(", ");
  return fields ? `{ ${fields} }` : "";
}

function gateText(facts: ReplayFacts): string {
  const gate = facts.gate;
  if (!gate) return "not reached";
  if (gate.kind === "not-checked") return `not checked (${gate.reason})`;
  const d = gate.decision;
  if (d.allowed) return d.permission === "bot" ? `allowed: ${gate.actor} is an allow-listed bot` : `allowed: ${gate.actor} has ${d.permission} access`;
  if (d.reason === "bot") return `refused: ${gate.actor} is a bot that is not in trust.allowBots`;
  return `refused: ${gate.actor} has ${d.permission} access, ${d.required} is required`;
}

function configText(facts: ReplayFacts): string | undefined {
  const c = facts.config;
  if (!c) return undefined;
  if (c.kind === "repository") return `.github/octoflow.yml and workflows from ${c.branch}`;
  if (c.kind === "defaults") return `built-in defaults (${c.reason})`;
  return `invalid: ${c.problems.join("; ")}`;
}

function ignoredHint(key: string, payload: Record<string, unknown>): string {
  if (key.endsWith(".labeled")) {
    const label = (payload.label as { name?: string } | undefined)?.name ?? "";
    return `label "${label}" does not start a workflow (octoflow, octoflow:<workflow>, or labels: in .github/octoflow.yml)`;
  }
  if (key === "issue_comment.created") {
    const body = (payload.comment as { body?: string } | undefined)?.body ?? "";
    return parseCommand(body) ? "the command changed nothing" : "the comment holds no /octoflow command (quoted text and code blocks do not count)";
  }
  if (key.startsWith("pull_request.")) return "no automatic review: closed, draft (review.skipDrafts), a bot, path filters, or review.auto is off";
  if (key.startsWith("check_run.")) return "the check run belongs to no run in the store replay starts with (an empty one), or was not created by Octoflow";
  return "nothing in this event starts a run";
}

function decide(outcome: DispatchOutcome, facts: ReplayFacts, writes: InterceptedWrite[], payload: Record<string, unknown>): ReplayDecision {
  if (outcome.kind === "not-subscribed") return { kind: "ignored", text: `ignored: Octoflow does not subscribe to ${outcome.key.split(".")[0]} events` };
  if (outcome.kind === "no-handler") return { kind: "ignored", text: `ignored: Octoflow does not act on ${outcome.key}` };
  if (facts.started.length > 0) {
    return { kind: "start", text: facts.started.map((s) => `would start ${s.plan.workflow} on ${s.trigger.repo.owner}/${s.trigger.repo.name}#${s.trigger.number}`).join("; ") };
  }
  if (facts.control.length > 0) return { kind: "control", text: `would ${facts.control.join("; ")}` };
  if (facts.gate?.kind === "decided" && !facts.gate.decision.allowed) return { kind: "refused", text: `would not start a run: ${gateText(facts)}` };
  if (writes.length > 0) return { kind: "answer", text: "would answer on the thread without starting a run" };
  return { kind: "ignored", text: `ignored: ${ignoredHint(outcome.key, payload)}` };
}

/**
 * Replays one saved payload; resolves to the exit code (0 whenever a decision was reached).
 *
 * @example
 * await replayWebhook(["issue_comment", "delivery.json"], processIo());
 */
export async function replayWebhook(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  let baseUrl: string;
  let env: Env;
  const source = cliEnvSource(io);
  try {
    parsed = parseReplayArgs(argv, io.cwd);
    baseUrl = githubApiUrl(source);
    env = loadCliEnv(io);
  } catch (error) {
    // Bad arguments, an unreadable payload, an invalid GITHUB_API_URL or environment (ConfigError).
    if (error instanceof Error) {
      const usage = error instanceof UsageError ? error.usage : REPLAY_USAGE;
      io.stderr(`${usage}\noctoflow replay: ${scrubSecrets(error.message)}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const token = source.GITHUB_TOKEN ?? source.GH_TOKEN;
  const client = createReplayClient({ ...(token ? { token } : {}), baseUrl });
  const log = createCliLogger(io.stderr, io.env.LOG_LEVEL ?? "error");
  const octokit = asGitHubClient(client.octokit);
  const replay = await createReplayDeps({ env, clients: { forInstallation: async () => octokit }, builtins: loadBuiltinTemplates(), log, withToken: Boolean(token) });
  const { facts } = replay;

  let decision: ReplayDecision;
  try {
    const outcome = await dispatchWebhook(replay.deps, { name: parsed.event, id: "replay", payload: parsed.payload }, octokit, log);
    decision = decide(outcome, facts, client.writes, parsed.payload);
  } catch (error) {
    if (error instanceof NeedsTokenError) decision = { kind: "needs-token", text: `undecided: ${error.message}` };
    else decision = { kind: "error", text: `the app's handler failed: ${scrubSecrets(error instanceof Error ? error.message : String(error))}` };
  } finally {
    await replay.close();
  }
  const key = typeof parsed.payload.action === "string" ? `${parsed.event}.${parsed.payload.action}` : parsed.event;
  const report: ReplayReport = {
    event: key,
    file: parsed.file,
    ...describeTarget(parsed.payload),
    ...(configText(facts) ? { config: configText(facts) as string } : {}),
    gate: gateText(facts),
    writes: client.writes.map((w) => ({ method: w.method, path: w.path, summary: summarizeWrite(w) })),
    reads: client.reads,
    decision,
    runs: facts.started.map(({ plan, trigger }) => ({
      workflow: plan.workflow,
      target: `${trigger.repo.owner}/${trigger.repo.name}#${trigger.number}`,
      actor: trigger.actor,
      kind: trigger.kind,
      chain: formatStepChain(plan),
      steps: describePlan(plan, trigger, env.OCTOFLOW_MODEL),
    })),
  };
  io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return decision.kind === "error" ? EXIT.failed : EXIT.ok;
}

/** The human-readable replay report. */
export function formatReport(report: ReplayReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(9)} ${value}`);
  row("event", `${report.event} (${report.file})`);
  if (report.target) row("target", report.target);
  if (report.sender) row("sender", report.sender);
  if (report.config) row("config", report.config);
  row("gate", report.gate);
  for (const run of report.runs) {
    row("workflow", `${run.workflow} (${run.kind} trigger by ${run.actor})`);
    row("steps", run.chain);
    lines.push(formatPlanTable(run.steps).trimEnd());
  }
  for (const w of report.writes) row("would", `${w.method} ${w.path} ${w.summary}`.trimEnd());
  row("decision", report.decision.text);
  return `${lines.join("\n")}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** `octoflow replay`, as registered in `src/cli/main.ts`. */
export const replayCommand: CliCommand = {
  summary: "Show what the app would do with a saved webhook payload (writes nothing)",
  usage: REPLAY_USAGE,
  run: replayWebhook,
};
