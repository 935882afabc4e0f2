/**
 * A lazy `WorkspaceView` over a `RepoReader`, used when the runner has no run workspace (the CLI
 * before it is wired, tests of single steps): files are read one by one at the step's ref and
 * cached, the upstream steps' edits are applied in plan order, and writes go to an in-memory layer.
 * Like the real workspace's lazy mode, `search` only covers files already read.
 */
import { createTwoFilesPatch } from "diff";
import { WorkspacePathError } from "../errors/workspace-path-error.ts";
import type { RepoReader } from "../workflows/ports.ts";
import type { FileEdit, StepOutput } from "../workflows/types.ts";
import type { FileChange, SearchHit, WorkspaceView } from "../workspace/workspace-view.ts";
import { globMatcher, normalizeWorkspaceDir, normalizeWorkspacePath } from "./tools/workspace-path.ts";
import { replaceOnce } from "./tools/edit-tools.ts";

export interface RepoReaderViewOptions {
  reader: Pick<RepoReader, "listFiles" | "readFile">;
  /** The ref files are read at (the PR head for a pull request, the default branch otherwise). */
  ref: string;
  /** Outputs of the upstream steps in plan order; their layers (`changes`, else `edits`) are applied on top of the ref. */
  upstream?: readonly StepOutput[];
  /** Why the run workspace could not be used (named in the view's notice). */
  unavailable?: string;
}

/**
 * Creates the view.
 *
 * @example
 * const view = createRepoReaderView({ reader, ref: trigger.repo.defaultBranch, upstream: [generateOutput] });
 * await view.writeFile("README.md", "# new\n");
 */
export function createRepoReaderView(options: RepoReaderViewOptions): WorkspaceView {
  const { reader, ref } = options;
  const base = new Map<string, Promise<string | undefined>>();
  const upstream = new Map<string, string | null>();
  const own = new Map<string, string | null>();
  let listing: Promise<string[]> | undefined;
  let upstreamReady: Promise<void> | undefined;

  const readBase = (path: string) => {
    let pending = base.get(path);
    if (!pending) {
      pending = reader.readFile(path, ref);
      base.set(path, pending);
      pending.catch(() => base.delete(path));
    }
    return pending;
  };
  const applyUpstream = async () => {
    for (const output of options.upstream ?? []) {
      if (output.changes) {
        for (const change of output.changes) await applyEdit(change.content === null ? { kind: "delete", path: change.path } : { kind: "create", path: change.path, content: change.content });
      } else {
        for (const edit of output.edits ?? []) await applyEdit(edit);
      }
    }
  };
  const applyEdit = async (edit: FileEdit) => {
    let path: string;
    try {
      path = normalizeWorkspacePath(edit.path, "write");
    } catch {
      return; // publishing refuses it too
    }
    if (edit.kind === "create") upstream.set(path, edit.content);
    else if (edit.kind === "delete") upstream.set(path, null);
    else {
      let content = upstream.has(path) ? upstream.get(path) : await readBase(path);
      for (const block of edit.blocks) {
        if (content === undefined || content === null) return;
        const replaced = replaceOnce(content, block.search, block.replace, path);
        if (!replaced.ok) return;
        content = replaced.content;
      }
      if (typeof content === "string") upstream.set(path, content);
    }
  };
  const ready = () => (upstreamReady ??= applyUpstream());
  const current = async (path: string): Promise<string | undefined> => {
    await ready();
    if (own.has(path)) return own.get(path) ?? undefined;
    if (upstream.has(path)) return upstream.get(path) ?? undefined;
    return readBase(path);
  };
  const allPaths = async (): Promise<string[]> => {
    await ready();
    listing ??= reader.listFiles(ref).then((l) => l.paths);
    const paths = new Set(await listing);
    for (const layer of [upstream, own]) {
      for (const [p, c] of layer) {
        if (c === null) paths.delete(p);
        else paths.add(p);
      }
    }
    return [...paths].sort();
  };

  return {
    mode: "lazy",
    get notice() {
      const why = options.unavailable ? `the run workspace could not be loaded (${options.unavailable.slice(0, 200)}), so there is ` : "";
      return `${why}no snapshot of the repository: search covers only the ${base.size} file${base.size === 1 ? "" : "s"} read so far and the files changed in this run`;
    },
    baseSha: ref,
    async listFiles(dir, glob) {
      const prefix = dir ? normalizeWorkspaceDir(dir) : "";
      const match = glob ? globMatcher(glob) : undefined;
      return (await allPaths()).filter((p) => (prefix === "" || p.startsWith(`${prefix}/`)) && (!match || match(p)));
    },
    async readFile(path) {
      return current(normalizeWorkspacePath(path, "read"));
    },
    async search(pattern, searchOptions) {
      await ready();
      const limit = searchOptions?.limit ?? 200;
      const match = searchOptions?.glob ? globMatcher(searchOptions.glob) : undefined;
      const known = new Set<string>([...base.keys(), ...upstream.keys(), ...own.keys()]);
      const hits: SearchHit[] = [];
      for (const path of [...known].sort()) {
        if (match && !match(path)) continue;
        const content = await current(path).catch(() => undefined);
        if (content === undefined) continue;
        if (searchLines(path, content, pattern, hits, limit)) break;
      }
      return hits;
    },
    async writeFile(path, content) {
      own.set(normalizeWorkspacePath(path, "write"), content);
    },
    async deleteFile(path) {
      const normalised = normalizeWorkspacePath(path, "write");
      if ((await current(normalised)) === undefined) throw new WorkspacePathError(path, `${path} does not exist, so it cannot be deleted`);
      own.set(normalised, null);
    },
    changes() {
      return [...own].map(([path, content]): FileChange => ({ path, content })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async diff(diffOptions) {
      await ready();
      const wanted = diffOptions?.paths ? new Set(diffOptions.paths) : undefined;
      const paths = [...new Set([...upstream.keys(), ...own.keys()])].filter((p) => !wanted || wanted.has(p)).sort();
      const parts: string[] = [];
      for (const path of paths) parts.push(unifiedFileDiff(path, await readBase(path), await current(path)));
      return parts.filter(Boolean).join("");
    },
  };
}

/**
 * Appends the lines of `content` matching `pattern` to `hits`; true once `limit` is reached.
 * A global or sticky pattern is copied without those flags so `test` does not carry state.
 */
export function searchLines(path: string, content: string, pattern: RegExp, hits: SearchHit[], limit: number): boolean {
  const re = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")) : pattern;
  const lines = content.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (re.test(line)) {
      hits.push({ path, line: i + 1, text: line.replace(/\r$/, "") });
      if (hits.length >= limit) return true;
    }
  }
  return false;
}

/** A git-style unified diff of one file (`before`/`after` undefined: absent), or "" when unchanged. */
export function unifiedFileDiff(path: string, before: string | undefined, after: string | undefined): string {
  if (before === after) return "";
  const patch = createTwoFilesPatch(before === undefined ? "/dev/null" : `a/${path}`, after === undefined ? "/dev/null" : `b/${path}`, before ?? "", after ?? "", undefined, undefined, { context: 3 });
  // drop jsdiff's "====" separator line; a git header lets `splitDiff` find the file
  const body = patch.split("\n").filter((line, i) => !(i === 0 && line.startsWith("==="))).join("\n");
  const mode = before === undefined ? "new file mode 100644\n" : after === undefined ? "deleted file mode 100644\n" : "";
  return `diff --git a/${path} b/${path}\n${mode}${body.endsWith("\n") ? body : `${body}\n`}`;
}
