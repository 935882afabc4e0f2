/**
 * Shared test helpers for the GitHub edge: an Octokit pointed at the fake, runs and plans.
 */
import { pino } from "pino";
import { ProbotOctokit } from "probot";
import type { GitHubClient } from "../../src/github/client.ts";
import { asRunId, asStepId, type OutputKind, type PlannedStep, type RunRecord, type Trigger } from "../../src/workflows/types.ts";

export const silentLog = pino({ level: "silent" });

/** Probot's Octokit (throttling and retries off so tests never wait) against the fake server. */
export function testOctokit(baseUrl: string): GitHubClient {
  return new ProbotOctokit({ auth: { token: "ghs_test_token" }, baseUrl, throttle: { enabled: false }, retry: { enabled: false }, log: silentLog }) as GitHubClient;
}

export function step(id: string, role: string, output: OutputKind, needs: string[] = []): PlannedStep {
  return { id: asStepId(id), name: id, role, prompt: "do it", needs: needs.map(asStepId), retries: 0, timeoutMs: 60_000, output };
}

export function trigger(overrides: Partial<Trigger> = {}): Trigger {
  return {
    kind: "label",
    repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 },
    number: 7,
    isPullRequest: false,
    actor: "alice",
    inputs: {},
    issue: { title: "Add a greeting", body: "Please add hello()." },
    ...overrides,
  };
}

export function runRecord(id: string, steps: PlannedStep[], t: Trigger = trigger(), overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: asRunId(id),
    workflow: "feature-development",
    status: "running",
    plan: { workflow: "feature-development", description: "", steps, inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} },
    trigger: t,
    concurrencyKey: "g",
    createdAt: 1,
    startedAt: 1,
    ...overrides,
  };
}
