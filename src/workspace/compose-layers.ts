/**
 * Composes step layers over the base (DESIGN D11). A step's layer is its persisted `changes` (or, for
 * an answer given as `edits`, those edits applied to the step's own view). Layers are folded in plan
 * order; where a later layer changes a file an earlier one changed too, the two are merged three-way
 * against the version the later step started from (node-diff3). Everything here is a pure function of
 * the base and the persisted outputs, so any replica rebuilds the same views and commits.
 */
import { diff3Merge } from "node-diff3";
import { WorkspaceConflictError } from "../errors/workspace-conflict-error.ts";
import { WorkspacePathError } from "../errors/workspace-path-error.ts";
import type { FileChange, RunPlan, StepOutput } from "../workflows/types.ts";
import { applyEdits } from "./apply-edits.ts";
import type { BaseFiles } from "./base-files.ts";
import { writablePath, type RefusePath } from "./workspace-paths.ts";

/** Files changed relative to the base: path → content, `null` when deleted. */
export type Overlay = ReadonlyMap<string, string | null>;

export interface Layer {
  changes: FileChange[];
  /** Parts of the step's output that could not become part of its layer (refused path, edit not applicable). */
  problems: string[];
}

export interface LayerComposer {
  /** The step's own layer. */
  layerOf(stepId: string): Promise<Layer>;
  /** What the step sees before its own layer: the layers of its transitive needs, merged. */
  overlayBefore(stepId: string): Promise<Overlay>;
  /**
   * Folds the layers of `stepIds` in plan order. `visit` is called after each step with the paths it
   * changed in the fold. A conflict throws a `WorkspaceConflictError`, unless `onConflict` is given:
   * then the earlier content is kept and the conflict reported to it.
   */
  fold(stepIds: readonly string[], options?: { visit?: (stepId: string, changed: string[], overlay: Overlay) => void; onConflict?: (conflict: WorkspaceConflictError) => void }): Promise<Overlay>;
  /** The base version of a file: text, `null` when absent, `binary` when not text. */
  baseText(path: string): Promise<string | null | typeof BINARY>;
}

export const BINARY = Symbol("binary");

/**
 * @param outputs persisted outputs of the run's succeeded steps, by step id
 */
export function createLayerComposer(input: { plan: RunPlan; outputs: ReadonlyMap<string, StepOutput>; base: BaseFiles; refusePath: RefusePath }): LayerComposer {
  const order = new Map(input.plan.steps.map((s, i) => [String(s.id), i]));
  const needs = new Map(input.plan.steps.map((s) => [String(s.id), s.needs.map(String)]));
  const closures = new Map<string, string[]>();
  const layers = new Map<string, Promise<Layer>>();
  const overlays = new Map<string, Promise<Overlay>>();

  const closure = (id: string): string[] => {
    const known = closures.get(id);
    if (known) return known;
    const seen = new Set<string>();
    const visit = (s: string) => {
      for (const n of needs.get(s) ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        visit(n);
      }
    };
    visit(id);
    const sorted = [...seen].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    closures.set(id, sorted);
    return sorted;
  };

  const baseText = async (path: string): Promise<string | null | typeof BINARY> => {
    const file = await input.base.read(path);
    if (!file) return null;
    return file.kind === "text" ? file.text : BINARY;
  };

  const computeLayer = async (id: string): Promise<Layer> => {
    const output = input.outputs.get(id);
    if (!output) return { changes: [], problems: [] };
    if (output.changes) {
      const problems: string[] = [];
      const changes: FileChange[] = [];
      for (const change of output.changes) {
        try {
          changes.push({ path: writablePath(change.path, input.refusePath), content: change.content });
        } catch (error) {
          if (!(error instanceof WorkspacePathError)) throw error;
          problems.push(`Skipped ${error.message}`);
        }
      }
      return { changes, problems };
    }
    if (!output.edits || output.edits.length === 0) return { changes: [], problems: [] };
    const before = await overlayBefore(id);
    const read = async (path: string) => {
      if (before.has(path)) return before.get(path) ?? undefined;
      const text = await baseText(path);
      return typeof text === "string" ? text : undefined;
    };
    const applied = await applyEdits(output.edits, read, input.refusePath);
    return { changes: applied.changes, problems: applied.problems.map((p) => `Could not apply an edit of step "${id}": ${p}`) };
  };

  const layerOf = (id: string) => {
    let layer = layers.get(id);
    if (!layer) {
      layer = computeLayer(id);
      layers.set(id, layer);
    }
    return layer;
  };

  const fold: LayerComposer["fold"] = async (stepIds, options = {}) => {
    const acc = new Map<string, { content: string | null; by: string }>();
    const view = new Map<string, string | null>();
    const sorted = [...stepIds].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    for (const id of sorted) {
      const { changes } = await layerOf(id);
      const changed: string[] = [];
      if (changes.length > 0) {
        const before = await overlayBefore(id);
        for (const change of changes) {
          const prev = acc.get(change.path);
          let next = change.content;
          if (prev && prev.content !== next) {
            const ancestor = before.has(change.path) ? (before.get(change.path) ?? null) : await baseText(change.path);
            if (prev.content === ancestor) next = change.content;
            else if (next === ancestor) next = prev.content;
            else {
              const merged = mergeThreeWay(change.path, ancestor, prev.content, next, [prev.by, id]);
              if (merged instanceof WorkspaceConflictError) {
                if (!options.onConflict) throw merged;
                options.onConflict(merged);
                continue;
              }
              next = merged;
            }
          }
          if (prev?.content === next) continue;
          acc.set(change.path, { content: next, by: id });
          view.set(change.path, next);
          changed.push(change.path);
        }
      }
      options.visit?.(id, changed, view);
    }
    return view;
  };

  const overlayBefore = (id: string): Promise<Overlay> => {
    let overlay = overlays.get(id);
    if (!overlay) {
      overlay = fold(closure(id));
      overlays.set(id, overlay);
    }
    return overlay;
  };

  return { layerOf, overlayBefore, fold, baseText };
}

/**
 * Three-way merge of one file (`null` = absent/deleted). Returns the merged text or the conflict.
 * A deletion against a change, binary content, or overlapping changes of the same lines conflict.
 */
export function mergeThreeWay(
  path: string,
  ancestor: string | null | typeof BINARY,
  ours: string | null,
  theirs: string | null,
  steps: [string, string],
): string | null | WorkspaceConflictError {
  if (ours === theirs) return ours;
  if (ancestor === BINARY || ours === null || theirs === null) {
    const lines = typeof ancestor === "string" ? ancestor.split("\n").length : 1;
    return new WorkspaceConflictError({ path, steps, lines: { from: 1, to: Math.max(1, lines) } });
  }
  const regions = diff3Merge(ours.split("\n"), (ancestor ?? "").split("\n"), theirs.split("\n"), { excludeFalseConflicts: true });
  const out: string[] = [];
  for (const region of regions) {
    if (region.ok) out.push(...region.ok);
    else if (region.conflict) {
      const from = region.conflict.oIndex + 1;
      return new WorkspaceConflictError({ path, steps, lines: { from, to: from + Math.max(0, region.conflict.o.length - 1) } });
    }
  }
  return out.join("\n");
}
