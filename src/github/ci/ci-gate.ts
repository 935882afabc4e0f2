/**
 * The App's CI gate (DESIGN D14, D15): a `uses: ci` step waits for the repository's own checks on
 * the head the run pushed, and passes, fails with a structured report a fix step reads, or parks
 * the run until a `check_suite` / `check_run` / `status` webhook (key `ci:<sha>`) or its poll wakes it.
 *
 * Decisions:
 * - It waits until every check is complete, so one fix round sees every failure at once (no fail-fast).
 * - No check at all after `noChecksAfterMs` → passed, conclusion `neutral` ("No CI reported within
 *   10 min"). A repository that evidently has no CI (no workflow files on the default branch and no
 *   other app's checks or statuses on its head) → neutral at once.
 * - Nothing pushed (and no pull request head) → passed, neutral: nothing to check.
 */
import type { Logger } from "pino";
import { classifyGitHubError } from "../../resilience/classify-github-error.ts";
import { scrubSecrets } from "../../security/scrub-secrets.ts";
import type { Clock, GateRequest, GateResult, StepGates } from "../../workflows/ports.ts";
import type { StepOutput } from "../../workflows/types.ts";
import { ciKey } from "../../workflows/run-gate.ts";
import type { GitHubClients } from "../client.ts";
import { readCiChecks, repositoryHasCi, type CiCheck } from "./ci-checks.ts";
import { failureHeadline, failureReport, readFailures } from "./ci-failure-report.ts";

export const DEFAULT_CI_POLL_MS = 2 * 60_000;

export interface CiGateOptions {
  clients: GitHubClients;
  clock: Clock;
  log: Logger;
  /** The GitHub App's id: its own check runs are not CI. Unknown (the CLI's token): matched by name. */
  appId?: number;
  /** How often a waiting gate looks again without a webhook (default 2 min, `OCTOFLOW_CI_POLL_MS`). */
  pollMs?: number;
}

const NO_USAGE = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
const shortSha = (sha: string) => sha.slice(0, 7);

/** A gate step's output: no model was called. */
function report(text: string, data: Record<string, unknown>): StepOutput {
  return { text: scrubSecrets(text), usage: { ...NO_USAGE }, costUsd: 0, data };
}

function neutral(text: string, data: Record<string, unknown> = {}): GateResult {
  return { kind: "passed", output: report(text, { conclusion: "neutral", ...data }) };
}

/** `10 min`, `90 s`: a length of time in a message. */
function minutes(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`;
}

const checkLine = (c: CiCheck) => `- ${c.name}: ${c.conclusion}`;

/**
 * @example
 * const engine = createEngine({ ..., gates: createCiGate({ clients, clock, log, appId: 123 }) });
 */
export function createCiGate(options: CiGateOptions): StepGates {
  const pollMs = options.pollMs ?? DEFAULT_CI_POLL_MS;
  return {
    async check(request: GateRequest): Promise<GateResult> {
      const { run, step, record } = request;
      if (step.uses?.kind !== "ci") {
        return { kind: "failed", error: `step "${step.id}" uses ${step.uses?.kind ?? "nothing"}, which the GitHub App does not run: \`command\` steps run in the CLI and the GitHub Action only (the App never executes repository code)` };
      }
      const noChecksAfterMs = step.uses.noChecksAfterMs;
      const { owner, name: repo, installationId, defaultBranch } = run.trigger.repo;
      const pr = run.trigger.pullRequest;
      const sha = request.head?.sha ?? (run.trigger.isPullRequest ? pr?.headSha : undefined);
      if (!sha) return neutral("Nothing was pushed, so there is no CI to wait for.", { reason: "nothing pushed" });
      if (installationId === undefined) return neutral(`No GitHub installation to read the checks of ${shortSha(sha)} with.`, { sha, reason: "no installation" });
      const now = options.clock.now();
      const since = record.waiting?.since ?? now;
      const log = options.log.child({ runId: run.id, stepId: step.id, sha });
      try {
        const octokit = await options.clients.forInstallation(installationId);
        const snapshot = await readCiChecks(octokit, { owner, repo, sha, appId: options.appId });
        const counted = snapshot.checks.filter((c) => c.state !== "ignored");
        const base = { sha, ...(request.head?.pullRequest ? { pullRequest: request.head.pullRequest.number } : {}) };
        const summary = snapshot.checks.map((c) => ({ name: c.name, kind: c.kind, state: c.state, conclusion: c.conclusion }));

        if (snapshot.checks.length === 0) {
          const hasCi = record.waiting?.data?.["hasCi"] === true || (await repositoryHasCi(octokit, { owner, repo, defaultBranch, appId: options.appId }));
          if (!hasCi) {
            log.info("repository has no CI: gate ends neutral");
            return neutral(`This repository has no CI: no workflow in \`.github/workflows/\` on ${defaultBranch} and no checks or statuses on its head. Nothing to wait for on ${shortSha(sha)}.`, { ...base, reason: "no CI", checks: [] });
          }
          if (now - since >= noChecksAfterMs) {
            return neutral(`No CI reported within ${minutes(noChecksAfterMs)} on ${shortSha(sha)}.`, { ...base, reason: "no CI reported", checks: [] });
          }
          return {
            kind: "wait",
            key: ciKey(sha),
            message: `waiting for CI on ${shortSha(sha)} (no check reported yet)`,
            // looks again at the latest when the no-CI deadline passes
            wakeAt: Math.min(now + pollMs, since + noChecksAfterMs),
            data: { hasCi: true },
          };
        }

        const pending = counted.filter((c) => c.state === "pending");
        if (pending.length > 0) {
          const done = counted.length - pending.length;
          return {
            kind: "wait",
            key: ciKey(sha),
            message: `waiting for CI on ${shortSha(sha)} (${done} of ${counted.length} check${counted.length === 1 ? "" : "s"} done)`,
            wakeAt: now + pollMs,
            data: { hasCi: true },
          };
        }

        const failed = counted.filter((c) => c.state === "failed");
        if (failed.length > 0) {
          const failing = await readFailures(octokit, { owner, repo }, failed);
          const text = failureReport(sha, failing, counted.length, snapshot.notes);
          log.info({ failing: failing.map((f) => f.name) }, "CI failed");
          return {
            kind: "failed",
            error: failureHeadline(sha, failing, counted.length),
            output: report(text, { conclusion: "failure", ...base, checks: summary, failing }),
          };
        }

        const ignored = snapshot.checks.filter((c) => c.state === "ignored");
        if (counted.length === 0) {
          return neutral(`CI on ${shortSha(sha)} did not verify the change: every check was ${[...new Set(ignored.map((c) => c.conclusion))].join(" or ")}.\n${ignored.map(checkLine).join("\n")}`, { ...base, reason: "checks cancelled", checks: summary });
        }
        const lines = [`CI passed on ${shortSha(sha)}: ${counted.length} check${counted.length === 1 ? "" : "s"} green.`, ...counted.map(checkLine)];
        if (ignored.length > 0) lines.push(`Not counted: ${ignored.map((c) => `${c.name} (${c.conclusion})`).join(", ")}.`);
        lines.push(...snapshot.notes.map((n) => `Note: ${n}`));
        return { kind: "passed", output: report(lines.join("\n"), { conclusion: "success", ...base, checks: summary }) };
      } catch (error) {
        // 5xx and rate limits are transient: the engine parks the step and looks again
        throw classifyGitHubError(error);
      }
    },
  };
}
