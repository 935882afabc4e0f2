/**
 * `createRunWorkspaces`: the run workspace service (DESIGN D11). Records a run's base commit once (a
 * store marker, so a resume on any replica sees the same base), loads its files (snapshot or lazy,
 * shared by the run's steps), hands out step views built from the persisted upstream outputs, and
 * computes what publishing commits.
 */
import type { Logger } from "pino";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import { WorkspaceConflictError } from "../errors/workspace-conflict-error.ts";
import { workspaceBaseKey } from "../store/marker-keys.ts";
import type { RunStore } from "../workflows/ports.ts";
import type { FileChange, RunPlan, RunRecord, StepOutput, StepRecord, Trigger } from "../workflows/types.ts";
import type { BaseFiles } from "./base-files.ts";
import { createLayerComposer } from "./compose-layers.ts";
import { planCommits, type PlannedCommits } from "./plan-commits.ts";
import type { RepositorySource } from "./repository-source.ts";
import { createSnapshotStore, type SnapshotStore, type SnapshotStoreOptions } from "./snapshot-store.ts";
import { createStepView } from "./step-view.ts";
import type { RunWorkspaces } from "./workspace-view.ts";
import type { RefusePath } from "./workspace-paths.ts";

export interface RunWorkspacesDeps {
  store: Pick<RunStore, "getMarker" | "putMarkerIfAbsent">;
  /** Read access to a trigger's repository (GitHub in the app, a fake in tests). */
  sourceFor: (trigger: Trigger) => RepositorySource;
  /** The protected-path rules of publishing (`refusePath` of `src/github/outputs/edit-paths.ts`). */
  refusePath: RefusePath;
  /** Snapshot cache: folder, size caps. `archive: false` never downloads archives (lazy reads only). */
  snapshots?: SnapshotStoreOptions & { archive?: boolean };
  log?: Pick<Logger, "info" | "warn">;
}

/** The workspace service: step views for the agents, commit contents for publishing. */
export interface WorkspaceService extends RunWorkspaces {
  /** The run's base commit, resolved and recorded on first use. */
  baseOf(run: { runId: string; trigger: Trigger }): Promise<string>;
  /** The run's base files (snapshot, or lazy reads). */
  filesOf(run: { runId: string; trigger: Trigger }): Promise<BaseFiles>;
  /**
   * What a step sees changed against the base (its upstream layers, merged), sorted by path: what a
   * command step writes into a checkout of the base. Throws like `viewFor` on a conflict.
   */
  changesBefore(request: Parameters<RunWorkspaces["viewFor"]>[0]): Promise<{ baseSha: string; changes: FileChange[] }>;
  /** What to commit for each producing (`pull_request`) step, in plan order. */
  commitsFor(run: RunRecord, records: readonly StepRecord[]): Promise<PlannedCommits>;
}

/**
 * @example
 * const workspaces = createRunWorkspaces({ store, sourceFor: githubSources, refusePath, snapshots: { dir: "./data/snapshots" } });
 * const view = await workspaces.viewFor({ runId, trigger, plan, step, upstream });
 */
export function createRunWorkspaces(deps: RunWorkspacesDeps): WorkspaceService {
  const snapshots: SnapshotStore = createSnapshotStore({ ...deps.snapshots, ...(deps.log ? { log: deps.log } : {}) });
  const archive = deps.snapshots?.archive ?? true;

  const baseOf: WorkspaceService["baseOf"] = async ({ runId, trigger }) => {
    const key = workspaceBaseKey(runId);
    const recorded = await deps.store.getMarker(key);
    if (recorded) return recorded;
    return deps.store.putMarkerIfAbsent(key, await deps.sourceFor(trigger).resolveBase(trigger));
  };

  const load = async (run: { runId: string; trigger: Trigger }, fetchArchive: boolean) => {
    const sha = await baseOf(run);
    const { owner, name } = run.trigger.repo;
    return snapshots.load(`${owner}/${name}`, sha, deps.sourceFor(run.trigger), { archive: fetchArchive });
  };
  const filesOf: WorkspaceService["filesOf"] = (run) => load(run, archive);

  const composer = (plan: RunPlan, outputs: ReadonlyMap<string, StepOutput>, base: BaseFiles) => createLayerComposer({ plan, outputs, base, refusePath: deps.refusePath });

  const overlayOf = async ({ runId, trigger, plan, step, upstream }: Parameters<RunWorkspaces["viewFor"]>[0]) => {
    const base = await filesOf({ runId, trigger });
    const outputs = new Map(Object.entries(upstream));
    const stepId = String(step.id);
    // the step itself has no output yet: its view is base + its upstream layers
    outputs.delete(stepId);
    try {
      return { base, overlay: await composer(plan, outputs, base).overlayBefore(stepId) };
    } catch (error) {
      if (error instanceof WorkspaceConflictError) throw new NonRetriableError(`The step "${stepId}" cannot start: ${error.message}`, { cause: error });
      throw error;
    }
  };

  return {
    baseOf,
    filesOf,
    async viewFor(request) {
      const { base, overlay } = await overlayOf(request);
      return createStepView({ base, upstream: overlay, refusePath: deps.refusePath });
    },
    async changesBefore(request) {
      const { base, overlay } = await overlayOf(request);
      const changes = [...overlay].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, content]) => ({ path, content }));
      return { baseSha: base.sha, changes };
    },
    async commitsFor(run, records) {
      // Publishing reads few base files (merges, edits given as search/replace): a cached snapshot or lazy reads, never a new archive download.
      const base = await load({ runId: String(run.id), trigger: run.trigger }, false);
      const outputs = new Map<string, StepOutput>();
      for (const r of records) if (r.status === "succeeded" && r.output) outputs.set(String(r.stepId), r.output);
      return planCommits(run.plan, composer(run.plan, outputs, base), base);
    },
  };
}
