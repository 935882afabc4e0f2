/**
 * A step's `WorkspaceView`: the base files, the merged layers of its upstream steps (an overlay), and
 * its own layer on top. Reads and searches see all three; writes go to the own layer.
 */
import { createTwoFilesPatch } from "diff";
import picomatch from "picomatch";
import { WorkspacePathError } from "../errors/workspace-path-error.ts";
import type { FileChange } from "../workflows/types.ts";
import type { BaseFiles } from "./base-files.ts";
import type { Overlay } from "./compose-layers.ts";
import type { SearchHit, WorkspaceView } from "./workspace-view.ts";
import { normalizeDir, normalizePath, writablePath, type RefusePath } from "./workspace-paths.ts";

/** Largest file a step may write (5 MB): the workspace holds text sources, not build artefacts. */
export const MAX_WRITE_BYTES = 5_000_000;
const MAX_HIT_TEXT = 400;

export interface StepViewInput {
  base: BaseFiles;
  /** Files changed by the step's upstream layers. */
  upstream: Overlay;
  refusePath: RefusePath;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * @example
 * const view = createStepView({ base: snapshotFromTexts("sha", { "a.txt": "x\n" }), upstream: new Map(), refusePath });
 * await view.writeFile("b.txt", "y\n");
 * view.changes(); // [{ path: "b.txt", content: "y\n" }]
 */
export function createStepView(input: StepViewInput): WorkspaceView {
  const { base, upstream } = input;
  const own = new Map<string, string | null>();

  /** Content before the step's own layer: undefined = absent; throws for binary files. */
  const before = async (path: string): Promise<string | undefined> => {
    if (upstream.has(path)) return upstream.get(path) ?? undefined;
    const file = await base.read(path);
    if (!file) return undefined;
    if (file.kind === "binary") throw new WorkspacePathError(path, `${path}: a binary file (${file.size} bytes); it cannot be read or searched as text`);
    return file.text;
  };
  const current = async (path: string) => (own.has(path) ? (own.get(path) ?? undefined) : before(path));
  const exists = async (path: string) => {
    if (own.has(path)) return own.get(path) !== null;
    if (upstream.has(path)) return upstream.get(path) !== null;
    return (await base.read(path)) !== undefined;
  };
  const overlaid = (): Map<string, string | null> => new Map([...upstream, ...own]);
  const matcher = (glob: string | undefined) => (glob ? picomatch(glob, { dot: true, basename: !glob.includes("/") }) : () => true);

  const allPaths = async (paths: readonly string[]) => {
    const set = new Set(paths);
    for (const [path, content] of overlaid()) {
      if (content === null) set.delete(path);
      else set.add(path);
    }
    return [...set].sort(byPath);
  };

  const view: WorkspaceView = {
    mode: base.mode,
    baseSha: base.sha,
    get notice() {
      return base.notice();
    },
    async listFiles(dir, glob) {
      const prefix = normalizeDir(dir);
      const match = matcher(glob);
      return (await allPaths(await base.paths())).filter((p) => (prefix === "" || p.startsWith(`${prefix}/`)) && match(p));
    },
    async readFile(raw) {
      return current(normalizePath(raw));
    },
    async search(pattern, options = {}) {
      const limit = Math.max(1, options.limit ?? 200);
      const match = matcher(options.glob);
      const flags = `${pattern.flags.replace(/[gmy]/g, "")}gm`;
      const regex = new RegExp(pattern.source, flags);
      const hits: SearchHit[] = [];
      for (const path of await allPaths(await base.searchable())) {
        if (!match(path)) continue;
        let text: string | undefined;
        try {
          text = await current(path);
        } catch (error) {
          if (error instanceof WorkspacePathError) continue; // binary
          throw error;
        }
        if (text === undefined) continue;
        if (searchText(path, text, regex, hits, limit)) break;
      }
      return hits;
    },
    async writeFile(raw, content) {
      const path = writablePath(raw, input.refusePath);
      if (Buffer.byteLength(content, "utf8") > MAX_WRITE_BYTES) throw new WorkspacePathError(raw, `${path}: the content is larger than ${MAX_WRITE_BYTES / 1_000_000} MB`);
      own.set(path, content);
    },
    async deleteFile(raw) {
      const path = writablePath(raw, input.refusePath);
      if (!(await exists(path))) throw new WorkspacePathError(raw, `${path}: cannot delete a file that does not exist`);
      const existedBefore = upstream.has(path) ? upstream.get(path) !== null : (await base.read(path)) !== undefined;
      if (existedBefore) own.set(path, null);
      else own.delete(path);
    },
    changes(): FileChange[] {
      return [...own].sort(([a], [b]) => byPath(a, b)).map(([path, content]) => ({ path, content }));
    },
    async diff(options = {}) {
      const wanted = options.paths ? new Set(options.paths.map((p) => normalizePath(p))) : undefined;
      const parts: string[] = [];
      for (const [path, content] of [...overlaid()].sort(([a], [b]) => byPath(a, b))) {
        if (wanted && !wanted.has(path)) continue;
        const file = await base.read(path);
        if (file?.kind === "binary") {
          parts.push(`diff --git a/${path} b/${path}\n${content === null ? "deleted file mode 100644\n" : ""}Binary files differ\n`);
          continue;
        }
        const old = file?.text;
        if (old === (content ?? undefined)) continue;
        parts.push(unifiedDiff(path, old, content ?? undefined));
      }
      return parts.join("");
    },
  };
  return view;
}

/** Git-style unified diff of one file (`undefined` = absent), parseable by `parseUnifiedDiff`. */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  const header = [`diff --git a/${path} b/${path}`];
  if (before === undefined) header.push("new file mode 100644");
  if (after === undefined) header.push("deleted file mode 100644");
  const patch = createTwoFilesPatch(before === undefined ? "/dev/null" : `a/${path}`, after === undefined ? "/dev/null" : `b/${path}`, before ?? "", after ?? "", undefined, undefined, { context: 3 });
  return `${header.join("\n")}\n${patch.replace(/^=+\n/, "")}`;
}

/** Appends the lines of `text` matching `regex` (global, multiline) to `hits`; true once `limit` is reached. */
function searchText(path: string, text: string, regex: RegExp, hits: SearchHit[], limit: number): boolean {
  regex.lastIndex = 0;
  let line = 1;
  let counted = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    for (let i = text.indexOf("\n", counted); i !== -1 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    const start = text.lastIndexOf("\n", m.index - 1) + 1;
    let end = text.indexOf("\n", m.index);
    if (end < 0) end = text.length;
    hits.push({ path, line, text: text.slice(start, Math.min(end, start + MAX_HIT_TEXT)).replace(/\r$/, "") });
    if (hits.length >= limit) return true;
    // one hit per line: continue after this line
    line++;
    counted = end + 1;
    if (end >= text.length) break;
    regex.lastIndex = end + 1;
  }
  return false;
}
