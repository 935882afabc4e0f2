/**
 * `pull_request` output: the run workspace's changes become commits on the branch
 * `octoflow/<issue>-<slug>`, one commit per producing step in plan order, and one draft pull request
 * that says what was done and closes the issue. Each commit is built from the file contents the
 * workspace computed (DESIGN D11): nothing is applied or read again at publish time, and the contents
 * go inline in one `createTree` (blobs only for large files), so a commit costs the same few requests
 * whatever its number of files. Re-running updates the same branch and pull request; a resume never
 * commits a step twice (a marker per step holds its commit). Never the default branch, never a fork,
 * never `.github/workflows/`. A run on Octoflow's own pull request (`/octoflow fix` in a review, CI
 * autofix) commits to that pull request's branch and opens no other pull request.
 */
import type { Logger } from "pino";
import { pullRequestKey, stepCommitKey, workBranchKey } from "../../store/marker-keys.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { RunStore } from "../../workflows/ports.ts";
import type { PlannedStep, RunRecord, StepOutput, StepRecord, Trigger } from "../../workflows/types.ts";
import type { PlannedCommits } from "../../workspace/plan-commits.ts";
import { createRunWorkspaces, type WorkspaceService } from "../../workspace/run-workspaces.ts";
import { httpStatus, type GitHubClient } from "../client.ts";
import { neutralizeMarkdown } from "../../progress/neutralize-markdown.ts";
import { ownPullRequestBranch, PR_MARKER } from "../own-pull-request.ts";
import { createGitHubRepositorySource } from "../repository-source.ts";
import { catchUpWithBranch } from "./branch-catch-up.ts";
import { scrubSecrets } from "../../observability/logger.ts";
import { addedSecret, branchName, refusePath } from "./edit-paths.ts";

export interface ProducedStep {
  step: PlannedStep;
  output: StepOutput;
}

export interface PullRequestResult {
  number: number;
  url: string;
  branch: string;
  /** The branch's head commit after this call: what the repository's CI runs on. */
  head: string;
  /** Commit SHAs created by this call (empty when every step was already committed). */
  commits: string[];
  notes: string[];
}

export interface OutputDeps {
  octokit: GitHubClient;
  store: RunStore;
  log: Logger;
  /**
   * The run workspace service, whose file contents the commits are built from. Without it, a
   * workspace over `octokit` that never downloads an archive (it reads the few base files a merge needs).
   */
  workspaces?: Pick<WorkspaceService, "commitsFor">;
  /** `octoflow_findings_total`, counted where the review output decides a finding's fate. */
  metrics?: Pick<Metrics, "findings">;
}

/** Files larger than this go through `createBlob`; smaller ones inline in the tree. */
const INLINE_MAX_BYTES = 512_000;
/** At most this much inline content per `createTree` request; the rest goes through blobs. */
const INLINE_TOTAL_BYTES = 20_000_000;

function summaryLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.trim().slice(0, 120);
}

/** The branch a pull request opened for this trigger merges into: the PR's own branch for a same-repo PR. */
function targetBranch(trigger: Trigger): string {
  const pr = trigger.pullRequest;
  return trigger.isPullRequest && pr && !pr.fromFork ? pr.headRef : trigger.repo.defaultBranch;
}

type TreeEntry = { path: string; mode: "100644" | "100755"; type: "blob"; sha: string | null } | { path: string; mode: "100644" | "100755"; type: "blob"; content: string };

/**
 * Commits the run's changes and opens or updates the draft pull request.
 * Returns undefined when there was nothing to commit and no pull request exists yet.
 *
 * @param records the run's step records (producing steps and everything upstream of them)
 */
