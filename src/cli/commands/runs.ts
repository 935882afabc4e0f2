/**
 * `octoflow runs`: recent runs from the store (the CLI's and, with the same DATABASE_URL, the
 * app's), with status, duration, tokens and cost.
 */
import { parseArgs } from "node:util";
import { runLinks, toRunView, type RunView } from "../../observability/run-view.ts";
import type { ListRunsQuery } from "../../workflows/ports.ts";
import type { RunStatus } from "../../workflows/types.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";
import { EXIT } from "../exit-codes.ts";
import { describeStoreLocation, openCliBackend } from "../open-cli-backend.ts";
import { formatCost, formatDuration } from "../../progress/format.ts";
import { UsageError } from "../../errors/usage-error.ts";

export const RUNS_USAGE = "usage: octoflow runs [--limit N] [--status STATUS] [--repo owner/name] [--workflow NAME] [--json]";

const STATUSES: readonly RunStatus[] = ["queued", "running", "waiting", "succeeded", "failed", "cancelled"];

function parseRunsArgs(args: string[]): { query: ListRunsQuery; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        limit: { type: "string", default: "20" },
        status: { type: "string" },
        repo: { type: "string" },
        workflow: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split("\n")[0] ?? "") : "invalid arguments", RUNS_USAGE);
  }
  const { values } = parsed;
  if (!/^\d{1,4}$/.test(values.limit) || Number(values.limit) < 1) throw new UsageError(`--limit must be 1-1000, got "${values.limit}"`, RUNS_USAGE);
  if (values.status !== undefined && !STATUSES.includes(values.status as RunStatus)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`, RUNS_USAGE);
  }
  if (values.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(values.repo)) throw new UsageError(`--repo must be owner/name`, RUNS_USAGE);
  const query: ListRunsQuery = { limit: Math.min(1000, Number(values.limit)) };
  if (values.status !== undefined) query.status = values.status as RunStatus;
  if (values.repo !== undefined) query.repo = values.repo;
  if (values.workflow !== undefined) query.workflow = values.workflow;
  return { query, json: values.json };
}

/**
 * Lists recent runs, newest first.
 *
 * @example
 * // octoflow runs --limit 5 --status failed
 * const code = await listRuns(["--limit", "5", "--status", "failed"], processIo());
 */
export async function listRuns(args: string[], io: CliIo): Promise<number> {
  let options;
  try {
    options = parseRunsArgs(args);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.usage}\noctoflow runs: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const backend = await openCliBackend(io, { mustExist: true });
  if (!backend) {
    if (options.json) io.stdout("[]\n");
    else io.stdout(`No runs recorded yet (${describeStoreLocation(io)}).\n`);
    return EXIT.ok;
  }
  const { store } = backend;
  try {
    const now = Date.now();
    const runs = await store.listRuns(options.query);
    const views: RunView[] = [];
    for (const run of runs) {
      const view = toRunView(run, await store.getSteps(run.id), "https://github.com", now);
      views.push({ ...view, links: runLinks(run, webUrl(io)) });
    }
    if (options.json) {
      io.stdout(`${JSON.stringify(views, null, 2)}\n`);
      return EXIT.ok;
    }
    if (views.length === 0) {
      io.stdout("No runs match.\n");
      return EXIT.ok;
    }
    io.stdout(formatRunsTable(views));
    return EXIT.ok;
  } finally {
    await backend.close();
  }
}

/** The `octoflow runs` table: one line per run. */
export function formatRunsTable(views: readonly RunView[]): string {
  const header = ["RUN", "WORKFLOW", "TARGET", "STATUS", "STARTED", "DURATION", "TOKENS", "COST"];
  const rows = views.map((v) => [
    v.id.slice(0, 12),
    v.workflow,
    `${v.repository}#${v.trigger.number}`,
    v.status,
    (v.startedAt ?? v.createdAt).replace("T", " ").slice(0, 19),
    v.durationMs === undefined ? "-" : formatDuration(v.durationMs, { compact: true }),
    v.tokens.total.toLocaleString("en-US"),
    formatCost(v.costUsd, { compact: true }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 5 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[format(header), ...rows.map(format)].join("\n")}\n`;
}

function webUrl(io: CliIo): string {
  // Actions sets GITHUB_SERVER_URL (https://github.com or the GHES host).
  const server = io.env.GITHUB_SERVER_URL?.trim();
  return server && URL.canParse(server) ? server.replace(/\/+$/, "") : "https://github.com";
}

/** `octoflow runs`, as registered in `src/cli/main.ts`. */
export const runsCommand: CliCommand = {
  summary: "List recent runs with status, duration, tokens and cost",
  usage: RUNS_USAGE,
  run: listRuns,
};
