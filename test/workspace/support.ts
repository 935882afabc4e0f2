/**
 * Test helpers for the workspace: a workspace service over the fake GitHub (real archive redirect,
 * tree and contents routes) with its own cache folder, plus small plan / output builders.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refusePath } from "../../src/github/outputs/edit-paths.ts";
import { createGitHubRepositorySource } from "../../src/github/repository-source.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import type { FileChange, PlannedStep, StepOutput } from "../../src/workflows/types.ts";
import { createRunWorkspaces, type RunWorkspacesDeps, type WorkspaceService } from "../../src/workspace/run-workspaces.ts";
import { silentLog, testOctokit } from "../github/support.ts";

export const usage = { inputTokens: 1, outputTokens: 1, cachedTokens: 0 };

export function output(changes: FileChange[], extra: Partial<StepOutput> = {}): StepOutput {
  return { text: "done", changes, usage, costUsd: 0, ...extra };
}

/** A workspace service over the fake GitHub at `url`, caching snapshots under `dir`. */
export function workspacesOver(url: string, store: RunStore, dir: string, snapshots: RunWorkspacesDeps["snapshots"] = {}): WorkspaceService {
  const octokit = testOctokit(url);
  return createRunWorkspaces({
    store,
    sourceFor: (trigger) => createGitHubRepositorySource(() => Promise.resolve(octokit), trigger.repo, store),
    refusePath,
    snapshots: { dir, ...snapshots },
    log: silentLog,
  });
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "octoflow-ws-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function byId(steps: PlannedStep[]): Record<string, PlannedStep> {
  return Object.fromEntries(steps.map((s) => [String(s.id), s]));
}