export async function publishPullRequest(deps: OutputDeps, run: RunRecord, records: readonly StepRecord[]): Promise<PullRequestResult | undefined> {
  const { owner, name: repo, defaultBranch } = run.trigger.repo;
  const gh = deps.octokit.rest;
  const title = run.trigger.issue?.title ?? run.workflow;
  // On Octoflow's own pull request: its branch, merging into its base. Otherwise the first branch name
  // chosen for an issue sticks, even when its title changes later.
  const own = ownPullRequestBranch(run.trigger);
  const branch = own ?? (await deps.store.putMarkerIfAbsent(workBranchKey(owner, repo, run.trigger.number), branchName(run.trigger.number, title)));
  const target = own === undefined ? targetBranch(run.trigger) : (run.trigger.pullRequest?.baseRef ?? defaultBranch);
  if (branch === defaultBranch || branch === target) throw new Error(`refusing to push to ${branch}, the branch the pull request would merge into`);

  const workspaces =
    deps.workspaces ??
    createRunWorkspaces({
      store: deps.store,
      sourceFor: (trigger) => createGitHubRepositorySource(() => Promise.resolve(deps.octokit), trigger.repo, deps.store),
      refusePath,
      snapshots: { archive: false },
      log: deps.log,
    });
  const planned = await workspaces.commitsFor(run, records);
  const notes = [...planned.notes];

  let branchHead: string | undefined;
  try {
    branchHead = (await gh.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha;
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
  }
  const branchExisted = branchHead !== undefined;
  if (own !== undefined && !branchExisted && planned.commits.length > 0) throw new Error(`the branch ${own} of pull request #${run.trigger.number} no longer exists`);

  // Our chain: the base, then the commits of steps already committed (by an earlier attempt).
  let tip: { sha: string; tree?: string } = { sha: planned.baseSha };
  const ours = new Set([planned.baseSha]);
  const pending: PlannedCommits["commits"] = [];
  for (const commit of planned.commits) {
    const marker = await deps.store.getMarker(stepCommitKey(String(run.id), commit.stepId));
    if (!marker) {
      pending.push(commit);
      continue;
    }
    const [sha, tree] = marker.split(" ");
    // A marker written before the workspace holds the run id: committed, position unknown.
    tip = sha && tree ? { sha, tree } : { sha: branchHead ?? tip.sha };
    ours.add(tip.sha);
  }

  const commits: string[] = [];
  if (pending.length > 0) {
    if (branchHead !== undefined && !ours.has(branchHead)) {
      // Someone else committed to the bot's branch meanwhile: add our commits on top, merging the files both changed.
      const caught = await catchUpWithBranch(deps, run, { from: tip.sha, head: branchHead, planned, pending });
      notes.push(...caught.notes);
      tip = { sha: branchHead };
    }
    let baseTree = tip.tree ?? (await gh.git.getCommit({ owner, repo, commit_sha: tip.sha })).data.tree.sha;
    const modes = await planned.modes();
    for (const commit of pending) {
      const step = run.plan.steps.find((s) => String(s.id) === commit.stepId);
      const output = records.find((r) => String(r.stepId) === commit.stepId)?.output;
      let inline = 0;
      const entries: TreeEntry[] = [];
      for (const file of commit.files) {
        // The workspace refused the built-in protected paths already; the repository's own list is per run.
        const refused = refusePath(file.path, run.plan.protectedPaths);
        if (refused) {
          notes.push(`Skipped \`${file.path}\` (${refused}).`);
          continue;
        }
        const mode = modes.get(file.path) ?? "100644";
        if (file.content === null) {
          entries.push({ path: file.path, mode, type: "blob", sha: null });
          continue;
        }
        // The base version is read only when the new content holds a secret-looking token (lazy mode reads it from GitHub).
        const secret = addedSecret(file.content) && addedSecret(file.content, (await planned.baseText(file.path)) ?? "");
        if (secret) {
          notes.push(`Refused \`${file.path}\`: the change adds what looks like a live ${secret}. Keep secrets out of the repository (use a placeholder or a secret store).`);
          continue;
        }
        const size = Buffer.byteLength(file.content, "utf8");
        if (size > INLINE_MAX_BYTES || inline + size > INLINE_TOTAL_BYTES) {
          const blob = await gh.git.createBlob({ owner, repo, content: Buffer.from(file.content, "utf8").toString("base64"), encoding: "base64" });
          entries.push({ path: file.path, mode, type: "blob", sha: blob.data.sha });
        } else {
          inline += size;
          entries.push({ path: file.path, mode, type: "blob", content: file.content });
        }
      }
      if (entries.length === 0) continue;
      const tree = await gh.git.createTree({ owner, repo, base_tree: baseTree, tree: entries });
      const name = step ? step.name || String(step.id) : commit.stepId;
      const message = scrubSecrets(`${name}: ${summaryLine(output?.text ?? "") || `${step?.role ?? "step"} changes`}\n\nOctoflow run ${run.id} (${run.workflow}) for #${run.trigger.number}.`);
      const created = await gh.git.createCommit({ owner, repo, message, tree: tree.data.sha, parents: [tip.sha] });
      tip = { sha: created.data.sha, tree: tree.data.sha };
      baseTree = tree.data.sha;
      commits.push(tip.sha);
      // Recorded before the branch moves: a crash from here on re-uses this commit instead of making another.
      await deps.store.setMarker(stepCommitKey(String(run.id), commit.stepId), `${tip.sha} ${tip.tree}`);
    }
  }

  if (planned.commits.length > 0 && tip.sha !== branchHead && tip.sha !== planned.baseSha) {
    if (branchHead !== undefined) await gh.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: tip.sha, force: false });
    else await gh.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: tip.sha });
    branchHead = tip.sha;
  }
  if (branchHead === undefined) return undefined;
  if (own !== undefined) {
    // The pull request exists and says what it is for: its title and body stay as they are.
    const number = run.trigger.number;
    await deps.store.updateRun(run.id, { pullRequestNumber: number });
    return { number, url: run.trigger.issue?.url ?? `https://github.com/${owner}/${repo}/pull/${number}`, branch, head: branchHead, commits, notes };
  }

  const produced: ProducedStep[] = [];
  for (const step of run.plan.steps) {
    const record = records.find((r) => r.stepId === step.id);
    if (step.output === "pull_request" && record?.status === "succeeded" && record.output) produced.push({ step, output: record.output });
  }
  const body = pullRequestBody(run, produced, planned, notes);
  const prKey = pullRequestKey(owner, repo, branch);
  let number = Number((await deps.store.getMarker(prKey)) ?? NaN);
  let url: string | undefined;
  // A branch this call created cannot have an open pull request yet: no need to look for one.
  if (Number.isNaN(number) && branchExisted) {
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
    // Commits made by an earlier attempt of this delivery still deserve their pull request.
    if (planned.commits.length === 0) return undefined;
    const { data } = await gh.pulls.create({ owner, repo, head: branch, base: target, draft: true, title: scrubSecrets(`Octoflow: ${title}`).slice(0, 256), body });
    number = data.number;
    url = data.html_url;
  }
  await deps.store.setMarker(prKey, String(number));
  await deps.store.updateRun(run.id, { pullRequestNumber: number });
  return { number, url, branch, head: branchHead, commits, notes };
}

function pullRequestBody(run: RunRecord, produced: ProducedStep[], planned: PlannedCommits, notes: string[]): string {
  const lines = [
    `This draft pull request was opened by Octoflow's **${run.workflow}** workflow for #${run.trigger.number} (run \`${run.id}\`).`,
    "",
    "### What was done",
    "",
  ];
  const filesOf = new Map(planned.commits.map((c) => [c.stepId, c.files]));
  for (const { step, output } of produced) {
    const files = (filesOf.get(String(step.id)) ?? []).map((f) => `\`${f.path}\`${f.content === null ? " (deleted)" : ""}`).join(", ");
    lines.push(`- **${step.name || step.id}** (${step.role}): ${summaryLine(output.text) || "changes"}${files ? ` — ${files}` : ""}`);
  }
  if (notes.length > 0) lines.push("", "### Notes", "", ...notes.map((n) => `- ${n}`));
  lines.push("", "Review the changes before marking this pull request ready.");
  if (!run.trigger.isPullRequest) lines.push("", `Closes #${run.trigger.number}`);
  // Step texts, paths and notes come from the model: no @mentions, no HTML comments (forged markers).
  return `${PR_MARKER}\n${neutralizeMarkdown(lines.join("\n"))}`.slice(0, 65_000);
}
