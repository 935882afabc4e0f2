/**
 * When the bot's branch gained commits that are not Octoflow's while a run worked (a maintainer pushed
 * a fix), the run's commits go on top of them: files both changed are merged three-way (the version
 * the run started from as the ancestor); a conflict leaves the run's change of that file out, with a
 * note. Only the files both changed are read from GitHub.
 */
import type { FileChange, RunRecord } from "../../workflows/types.ts";
import { mergeThreeWay } from "../../workspace/compose-layers.ts";
import type { PlannedCommits } from "../../workspace/plan-commits.ts";
import { httpStatus } from "../client.ts";
import type { OutputDeps } from "./pull-request-output.ts";

/** GitHub lists at most this many files in a comparison. */
const COMPARE_FILES_CAP = 300;

/**
 * Rewrites the contents of `pending` (in place) so they apply on top of `head`.
 *
 * @param from the tip of the run's own chain (its base, or its last commit)
 */
export async function catchUpWithBranch(
  deps: Pick<OutputDeps, "octokit">,
  run: RunRecord,
  input: { from: string; head: string; planned: PlannedCommits; pending: PlannedCommits["commits"] },
): Promise<{ notes: string[] }> {
  const { owner, name: repo } = run.trigger.repo;
  const gh = deps.octokit.rest;
  const notes = ["The branch had new commits that were not Octoflow's; this run's commits were added on top of them."];
  const compared = (await gh.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${input.from}...${input.head}` })).data.files ?? [];
  const everything = compared.length >= COMPARE_FILES_CAP;
  const changed = new Set(compared.map((f) => f.filename));

  // The run's own version of each file before a given commit: earlier commits, else the base.
  const runVersion = new Map<string, string | null>();
  for (const commit of input.planned.commits) {
    if (input.pending.includes(commit)) break;
    for (const f of commit.files) runVersion.set(f.path, f.content);
  }
  const branchVersion = new Map<string, string | null>();
  const readAtHead = async (path: string): Promise<string | null> => {
    const known = branchVersion.get(path);
    if (known !== undefined) return known;
    try {
      const { data } = await gh.repos.getContent({ owner, repo, path, ref: input.head, mediaType: { format: "raw" } });
      return typeof data === "string" ? data : null;
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw error;
    }
  };

  for (const commit of input.pending) {
    const kept: FileChange[] = [];
    for (const file of commit.files) {
      const ancestor = runVersion.has(file.path) ? (runVersion.get(file.path) ?? null) : await input.planned.baseText(file.path);
      runVersion.set(file.path, file.content);
      if (!everything && !changed.has(file.path)) {
        kept.push(file);
        continue;
      }
      const theirs = await readAtHead(file.path);
      if (theirs === ancestor) {
        kept.push(file);
        continue;
      }
      const merged = mergeThreeWay(file.path, ancestor === undefined ? null : ancestor, theirs, file.content, ["the branch", commit.stepId]);
      if (merged instanceof Error) {
        notes.push(`\`${file.path}\`: changed on the branch and by step "${commit.stepId}" in the same lines (${merged.lines.from}–${merged.lines.to}); the step's change was left out.`);
        continue;
      }
      branchVersion.set(file.path, merged);
      kept.push({ path: file.path, content: merged });
    }
    commit.files = kept;
  }
  return { notes };
}
