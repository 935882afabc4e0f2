/**
 * GitHub requests to publish one commit of N files (N = 1, 10, 50), before and after the run
 * workspace, side by side against the fake GitHub (every request validated against GitHub's
 * OpenAPI description). Half the files are modified (search/replace before; full content after),
 * half created. "After" is measured twice: with the run's snapshot cached (the agents read the
 * repository through the workspace) and with no cache (lazy reads only).
 * Also: a 4-producing-step run with 50 files per step. Counts are exact (no timing).
 *
 * Target (issue 15): ≤ 6 requests per commit whatever N (text files).
 *
 *   node bench/github-publish-requests.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ProbotOctokit } from "probot";
import type { GitHubClient } from "../src/github/client.ts";
import { refusePath } from "../src/github/outputs/edit-paths.ts";
import { publishPullRequest } from "../src/github/outputs/pull-request-output.ts";
import { createGitHubRepositorySource } from "../src/github/repository-source.ts";
import { createMemoryRunStore } from "../src/store/memory-run-store.ts";
import { asRunId, asStepId, type FileChange, type FileEdit, type PlannedStep, type RunRecord, type StepRecord } from "../src/workflows/types.ts";
import { createRunWorkspaces } from "../src/workspace/run-workspaces.ts";
import { installRepoModel } from "../test/fakes/github-repo-model.ts";
import { startGitHubFake } from "../test/fakes/github-server.ts";
import { publishBeforeWorkspace } from "./baselines/publish-before-workspace.ts";

const log = pino({ level: "silent" });
const octokitFor = (url: string) => new ProbotOctokit({ auth: { token: "ghs_bench" }, baseUrl: url, throttle: { enabled: false }, retry: { enabled: false }, log }) as GitHubClient;

function repoFiles(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`src/f${i}.ts`, `export const v${i} = ${i};\n// keep\n`]));
}

/** Step s changes files [s*n, (s+1)*n): even ones modified, odd ones created. */
function stepFiles(s: number, n: number): { edits: FileEdit[]; changes: FileChange[] } {
  const edits: FileEdit[] = [];
  const changes: FileChange[] = [];
  for (let k = 0; k < n; k++) {
    const i = s * n + k;
    if (k % 2 === 0) {
      edits.push({ kind: "modify", path: `src/f${i}.ts`, blocks: [{ search: `v${i} = ${i}`, replace: `v${i} = ${i + 1}` }] });
      changes.push({ path: `src/f${i}.ts`, content: `export const v${i} = ${i + 1};\n// keep\n` });
    } else {
      edits.push({ kind: "create", path: `src/new${i}.ts`, content: `export const n${i} = ${i};\n` });
      changes.push({ path: `src/new${i}.ts`, content: `export const n${i} = ${i};\n` });
    }
  }
  return { edits, changes };
}

async function measure(kind: "before" | "after, snapshot cached" | "after, no cache", steps: number, n: number): Promise<number> {
  const gh = await startGitHubFake();
  installRepoModel(gh, { owner: "octo", repo: "app", files: repoFiles(steps * n) });
  const octokit = octokitFor(gh.url);
  const store = createMemoryRunStore();
  const dir = await mkdtemp(join(tmpdir(), "octoflow-bench-pub-"));
  try {
    const plan = Array.from({ length: steps }, (_, s): PlannedStep => ({ id: asStepId(`s${s}`), name: `s${s}`, role: "generate", prompt: "p", needs: s === 0 ? [] : [asStepId(`s${s - 1}`)], retries: 0, timeoutMs: 60_000, output: "pull_request" }));
    const run: RunRecord = {
      id: asRunId("run-1"), workflow: "bench", status: "running", concurrencyKey: "k", createdAt: 1,
      plan: { workflow: "bench", description: "", steps: plan, inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} },
      trigger: { kind: "label", repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 }, number: 7, isPullRequest: false, actor: "a", inputs: {}, issue: { title: "Bench", body: "" } },
    };
    await store.createRun(run, []);
    let before: number;
    if (kind === "before") {
      before = gh.requests.length;
      await publishBeforeWorkspace(octokit, run.trigger.repo, "octoflow/7-bench", plan.map((_, s) => stepFiles(s, n).edits));
    } else {
      const workspaces = createRunWorkspaces({ store, sourceFor: (t) => createGitHubRepositorySource(() => Promise.resolve(octokit), t.repo, store), refusePath, snapshots: kind === "after, no cache" ? { archive: false } : { dir }, log });
      // what the agents do first: each step's view (records the base; loads and caches the snapshot)
      if (kind === "after, snapshot cached") for (const step of plan) await workspaces.viewFor({ runId: "run-1", trigger: run.trigger, plan: run.plan, step, upstream: {} });
      const records: StepRecord[] = plan.map((step, s) => ({ runId: run.id, stepId: step.id, status: "succeeded", attempts: 1, output: { text: "done", changes: stepFiles(s, n).changes, usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0 } }));
      before = gh.requests.length;
      await publishPullRequest({ octokit, store, log, workspaces }, run, records);
    }
    gh.verify();
    return gh.requests.length - before;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await store.close();
    await gh.close();
  }
}

const kinds = ["before", "after, snapshot cached", "after, no cache"] as const;
console.log("| publish | before (blob + re-read per file) | after, snapshot cached | after, no cache (lazy) |\n|---|---|---|---|");
for (const [steps, n] of [[1, 1], [1, 10], [1, 50], [4, 50]] as const) {
  const counts: number[] = [];
  for (const kind of kinds) counts.push(await measure(kind, steps, n));
  console.log(`| ${steps} commit${steps > 1 ? "s" : ""} × ${n} file${n > 1 ? "s" : ""} | ${counts.join(" | ")} |`);
}
