/**
 * The structured result of a red CI, as the fix step reads it (`{{ steps.<verify row>.output }}`):
 * every failing check with its summary, its annotations (file, line, message) and, for a GitHub
 * Actions job, the tail of its log. Bounded and scrubbed of secrets: it goes into a prompt, a check
 * run and the store. Reading a log needs the `actions: read` permission; without it (403), or when
 * the log is gone (404 / 410), the report says so and goes on.
 */
import { scrubSecrets } from "../../security/scrub-secrets.ts";
import type { GitHubClient } from "../client.ts";
import { httpStatus } from "../client.ts";
import type { CiCheck } from "./ci-checks.ts";

export interface CiAnnotation {
  path: string;
  line: number;
  endLine?: number;
  level: string;
  message: string;
  title?: string;
}

export interface FailingCheck {
  name: string;
  kind: CiCheck["kind"];
  conclusion: string;
  summary?: string;
  url?: string;
  annotations: CiAnnotation[];
  /** The last lines of the GitHub Actions job's log (timestamps and colour codes removed). */
  logTail?: string;
  /** Why there is no log tail (no `actions: read`, the log expired). */
  logNote?: string;
}

/** Failing checks whose details are read (the rest are only named). */
const MAX_DETAILED = 5;
const MAX_ANNOTATIONS = 20;
const LOG_TAIL_LINES = 60;
const LOG_TAIL_CHARS = 4_000;
/** The whole report's bound. */
export const REPORT_MAX_CHARS = 12_000;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/;

/** The last lines of a job log, without GitHub's timestamps and terminal colour codes. */
export function logTail(log: string, lines = LOG_TAIL_LINES, chars = LOG_TAIL_CHARS): string {
  const cleaned = log
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(TIMESTAMP, "").replace(ANSI, "").trimEnd());
  while (cleaned.length > 0 && cleaned.at(-1) === "") cleaned.pop();
  const tail = cleaned.slice(-lines).join("\n");
  return tail.length > chars ? tail.slice(tail.length - chars) : tail;
}

/**
 * Reads the details of the failing checks.
 *
 * @example
 * const failing = await readFailures(octokit, { owner, repo }, snapshot.checks.filter((c) => c.state === "failed"));
 */
export async function readFailures(octokit: GitHubClient, repo: { owner: string; repo: string }, failed: readonly CiCheck[]): Promise<FailingCheck[]> {
  const out: FailingCheck[] = [];
  for (const [index, check] of failed.entries()) {
    const failing: FailingCheck = {
      name: check.name,
      kind: check.kind,
      conclusion: check.conclusion,
      ...(check.summary ? { summary: check.summary } : {}),
      ...(check.url ? { url: check.url } : {}),
      annotations: [],
    };
    out.push(failing);
    if (index >= MAX_DETAILED || check.kind !== "check_run" || check.id === undefined) continue;
    if ((check.annotations ?? 0) > 0) failing.annotations = await annotationsOf(octokit, repo, check.id);
    if (check.app === "github-actions") {
      try {
        // A GitHub Actions check run's id is its job's id; the API answers with a redirect to the log.
        const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...repo, job_id: check.id });
        failing.logTail = logTail(typeof data === "string" ? data : String(data));
      } catch (error) {
        const status = httpStatus(error);
        if (status === 403) failing.logNote = "log not readable: the App needs the `actions: read` permission";
        else if (status === 404 || status === 410) failing.logNote = "log not available (expired or deleted)";
        else failing.logNote = `log not available (${status === undefined ? "the download failed" : `GitHub answered ${status}`})`;
      }
    }
  }
  return out;
}

async function annotationsOf(octokit: GitHubClient, repo: { owner: string; repo: string }, checkRunId: number): Promise<CiAnnotation[]> {
  const { data } = await octokit.rest.checks.listAnnotations({ ...repo, check_run_id: checkRunId, per_page: 50 });
  // failures first, then warnings, then notices
  const rank = (level: string | null) => (level === "failure" ? 0 : level === "warning" ? 1 : 2);
  return [...data]
    .sort((a, b) => rank(a.annotation_level) - rank(b.annotation_level))
    .slice(0, MAX_ANNOTATIONS)
    .map((a) => ({
      path: a.path,
      line: a.start_line,
      ...(a.end_line !== a.start_line ? { endLine: a.end_line } : {}),
      level: a.annotation_level ?? "notice",
      message: (a.message ?? "").slice(0, 1_000),
      ...(a.title ? { title: a.title } : {}),
    }));
}

const shortSha = (sha: string) => sha.slice(0, 7);

/** One line naming what failed, e.g. "CI failed on abc1234: 2 of 5 checks failed (test (ubuntu), lint)". */
export function failureHeadline(sha: string, failing: readonly FailingCheck[], total: number): string {
  const names = failing.map((f) => f.name);
  const listed = names.slice(0, 5).join(", ") + (names.length > 5 ? `, … ${names.length - 5} more` : "");
  return scrubSecrets(`CI failed on ${shortSha(sha)}: ${failing.length} of ${total} check${total === 1 ? "" : "s"} failed (${listed})`);
}

/** The report the fix step reads: Markdown, bounded by `REPORT_MAX_CHARS`, scrubbed of secrets. */
export function failureReport(sha: string, failing: readonly FailingCheck[], total: number, notes: readonly string[] = []): string {
  const parts = [failureHeadline(sha, failing, total)];
  for (const check of failing) {
    const lines = [`### ${check.name} — ${check.conclusion}`];
    if (check.summary) lines.push(check.summary.slice(0, 1_000));
    if (check.url) lines.push(`Details: ${check.url}`);
    if (check.annotations.length > 0) {
      lines.push("", "Annotations:");
      for (const a of check.annotations) {
        const where = `${a.path}:${a.line}${a.endLine !== undefined ? `-${a.endLine}` : ""}`;
        lines.push(`- ${where} (${a.level})${a.title ? ` ${a.title}:` : ""} ${a.message.replace(/\s*\n\s*/g, " ")}`);
      }
    }
    if (check.logTail) lines.push("", "Log tail:", "```", check.logTail.replace(/```/g, "'''"), "```");
    else if (check.logNote) lines.push("", `(${check.logNote})`);
    parts.push(lines.join("\n"));
  }
  if (notes.length > 0) parts.push(notes.map((n) => `Note: ${n}`).join("\n"));
  const report = scrubSecrets(parts.join("\n\n"));
  return report.length > REPORT_MAX_CHARS ? `${report.slice(0, REPORT_MAX_CHARS - 40)}\n… (report truncated)` : report;
}
