/**
 * Arguments of `octoflow run`: pure parsing and checking, no I/O. Anything wrong becomes a
 * `UsageError` (exit 2) before a single request is made.
 */
import { parseArgs } from "node:util";
import { envSchema } from "../config/env.ts";
import { UsageError } from "../errors/usage-error.ts";

export const RUN_USAGE =
  "usage: octoflow run <workflow> --repo owner/name (--issue N | --pr N) [--input key=value]... [--model provider:model] [--dry-run] [--replace] [--approve] [--checkout DIR] [--progress auto|table|plain]";

export interface RunArgs {
  workflow: string;
  owner: string;
  repo: string;
  number: number;
  isPullRequest: boolean;
  inputs: Record<string, string>;
  /** `<provider>:<model>` for every step without its own override. */
  model?: string;
  dryRun: boolean;
  /** Cancel an earlier run of the same workflow on the same issue or PR that is still marked active. */
  replace: boolean;
  /** Live progress: a table redrawn in place, plain lines, or chosen by whether stderr is a terminal. */
  progress: "auto" | "table" | "plain";
  /** Approve the workflow's approval gates in advance (the CLI cannot wait for an approval). */
  approve: boolean;
  /** The checkout command steps run in (default: the Git checkout around the working directory). */
  checkout?: string;
}

const WORKFLOW_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const OWNER = /^[a-z0-9](?:[a-z0-9-]{0,38})$/i;
const REPO = /^[a-z0-9._-]{1,100}$/i;
const INPUT_KEY = /^[a-z_][a-z0-9_-]{0,63}$/i;

/**
 * Parses `octoflow run` arguments (everything after `run`).
 *
 * @example
 * parseRunArgs(["bug-fix", "--repo", "acme/api", "--issue", "12", "--input", "scope=auth"]);
 * // { workflow: "bug-fix", owner: "acme", repo: "api", number: 12, isPullRequest: false, inputs: { scope: "auth" }, ... }
 */
export function parseRunArgs(args: string[]): RunArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        repo: { type: "string" },
        issue: { type: "string" },
        pr: { type: "string" },
        input: { type: "string", multiple: true },
        model: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        replace: { type: "boolean", default: false },
        approve: { type: "boolean", default: false },
        checkout: { type: "string" },
        progress: { type: "string", default: "auto" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? firstLine(error.message) : "invalid arguments", RUN_USAGE);
  }
  const { values, positionals } = parsed;
  const fail = (message: string): never => {
    throw new UsageError(message, RUN_USAGE);
  };

  if (positionals.length === 0) fail("missing <workflow>");
  if (positionals.length > 1) fail(`unexpected argument "${positionals[1]}"`);
  const workflow = positionals[0] ?? "";
  if (!WORKFLOW_NAME.test(workflow)) fail(`"${workflow}" is not a workflow name`);

  if (values.repo === undefined) fail("missing --repo owner/name");
  const [owner = "", repo = "", ...rest] = (values.repo ?? "").split("/");
  if (rest.length > 0 || !OWNER.test(owner) || !REPO.test(repo) || repo === "." || repo === "..") {
    fail(`--repo must be owner/name, got "${values.repo}"`);
  }

  if (values.issue !== undefined && values.pr !== undefined) fail("give --issue or --pr, not both");
  if (values.issue === undefined && values.pr === undefined) fail("missing --issue N or --pr N");
  const isPullRequest = values.pr !== undefined;
  const raw = (values.pr ?? values.issue) as string;
  if (!/^[1-9]\d{0,9}$/.test(raw)) fail(`--${isPullRequest ? "pr" : "issue"} must be a positive number, got "${raw}"`);

  const inputs: Record<string, string> = {};
  for (const pair of values.input ?? []) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq) : "";
    if (!INPUT_KEY.test(key)) fail(`--input must be key=value, got "${pair}"`);
    inputs[key] = pair.slice(eq + 1);
  }

  let model: string | undefined;
  if (values.model !== undefined) {
    const checked = envSchema.shape.OCTOFLOW_MODEL.safeParse(values.model);
    if (!checked.success) fail(`--model ${checked.error.issues[0]?.message ?? "is invalid"}`);
    model = values.model;
  }

  const progress = values.progress;
  if (progress !== "auto" && progress !== "table" && progress !== "plain") fail(`--progress must be auto, table or plain, got "${progress}"`);

  return {
    workflow,
    owner,
    repo,
    number: Number(raw),
    isPullRequest,
    inputs,
    ...(model === undefined ? {} : { model }),
    dryRun: values["dry-run"] === true,
    replace: values.replace === true,
    progress: progress as RunArgs["progress"],
    approve: values.approve === true,
    ...(values.checkout === undefined || values.checkout.trim() === "" ? {} : { checkout: values.checkout }),
  };
}

/**
 * The GitHub token from `GITHUB_TOKEN` or `GH_TOKEN` (as the `gh` CLI does).
 * Throws a `UsageError` when neither is set.
 */
export function resolveToken(env: Readonly<Record<string, string | undefined>>, usage: string): string {
  const token = env.GITHUB_TOKEN?.trim() || env.GH_TOKEN?.trim();
  if (!token) throw new UsageError("set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repository", usage);
  return token;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
