/**
 * GitHub Actions' view of the triggering event: `GITHUB_EVENT_NAME`, the payload at
 * `GITHUB_EVENT_PATH` (the same shape as the webhook), and the action's own inputs passed as
 * environment variables by `action.yml`.
 */
import { readFileSync } from "node:fs";
import { workflowName } from "../config/template-schema.ts";
import { UsageError } from "../errors/usage-error.ts";

export const ACTION_USAGE =
  "usage: octoflow action   (inside GitHub Actions: reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_TOKEN, and OCTOFLOW_WORKFLOW / OCTOFLOW_INPUTS / OCTOFLOW_MODEL from the action's inputs)";

export interface ActionsEvent {
  name: string;
  payload: Record<string, unknown>;
  /** A stable id per job attempt, so a re-delivery of the same attempt starts nothing twice. */
  deliveryId: string;
  /** The `workflow` input: run this workflow on every event instead of deciding like the app. */
  workflow?: string;
  /** The `inputs` input, one `key=value` per line. */
  inputs: Record<string, string>;
}

/** Parses `key=value` lines (blank lines and `#` comments ignored). */
export function parseInputLines(text: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!/^[a-z_][a-z0-9_-]{0,63}$/i.test(key)) throw new UsageError(`inputs: each line must be key=value, got "${line.slice(0, 80)}"`, ACTION_USAGE);
    inputs[key] = line.slice(eq + 1).trim();
  }
  return inputs;
}

/**
 * Reads the Actions event. Throws a `UsageError` outside Actions or on bad action inputs.
 *
 * @example
 * const event = readActionsEvent(cliEnvSource(io));
 */
export function readActionsEvent(env: Readonly<Record<string, string | undefined>>): ActionsEvent {
  const name = env.GITHUB_EVENT_NAME;
  const path = env.GITHUB_EVENT_PATH;
  if (!name || !path) throw new UsageError("GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: `octoflow action` runs inside GitHub Actions (use `octoflow run` elsewhere)", ACTION_USAGE);
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`cannot read the event payload at GITHUB_EVENT_PATH (${error instanceof SyntaxError ? "not JSON" : ((error as NodeJS.ErrnoException).code ?? "error")})`, ACTION_USAGE);
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new UsageError("the event payload at GITHUB_EVENT_PATH is not an object", ACTION_USAGE);
  const workflow = env.OCTOFLOW_WORKFLOW?.trim() || undefined;
  if (workflow !== undefined && !workflowName.safeParse(workflow).success) throw new UsageError(`workflow: "${workflow}" is not a workflow name`, ACTION_USAGE);
  return {
    name,
    payload: payload as Record<string, unknown>,
    deliveryId: `actions:${env.GITHUB_RUN_ID ?? "local"}:${env.GITHUB_RUN_ATTEMPT ?? "1"}:${name}`,
    ...(workflow === undefined ? {} : { workflow }),
    inputs: parseInputLines(env.OCTOFLOW_INPUTS ?? ""),
  };
}

/**
 * The issue or pull request an Actions event is about, for the `workflow` input: `issues` /
 * `issue_comment` (the issue, or the PR it belongs to), `pull_request*` / `pull_request_review`
 * (the PR), `workflow_dispatch` (its `issue`, `pr` or `number` input).
 */
export function targetOfEvent(event: Pick<ActionsEvent, "name" | "payload">): { number: number; isPullRequest: boolean } | undefined {
  const p = event.payload as {
    issue?: { number?: number; pull_request?: unknown };
    pull_request?: { number?: number };
    inputs?: Record<string, unknown>;
  };
  if (p.pull_request?.number !== undefined) return { number: p.pull_request.number, isPullRequest: true };
  if (p.issue?.number !== undefined) return { number: p.issue.number, isPullRequest: Boolean(p.issue.pull_request) };
  const inputs = p.inputs ?? {};
  for (const [key, isPullRequest] of [["pr", true], ["issue", false], ["number", false]] as const) {
    const value = inputs[key];
    if ((typeof value === "string" || typeof value === "number") && /^[1-9]\d{0,9}$/.test(String(value))) return { number: Number(value), isPullRequest };
  }
  return undefined;
}
