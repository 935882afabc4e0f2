/**
 * `pull_request` output: the edits of generate / test / docs steps become commits on the branch
 * `octoflow/<issue>-<slug>` (Git Data API: blobs, a tree on `base_tree`, a commit, the ref), one
 * commit per producing step, and one draft pull request that says what was done and closes the
 * issue. Re-running updates the same branch and pull request. Never the default branch, never a
 * fork, never `.github/workflows/`.
 */
import type { Logger } from "pino";
import type { RunStore } from "../../workflows/ports.ts";
import type { PlannedStep, RunRecord, StepOutput } from "../../workflows/types.ts";
import { httpStatus, type GitHubClient } from "../client.ts";
import { neutralizeMarkdown } from "../../progress/neutralize-markdown.ts";
import { applyBlocks, branchName, refusePath } from "./edit-paths.ts";
import { pullRequestKey, stepCommitKey, workBranchKey } from "../../store/marker-keys.ts";

export interface ProducedStep {
  step: PlannedStep;
  output: StepOutput;
}

export interface PullRequestResult {
  number: number;
  url: string;
  branch: string;
  /** Commit SHAs created by this call (empty when every step was already committed). */
  commits: string[];
  notes: string[];
}

export interface OutputDeps {
  octokit: GitHubClient;
  store: RunStore;
  log: Logger;
}

const PR_MARKER = "<!-- octoflow:pull-request -->";

function summaryLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.trim().slice(0, 120);
}

async function readAt(deps: OutputDeps, owner: string, repo: string, path: string, ref: string): Promise<string | undefined> {
  try {
    const { data } = await deps.octokit.rest.repos.getContent({ owner, repo, path, ref, mediaType: { format: "raw" } });
    return typeof data === "string" ? data : undefined;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Commits the steps' edits and opens or updates the draft pull request.
 * Returns undefined when there was nothing to commit and no pull request exists yet.
 */
export async function publishPullRequest(deps: OutputDeps, run: RunRecord, produced: ProducedStep[]): Promise<PullRequestResult | undefined> {
  const { owner, name: repo, defaultBranch } = run.trigger.repo;
  const gh = deps.octokit.rest;
  const title = run.trigger.issue?.title ?? run.workflow;
  // The first branch name chosen for an issue sticks, even when its title changes later.
  const branch = await deps.store.putMarkerIfAbsent(workBranchKey(owner, repo, run.trigger.number), branchName(run.trigger.number, title));
  if (branch === defaultBranch) throw new Error(`refusing to push to the default branch ${defaultBranch}`);
  const notes: string[] = [];

  let branchExists = true;
  let head: string;
  try {
    head = (await gh.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha;
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
    branchExists = false;
    head = (await gh.git.getRef({ owner, repo, ref: `heads/${defaultBranch}` })).data.object.sha;
  }

  const commits: string[] = [];
  const committedSteps: string[] = [];
  /** A step committed by an earlier attempt of this delivery (it failed or crashed before the PR). */
  let committedBefore = false;
  for (const { step, output } of produced) {
    const markerKey = stepCommitKey(run.id, step.id);
    if (await deps.store.getMarker(markerKey)) {
      committedBefore = true;
      continue;
    }
    const entries: { path: string; mode: "100644"; type: "blob"; sha: string | null }[] = [];
    for (const edit of output.edits ?? []) {
      const refused = refusePath(edit.path);
      if (refused) {
        notes.push(`Skipped \`${edit.path}\` (${refused}).`);
        continue;
      }
      if (edit.kind === "delete") {
        entries.push({ path: edit.path, mode: "100644", type: "blob", sha: null });
        continue;
      }
      let content: string;
      if (edit.kind === "create") content = edit.content;
      else {
        const current = await readAt(deps, owner, repo, edit.path, head);
        if (current === undefined) {
          notes.push(`Could not modify \`${edit.path}\`: the file does not exist.`);
          continue;
        }
        const applied = applyBlocks(current, edit.blocks);
        if (!applied.ok) {
          notes.push(`Could not modify \`${edit.path}\`: a search block was not found (${JSON.stringify(applied.missing.slice(0, 60))}).`);
          continue;
        }
        content = applied.content;
      }
      const blob = await gh.git.createBlob({ owner, repo, content: Buffer.from(content, "utf8").toString("base64"), encoding: "base64" });
      entries.push({ path: edit.path, mode: "100644", type: "blob", sha: blob.data.sha });
    }
    if (entries.length === 0) continue;
    const baseTree = (await gh.git.getCommit({ owner, repo, commit_sha: head })).data.tree.sha;
    const tree = await gh.git.createTree({ owner, repo, base_tree: baseTree, tree: entries });
    const message = `${step.name || step.id}: ${summaryLine(output.text) || `${step.role} changes`}\n\nOctoflow run ${run.id} (${run.workflow}) for #${run.trigger.number}.`;
    const commit = await gh.git.createCommit({ owner, repo, message, tree: tree.data.sha, parents: [head] });
    head = commit.data.sha;
    commits.push(head);
    committedSteps.push(markerKey);
  }

  if (commits.length > 0) {
    if (branchExists) await gh.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: head, force: false });
    else await gh.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: head });
    branchExists = true;
    for (const key of committedSteps) await deps.store.setMarker(key, String(run.id));
  }
  if (!branchExists) return undefined;

  const body = pullRequestBody(run, produced, notes);
  const prKey = pullRequestKey(owner, repo, branch);
  let number = Number((await deps.store.getMarker(prKey)) ?? NaN);
  let url: string | undefined;
  if (Number.isNaN(number)) {
    const { data } = await gh.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "open", per_page: 1 });
    if (data[0]) number = data[0].number;
  }
  if (!Number.isNaN(number)) {
    try {
      url = (await gh.pulls.update({ owner, repo, pull_number: number, body })).data.html_url;
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
      number = NaN;
    }
  }
  if (Number.isNaN(number) || url === undefined) {
    if (commits.length === 0 && !committedBefore) return undefined;
    const { data } = await gh.pulls.create({ owner, repo, head: branch, base: defaultBranch, draft: true, title: `Octoflow: ${title}`.slice(0, 256), body });
    number = data.number;
    url = data.html_url;
  }
  await deps.store.setMarker(prKey, String(number));
  await deps.store.updateRun(run.id, { pullRequestNumber: number });
  return { number, url, branch, commits, notes };
}

function pullRequestBody(run: RunRecord, produced: ProducedStep[], notes: string[]): string {
  const lines = [
    `This draft pull request was opened by Octoflow's **${run.workflow}** workflow for #${run.trigger.number} (run \`${run.id}\`).`,
    "",
    "### What was done",
    "",
  ];
  for (const { step, output } of produced) {
    const files = (output.edits ?? []).map((e) => `\`${e.path}\` (${e.kind})`).join(", ");
    lines.push(`- **${step.name || step.id}** (${step.role}): ${summaryLine(output.text) || "changes"}${files ? ` — ${files}` : ""}`);
  }
  if (notes.length > 0) lines.push("", "### Notes", "", ...notes.map((n) => `- ${n}`));
  lines.push("", "Review the changes before marking this pull request ready.");
  if (!run.trigger.isPullRequest) lines.push("", `Closes #${run.trigger.number}`);
  // Step texts, paths and notes come from the model: no @mentions, no HTML comments (forged markers).
  return `${PR_MARKER}\n${neutralizeMarkdown(lines.join("\n"))}`.slice(0, 65_000);
}
