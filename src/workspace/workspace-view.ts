/**
 * The run workspace (DESIGN D11): a snapshot of the run's base commit plus one edit layer per step.
 * A step's view is the base with the layers of its transitive `needs` applied in plan order (three-way
 * merged where two of them changed the same file) and its own, initially empty, layer on top.
 *
 * These are the contracts between the workspace (`src/workspace/`), the agents' tools
 * (`src/agents/tools/`) and publishing (`src/github/outputs/`).
 */
import type { FileChange, PlannedStep, RunPlan, StepOutput, Trigger } from "../workflows/types.ts";

/** One file as a layer leaves it (defined beside `StepOutput`, which persists a step's layer). */
export type { FileChange };

/** A line that matched a workspace search (1-based line number). */
export interface SearchHit {
  path: string;
  line: number;
  text: string;
}

/**
 * What a step sees and edits. Writes go to the step's own layer only; reads see base + upstream
 * layers + the step's layer. Path rules (normalised, relative, no `..`, no `.git/`, protected paths
 * such as `.github/workflows/` refused) are enforced here and reported as a `WorkspacePathError`
 * (`src/errors/`), as are a missing file to delete and a binary file read as text.
 *
 * The runner persists `changes()` as the step's `StepOutput.changes`: downstream views and publishing
 * are rebuilt from those persisted layers, on any replica.
 */
export interface WorkspaceView {
  /**
   * `snapshot`: every file of the base is readable and searchable locally.
   * `lazy`: the archive was unavailable or too large; files are read one by one from GitHub, and
   * `search` only covers files already read (say so to the model and in the step output).
   */
  readonly mode: "snapshot" | "lazy";
  /**
   * What this view cannot do, in words for the model and the step output (set in `lazy` mode, e.g.
   * "search covers only the 12 files read so far"); undefined when the view is complete.
   */
  readonly notice?: string | undefined;
  /** The commit the run started from (recorded on the run, so a resume sees the same base). */
  readonly baseSha: string;
  /**
   * File paths (blobs only) under `dir` (default: the root), optionally filtered by a glob matched
   * against the full path (`*` stays inside one folder, `**` spans folders; a glob without `/` such as
   * `*.ts` matches the file name in any folder), sorted.
   */
  listFiles(dir?: string, glob?: string): Promise<string[]>;
  /** The file's content in this view, or undefined when it does not exist (binary files throw). */
  readFile(path: string): Promise<string | undefined>;
  /** Lines matching `pattern` across the view's text files, in path order (bounded by `limit`, default 200). */
  search(pattern: RegExp, options?: { glob?: string; limit?: number }): Promise<SearchHit[]>;
  /** Creates or replaces a file in this step's layer. */
  writeFile(path: string, content: string): Promise<void>;
  /** Deletes a file in this step's layer (an error when it does not exist in the view). */
  deleteFile(path: string): Promise<void>;
  /** This step's own layer so far, sorted by path. */
  changes(): FileChange[];
  /** Unified diff of this view (upstream layers and this step's layer) against the base. */
  diff(options?: { paths?: string[] }): Promise<string>;
}

/**
 * Hands out step views. Implemented by `src/workspace/` over the repository archive (or lazy reads);
 * the agent runner asks for a view per step attempt.
 */
export interface RunWorkspaces {
  /**
   * The view for one step of a run: base + the layers of the step's transitive needs (taken from the
   * persisted upstream step outputs), merged three-way; throws a non-retriable error naming the file,
   * the lines and both steps when two upstream layers conflict.
   */
  viewFor(request: { runId: string; trigger: Trigger; plan: RunPlan; step: PlannedStep; upstream: Readonly<Record<string, StepOutput>> }): Promise<WorkspaceView>;
}
