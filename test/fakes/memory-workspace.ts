/**
 * A working in-memory run workspace for tests: a Map of base files (the "snapshot" of the base
 * commit) and, per step, the layers of its upstream steps (taken from their persisted outputs'
 * `edits`, applied in plan order) plus its own layer. Path rules, missing files and search behave
 * like the real workspace's snapshot mode. Every view handed out is kept in `views` for assertions.
 */
import { WorkspacePathError } from "../../src/errors/workspace-path-error.ts";
import { globMatcher, normalizeWorkspaceDir, normalizeWorkspacePath } from "../../src/agents/tools/workspace-path.ts";
import { searchLines, unifiedFileDiff } from "../../src/agents/repo-reader-view.ts";
import type { FileChange, RunWorkspaces, SearchHit, WorkspaceView } from "../../src/workspace/workspace-view.ts";

export interface MemoryWorkspaces extends RunWorkspaces {
  /** The views handed out, by step id (the latest per step). */
  readonly views: Map<string, WorkspaceView>;
}

export function createMemoryWorkspaces(files: Record<string, string>, baseSha = "base0000"): MemoryWorkspaces {
  const views = new Map<string, WorkspaceView>();
  return {
    views,
    async viewFor({ plan, step, upstream }) {
      const below = new Map<string, string | null>();
      for (const planned of plan.steps) {
        const output = upstream[String(planned.id)];
        if (!output || planned.id === step.id) continue;
        for (const edit of output.edits ?? []) {
          if (edit.kind === "create") below.set(edit.path, edit.content);
          else if (edit.kind === "delete") below.set(edit.path, null);
          else throw new Error(`memory workspace: upstream step ${planned.id} left a modify edit; layers carry full contents`);
        }
      }
      const view = createMemoryView(files, below, baseSha);
      views.set(String(step.id), view);
      return view;
    },
  };
}

/** One snapshot-mode view: `base` files, `below` (upstream layers), and its own layer. */
export function createMemoryView(base: Record<string, string>, below: Map<string, string | null> = new Map(), baseSha = "base0000"): WorkspaceView {
  const own = new Map<string, string | null>();
  const at = (path: string): string | undefined => {
    for (const layer of [own, below]) if (layer.has(path)) return layer.get(path) ?? undefined;
    return Object.hasOwn(base, path) ? base[path] : undefined;
  };
  const paths = () => {
    const all = new Set(Object.keys(base));
    for (const layer of [below, own]) {
      for (const [p, c] of layer) {
        if (c === null) all.delete(p);
        else all.add(p);
      }
    }
    return [...all].sort();
  };
  return {
    mode: "snapshot",
    baseSha,
    async listFiles(dir, glob) {
      const prefix = dir ? normalizeWorkspaceDir(dir) : "";
      const match = glob ? globMatcher(glob) : undefined;
      return paths().filter((p) => (prefix === "" || p.startsWith(`${prefix}/`)) && (!match || match(p)));
    },
    async readFile(path) {
      return at(normalizeWorkspacePath(path, "read"));
    },
    async search(pattern, options) {
      const match = options?.glob ? globMatcher(options.glob) : undefined;
      const hits: SearchHit[] = [];
      for (const path of paths()) {
        if (match && !match(path)) continue;
        if (searchLines(path, at(path) ?? "", pattern, hits, options?.limit ?? 200)) break;
      }
      return hits;
    },
    async writeFile(path, content) {
      own.set(normalizeWorkspacePath(path, "write"), content);
    },
    async deleteFile(path) {
      const p = normalizeWorkspacePath(path, "write");
      if (at(p) === undefined) throw new WorkspacePathError(path, `${path} does not exist, so it cannot be deleted`);
      own.set(p, null);
    },
    changes() {
      return [...own].map(([path, content]): FileChange => ({ path, content })).sort((a, b) => a.path.localeCompare(b.path));
    },
    async diff(options) {
      const changed = [...new Set([...below.keys(), ...own.keys()])].filter((p) => !options?.paths || options.paths.includes(p)).sort();
      return changed.map((p) => unifiedFileDiff(p, Object.hasOwn(base, p) ? base[p] : undefined, at(p))).join("");
    },
  };
}
