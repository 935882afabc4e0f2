/**
 * What publishing commits: one commit per producing (`pull_request`) step, in plan order, holding the
 * files that step's layer changed in the fold of all producing layers (three-way merged where two of
 * them changed the same file). Computed from the base and the persisted outputs only: nothing is
 * applied or read from the branch at publish time.
 */
import type { FileChange, RunPlan } from "../workflows/types.ts";
import type { BaseFiles, FileMode } from "./base-files.ts";
import type { LayerComposer } from "./compose-layers.ts";

export interface PlannedCommit {
  stepId: string;
  /** Files to write (`content`) or delete (`null`) on top of the previous commit, sorted by path. */
  files: FileChange[];
}

export interface PlannedCommits {
  /** The commit the first commit's parent must be (the run's base). */
  baseSha: string;
  /** One entry per producing step that changed at least one file. */
  commits: PlannedCommit[];
  /** Problems worth telling the user: refused paths, edits that did not apply, conflicts left out. */
  notes: string[];
  /** Base version of a file (for merging with a branch that moved): text, null when absent, or undefined for binary. */
  baseText(path: string): Promise<string | null | undefined>;
  /** Git modes of the written files that exist in the base (an executable stays executable). */
  modes(): Promise<Map<string, FileMode>>;
}

/** @param composer over the run's succeeded outputs and its base files */
export async function planCommits(plan: RunPlan, composer: LayerComposer, base: Pick<BaseFiles, "sha" | "modeOf">): Promise<PlannedCommits> {
  const producing = plan.steps.filter((s) => s.output === "pull_request").map((s) => String(s.id));
  const notes: string[] = [];
  for (const id of producing) notes.push(...(await composer.layerOf(id)).problems);
  const commits: PlannedCommit[] = [];
  await composer.fold(producing, {
    visit(stepId, changed, overlay) {
      if (changed.length === 0) return;
      commits.push({ stepId, files: [...changed].sort().map((path) => ({ path, content: overlay.get(path) ?? null })) });
    },
    onConflict(conflict) {
      notes.push(`${conflict.message} The change of "${conflict.steps[1]}" to \`${conflict.path}\` was left out.`);
    },
  });
  return {
    baseSha: base.sha,
    commits,
    notes,
    async baseText(path) {
      const text = await composer.baseText(path);
      return typeof text === "symbol" ? undefined : text;
    },
    async modes() {
      const modes = new Map<string, FileMode>();
      const written = new Set(commits.flatMap((c) => c.files.filter((f) => f.content !== null).map((f) => f.path)));
      for (const path of written) {
        const mode = await base.modeOf(path);
        if (mode) modes.set(path, mode);
      }
      return modes;
    },
  };
}
